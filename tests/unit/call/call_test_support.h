// A SIP endpoint on a fake UDP transport with the B2BUA behind it: a
// Registrar with bindings added directly, a DigestAuthenticator, an
// in-memory extension directory, the fake media sessions and a CDR sink that
// keeps the records; all on a ManualClock. Helpers build INVITEs as a phone
// would (digest answer included) and read what the PBX sent where.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "fakes/fake_media_sessions.h"
#include "pbx/call/b2bua.h"
#include "register_test_support.h"

namespace duplex::call::test {

class FakeDirectory final : public ExtensionDirectory {
 public:
  std::map<std::string, ExtensionFeatures, std::less<>> extensions;
  std::optional<ExtensionFeatures> find(std::string_view number) const override {
    auto it = extensions.find(number);
    if (it == extensions.end()) return std::nullopt;
    return it->second;
  }
};

class RecordingSink final : public CallRecordSink {
 public:
  std::vector<db::CallRecord> records;
  void write(db::CallRecord record) override { records.push_back(std::move(record)); }
};

// Addresses: the PBX is 192.0.2.10:5060 (LAN 192.0.2.0/24), main address
// 203.0.113.1. Caller 101 at 192.0.2.21:5062; callee phones of 102 at
// 192.0.2.22:5064 and 198.51.100.7:40123 (a WAN phone behind NAT).
inline const sip::Endpoint kCallerPhone{"192.0.2.21", 5062};
inline const sip::Endpoint kCalleePhone{"192.0.2.22", 5064};
inline const sip::Endpoint kRemotePhone{"198.51.100.7", 40123};

struct Invite {
  std::string from{"101"};
  std::string to{"102"};
  std::string callId{"call-1"};
  std::uint32_t cseq{1};
  std::string branch{"z9hG4bKinv1"};
  std::string sdpIp{"192.0.2.21"};
  std::string extra{};  // header lines, CRLF-terminated
  bool withSdp{true};
};

std::string offerSdp(const std::string& ip, int port);
// The value of header `name` (a HeaderId or a name) as the far phone reads
// it, or "<absent>".
template <class Name>
std::string headerOf(const sip::Message& m, Name name) {
  auto v = m.header(name);
  return v ? std::string(*v) : std::string("<absent>");
}

class CallFixture : public ::testing::Test {
 protected:
  CallFixture();

  void addExtension(const std::string& number, const std::string& password, std::int64_t id);
  void bind(const std::string& number, const sip::Endpoint& phone, const std::string& contactUser,
            const std::string& callId = "");
  registrar::Instant wallNow() const;
  void advance(std::chrono::milliseconds delta);

  // Sends text from `from`; returns what the PBX sent during the call.
  std::vector<Sent> deliver(const std::string& text, const sip::Endpoint& from);
  std::string inviteText(const Invite& invite, const std::string& auth = "");
  // 407, then the INVITE with credentials; returns what the second sent.
  std::vector<Sent> authenticatedInvite(const Invite& invite);
  std::string proxyAuthorization(const sip::Message& challenge, const std::string& user,
                                 const std::string& password, const std::string& uri);
  // A response to request `req` from its phone, with To tag `tag`.
  std::string responseTo(const sip::Message& req, int status, const std::string& reason,
                         const std::string& tag, const std::string& body = "",
                         const std::string& contact = "");
  // An in-dialog request from a phone, built from the message it last got.
  std::string inDialogRequest(const std::string& method, const std::string& requestUri,
                              const std::string& from, const std::string& to,
                              const std::string& callId, std::uint32_t cseq, const std::string& via,
                              const std::string& body = "");

  static std::vector<sip::Message> parseAll(const std::vector<Sent>& sent);
  static const Sent* findSent(const std::vector<Sent>& sent, const std::string& startLine,
                              const sip::Endpoint* to = nullptr);
  static sip::Message parse(const Sent& s);

  sip::ManualClock clock;
  sip::ManualClock::TimePoint start = clock.now();
  FakeTransport udp;
  sip::SipEndpoint endpoint{clock, sip::EndpointOptions{"Duplex PBX test", {"100rel"}, {}}};
  NullSink sink;
  registrar::Registrar registrar{registrar::RegistrarConfig{}, sink};
  registrar::AuthFailureCounter failures;
  registrar::DigestAuthenticator authenticator;
  FakeCredentials credentials;
  FakeDirectory directory;
  ConfiguredAddressChoice addresses{"203.0.113.1", {"192.0.2.0/24"}, "192.0.2.10"};
  fakes::FakeMediaSessions media;
  RecordingSink records;
  CallSettings settings;
  std::unique_ptr<B2bua> b2bua;
  std::map<std::string, std::string> passwords;
  int branches = 0;
};

}  // namespace duplex::call::test
