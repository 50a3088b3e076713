// A SIP endpoint on a fake UDP transport with a RegisterHandler, a Registrar
// and a DigestAuthenticator behind it, driven by a ManualClock; and helpers
// that build REGISTERs and answer digest challenges like a phone would.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "pbx/call/register_handler.h"
#include "pbx/sip/endpoint.h"
#include "registrar/digest.h"

namespace duplex::call::test {

struct Sent {
  std::string wire;
  sip::Destination to;
};

class FakeTransport final : public sip::SipTransport {
 public:
  sip::Transport protocol() const override { return sip::Transport::kUdp; }
  const sip::Endpoint& localEndpoint() const override { return local_; }
  void setHandlers(sip::TransportHandlers) override {}
  sip::SendResult send(std::string_view bytes, const sip::Destination& to) override {
    sent.push_back({std::string(bytes), to});
    return {true, 0};
  }
  const sip::TransportCounters& counters() const override { return counters_; }

  std::vector<Sent> sent;

 private:
  sip::Endpoint local_{"192.0.2.10", 5060};
  sip::TransportCounters counters_;
};

class FakeCredentials final : public CredentialSource {
 public:
  std::map<std::string, ExtensionCredentials, std::less<>> users;
  // An enabled extension with both HA1s of `password` for `realm`.
  void add(const std::string& number, const std::string& password, std::int64_t id,
           std::string_view realm) {
    using registrar::DigestAlgorithm;
    users[number] =
        ExtensionCredentials{id,
                             number,
                             registrar::ha1(DigestAlgorithm::kMd5, number, realm, password),
                             registrar::ha1(DigestAlgorithm::kSha256, number, realm, password),
                             std::string(realm),
                             true};
  }
  std::optional<ExtensionCredentials> find(std::string_view user) const override {
    auto it = users.find(user);
    if (it == users.end()) return std::nullopt;
    return it->second;
  }
};

class NullSink final : public registrar::BindingSink {
 public:
  int changes = 0;
  void onBindingsChanged(std::span<const db::BindingRecord>,
                         std::span<const db::BindingKey>) override {
    ++changes;
  }
};

inline constexpr std::string_view kRealm = "pbx.test";
inline const sip::Endpoint kLocal{"192.0.2.10", 5060};

inline sip::Origin udpFrom(const std::string& ip, std::uint16_t port) {
  return sip::Origin{sip::Transport::kUdp, kLocal, {ip, port}, 0};
}

struct RegisterSpec {
  std::string user = "101";
  std::string toUser;  // defaults to user
  std::string contact = "<sip:101@198.51.100.20:5060>";
  std::string callId = "reg-call-1";
  std::uint32_t cseq = 1;
  std::string via = "198.51.100.20:5060";
  std::string extra;  // more header lines, CRLF-terminated
};

std::string registerText(const RegisterSpec& spec, const std::string& branch);

class RegisterFixture : public ::testing::Test {
 protected:
  RegisterFixture();

  void addUser(const std::string& number, const std::string& password, std::int64_t id);
  registrar::Instant wallNow() const;
  // Sends one request; returns the response sent back (parsed).
  sip::Message exchange(const std::string& text, const sip::Origin& origin);
  // The REGISTER answered with digest credentials computed for `challenge`.
  std::string authorization(const sip::Message& challenge, const std::string& user,
                            const std::string& password, registrar::DigestAlgorithm algorithm,
                            const std::string& nc = "00000001",
                            const std::string& uri = "sip:pbx.test");
  // Challenge, then answer it with SHA-256; returns the final response.
  sip::Message registerWithAuth(RegisterSpec spec, const std::string& password,
                                const sip::Origin& origin);
  void advance(std::chrono::milliseconds delta);

  sip::ManualClock clock;
  sip::ManualClock::TimePoint start = clock.now();
  FakeTransport udp;
  sip::SipEndpoint endpoint{clock, sip::EndpointOptions{"Duplex PBX test", {}, {}}};
  NullSink sink;
  registrar::Registrar registrar{registrar::RegistrarConfig{}, sink};
  registrar::AuthFailureCounter failures;
  registrar::DigestAuthenticator authenticator;
  FakeCredentials credentials;
  RegisterHandler handler;
  int branches = 0;
};

std::vector<std::string> headerValues(const sip::Message& m, std::string_view name);

}  // namespace duplex::call::test
