// Call control with trunks, as the provider and the phones see it: the INVITE
// the provider gets (number after digit manipulation, From, Contact and SDP
// on the public address, codecs filtered), the digest answer to its 407 on
// INVITE, re-INVITE and BYE, failover to the next trunk, the refusals a user
// hears (403 with the reason), inbound calls by DID without a challenge, and
// the call records.
#include <map>

#include "call_test_support.h"
#include "fakes/fake_trunk_directory.h"
#include "pbx/call/digest_headers.h"

namespace duplex::call::test {
namespace {

using namespace std::chrono_literals;

// Providers on the internet side; the PBX's main address is 203.0.113.1.
const sip::Endpoint kMainProvider{"198.51.100.50", 5060};
const sip::Endpoint kBackupProvider{"198.51.100.60", 5070};
const sip::Endpoint kStranger{"198.51.100.99", 5060};
constexpr std::string_view kProviderRealm = "sip.main.example";
const std::vector<std::uint8_t> kProviderSecret(32, 0x42);

class TrunkCall : public CallFixture {
 protected:
  TrunkCall() {
    TrunkConfig main;
    main.id = 1;
    main.name = "main";
    main.host = "sip.main.example";
    main.username = "4930555";
    main.password = "prov-pass";
    main.codecs = {"PCMA"};
    TrunkConfig backup;
    backup.id = 2;
    backup.name = "backup";
    backup.host = "backup.example";
    backup.port = 5070;
    backup.username = "backupuser";
    backup.password = "backup-pass";
    backup.callerId = "4930999";
    backup.fromDomain = "voip.backup.example";
    trunks.trunkList = {main, backup};
    OutboundRoute national;
    national.id = 10;
    national.name = "national";
    national.position = 1;
    national.pattern = "0Z.";
    national.trunkIds = {1, 2};
    national.stripDigits = 1;
    national.prefix = "+49";
    OutboundRoute intl;
    intl.id = 11;
    intl.name = "international";
    intl.position = 2;
    intl.pattern = "00Z.";
    intl.trunkIds = {1};
    intl.stripDigits = 2;
    intl.prefix = "+";
    trunks.routes = {national, intl};
    trunks.numbers = {{1, "4930555100", "102", std::nullopt}, {2, "4930999200", "103", 2}};
    publishAddresses();
    b2bua->setTrunks(trunks, trunkAddresses);
  }

  void publishAddresses() {
    trunkAddresses.publish(
        resolveTrunks(trunks.trunkList, [this](const std::string& host, std::string& error) {
          auto it = dns.find(host);
          if (it == dns.end()) {
            error = "cannot resolve " + host + ": Name or service not known";
            return std::vector<std::string>{};
          }
          return std::vector<std::string>{it->second};
        }));
  }

  // 101 dials `number`; returns what the PBX sent after the authenticated INVITE.
  std::vector<Sent> dial(const std::string& number, const std::string& from = "101",
                         const std::string& callId = "call-1") {
    Invite inv;
    inv.from = from;
    inv.to = number;
    inv.callId = callId;
    inv.branch = "z9hG4bK" + callId;
    return authenticatedInvite(inv);
  }

  // A 407 from the provider with its own challenges.
  std::string providerChallenge(const sip::Message& request, int status = 407) {
    sip::Message r = sip::Message::responseTo(
        request, status, status == 401 ? "Unauthorized" : "Proxy Authentication Required", "");
    for (const auto& c : provider.challenge(1'700'000'000)) {
      r.addHeader(status == 401 ? "WWW-Authenticate" : "Proxy-Authenticate", formatChallenge(c));
    }
    return r.serialize();
  }

  // The provider checks the PBX's answer like a real one would.
  registrar::AuthOutcome providerVerifies(const sip::Message& request, bool proxy = true) {
    const std::vector<sip::Credentials> lines =
        proxy ? request.proxyAuthorizations() : request.authorizations();
    auto creds = selectCredentials(lines, kProviderRealm);
    if (!creds) return registrar::AuthOutcome::kMalformed;
    EXPECT_EQ(creds->uri, request.requestUriText());
    const std::string md5 =
        registrar::ha1(registrar::DigestAlgorithm::kMd5, "4930555", kProviderRealm, "prov-pass");
    const std::string sha =
        registrar::ha1(registrar::DigestAlgorithm::kSha256, "4930555", kProviderRealm, "prov-pass");
    return provider
        .verify(*creds, request.methodToken(), registrar::StoredHa1{md5, sha, kProviderRealm},
                {"203.0.113.1", ""}, 1'700'000'000)
        .outcome;
  }

  std::string inboundInvite(const std::string& did, const std::string& callId = "in-1") {
    const std::string body = offerSdp("198.51.100.50", 30000);
    std::string t = "INVITE sip:" + did + "@203.0.113.1 SIP/2.0\r\n";
    t += "Via: SIP/2.0/UDP 198.51.100.50:5060;branch=z9hG4bK" + callId + "\r\n";
    t += "Max-Forwards: 70\r\n";
    t += "From: <sip:+441234567@sip.main.example>;tag=prov1\r\n";
    t += "To: <sip:" + did + "@203.0.113.1>\r\n";
    t += "Call-ID: " + callId + "\r\nCSeq: 1 INVITE\r\n";
    t += "Contact: <sip:gw@198.51.100.50:5060>\r\n";
    t += "Content-Type: application/sdp\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
    return t;
  }

  fakes::FakeTrunkDirectory trunks;
  TrunkAddressCache trunkAddresses;
  std::map<std::string, std::string> dns{{"sip.main.example", "198.51.100.50"},
                                         {"backup.example", "198.51.100.60"}};
  registrar::AuthFailureCounter providerFailures;
  registrar::DigestAuthenticator provider{kProviderSecret, kProviderRealm, providerFailures};
};

TEST_F(TrunkCall, OutboundInviteCarriesManipulatedNumberPublicAddressAndAllowedCodecs) {
  auto sent = dial("030123456");
  const Sent* out = findSent(sent, "INVITE ", &kMainProvider);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(findSent(sent, "SIP/2.0 407"), nullptr);
  sip::Message inv = parse(*out);
  EXPECT_EQ(inv.requestUriText(), "sip:+4930123456@sip.main.example");
  EXPECT_EQ(inv.requestUri().user(), "+4930123456");
  EXPECT_EQ(inv.from()->uri.user(), "4930555");
  EXPECT_EQ(inv.from()->uri.host(), "sip.main.example");
  EXPECT_EQ(inv.to()->uri.user(), "+4930123456");
  // Behind NAT: the provider gets the public address in Via, Contact and SDP.
  EXPECT_EQ(inv.topVia()->host, "203.0.113.1");
  auto contacts = inv.contacts();
  ASSERT_TRUE(contacts);
  EXPECT_EQ(contacts->entries[0].address.uri.host(), "203.0.113.1");
  EXPECT_NE(inv.body().find("c=IN IP4 203.0.113.1"), std::string_view::npos);
  // The trunk allows PCMA only: PCMU (0) and its rtpmap are gone.
  EXPECT_NE(inv.body().find("m=audio 40002 RTP/AVP 8\r\n"), std::string_view::npos) << inv.body();
  EXPECT_EQ(inv.body().find("rtpmap:0"), std::string_view::npos);
}

// The registration's view of us (public address, UPnP-mapped SIP port).
class MappedContact final : public TrunkContactChoice {
 public:
  AdvertisedContact contactFor(std::string_view, sip::Transport) const override {
    return {"203.0.113.1", 15060, true};
  }
};

TEST_F(TrunkCall, ContactTowardTheProviderUsesTheMappedPortLikeTheRegistration) {
  MappedContact mapped;
  b2bua->setTrunks(trunks, trunkAddresses, &mapped);
  auto sent = dial("030123456");
  const Sent* out = findSent(sent, "INVITE ", &kMainProvider);
  ASSERT_NE(out, nullptr);
  sip::Message inv = parse(*out);
  EXPECT_EQ(inv.contacts()->entries[0].address.uri.port(), 15060);
  EXPECT_EQ(inv.topVia()->port, 15060);
  // Inbound: the 200 to the provider carries the same Contact.
  bind("102", kCalleePhone, "bob");
  auto in = deliver(inboundInvite("4930555100"), kMainProvider);
  sip::Message leg = parse(*findSent(in, "INVITE ", &kCalleePhone));
  auto answered = deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  const Sent* ok = findSent(answered, "SIP/2.0 200", &kMainProvider);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(parse(*ok).contacts()->entries[0].address.uri.port(), 15060);
}

TEST_F(TrunkCall, ProviderChallengeAnsweredOnInviteAndByeThenRecordNamesTheTrunk) {
  auto sent = dial("030123456");
  sip::Message first = parse(*findSent(sent, "INVITE ", &kMainProvider));
  auto again = deliver(providerChallenge(first), kMainProvider);
  const Sent* retry = findSent(again, "INVITE ", &kMainProvider);
  ASSERT_NE(retry, nullptr);
  sip::Message inv = parse(*retry);
  EXPECT_EQ(providerVerifies(inv), registrar::AuthOutcome::kOk);
  EXPECT_EQ(inv.cseq()->number, 2u);
  EXPECT_EQ(inv.callId(), first.callId());
  EXPECT_EQ(inv.from()->tag(), first.from()->tag());
  EXPECT_NE(inv.topVia()->branch, first.topVia()->branch);
  EXPECT_EQ(findSent(again, "SIP/2.0 ", &kCallerPhone), nullptr);  // the caller saw nothing

  auto answered = deliver(responseTo(inv, 200, "OK", "provtag", offerSdp("198.51.100.50", 20000),
                                     "sip:gw@198.51.100.50:5060"),
                          kMainProvider);
  ASSERT_NE(findSent(answered, "SIP/2.0 200", &kCallerPhone), nullptr);
  const Sent* ack = findSent(answered, "ACK sip:gw@198.51.100.50:5060", &kMainProvider);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(parse(*ack).cseq()->number, 2u);  // the ACK names the INVITE that was answered

  // The caller hangs up; the provider challenges the BYE too.
  sip::Message ok = parse(*findSent(answered, "SIP/2.0 200", &kCallerPhone));
  auto bye = deliver(inDialogRequest("BYE", "sip:101@192.0.2.10", "<sip:101@pbx.test>;tag=calltag1",
                                     std::string(*ok.header(sip::HeaderId::kTo)), "call-1", 3,
                                     kCallerPhone.toString()),
                     kCallerPhone);
  const Sent* byeOut = findSent(bye, "BYE ", &kMainProvider);
  ASSERT_NE(byeOut, nullptr);
  sip::Message b = parse(*byeOut);
  auto byeAgain = deliver(providerChallenge(b), kMainProvider);
  const Sent* byeRetry = findSent(byeAgain, "BYE ", &kMainProvider);
  ASSERT_NE(byeRetry, nullptr);
  sip::Message b2 = parse(*byeRetry);
  EXPECT_EQ(providerVerifies(b2), registrar::AuthOutcome::kOk);
  EXPECT_EQ(b2.cseq()->number, b.cseq()->number + 1);
  deliver(responseTo(b2, 200, "OK", "provtag"), kMainProvider);

  ASSERT_EQ(records.records.size(), 1u);
  const db::CallRecord& r = records.records[0];
  EXPECT_EQ(r.trunk, "main");
  EXPECT_EQ(r.dialled, "030123456");
  EXPECT_EQ(r.sentNumber, "+4930123456");
  EXPECT_EQ(r.callee, "+4930123456");
  EXPECT_EQ(r.disposition, db::Disposition::answered);
}

TEST_F(TrunkCall, ReInviteTowardTheProviderIsResentWithCredentials) {
  auto sent = dial("030123456");
  sip::Message inv = parse(*findSent(sent, "INVITE ", &kMainProvider));
  auto answered = deliver(responseTo(inv, 200, "OK", "provtag", offerSdp("198.51.100.50", 20000),
                                     "sip:gw@198.51.100.50:5060"),
                          kMainProvider);
  sip::Message ok = parse(*findSent(answered, "SIP/2.0 200", &kCallerPhone));
  const std::string to(*ok.header(sip::HeaderId::kTo));
  // Hold from the caller.
  auto re =
      deliver(inDialogRequest("INVITE", "sip:101@192.0.2.10", "<sip:101@pbx.test>;tag=calltag1", to,
                              "call-1", 3, kCallerPhone.toString(), offerSdp("192.0.2.21", 4000)),
              kCallerPhone);
  const Sent* reOut = findSent(re, "INVITE ", &kMainProvider);
  ASSERT_NE(reOut, nullptr);
  sip::Message r1 = parse(*reOut);
  auto again = deliver(providerChallenge(r1), kMainProvider);
  const Sent* retry = findSent(again, "INVITE ", &kMainProvider);
  ASSERT_NE(retry, nullptr) << "the re-INVITE was not re-sent after the 407";
  sip::Message r2 = parse(*retry);
  EXPECT_EQ(providerVerifies(r2), registrar::AuthOutcome::kOk);
  EXPECT_EQ(r2.cseq()->number, r1.cseq()->number + 1);
  EXPECT_EQ(findSent(again, "SIP/2.0 500", &kCallerPhone), nullptr);
  auto done = deliver(responseTo(r2, 200, "OK", "provtag", offerSdp("198.51.100.50", 20000),
                                 "sip:gw@198.51.100.50:5060"),
                      kMainProvider);
  EXPECT_NE(findSent(done, "SIP/2.0 200", &kCallerPhone), nullptr);
  EXPECT_NE(findSent(done, "ACK ", &kMainProvider), nullptr);
  // A later request on the dialog uses a CSeq above the re-sent one.
  auto bye = deliver(inDialogRequest("BYE", "sip:101@192.0.2.10", "<sip:101@pbx.test>;tag=calltag1",
                                     to, "call-1", 4, kCallerPhone.toString()),
                     kCallerPhone);
  const Sent* byeOut = findSent(bye, "BYE ", &kMainProvider);
  ASSERT_NE(byeOut, nullptr);
  EXPECT_GT(parse(*byeOut).cseq()->number, r2.cseq()->number);
}

TEST_F(TrunkCall, EarlyUpdateTowardTheProviderIsResentWithCredentials) {
  auto sent = dial("030123456");
  sip::Message inv = parse(*findSent(sent, "INVITE ", &kMainProvider));
  auto early = deliver(responseTo(inv, 183, "Session Progress", "provtag",
                                  offerSdp("198.51.100.50", 20000), "sip:gw@198.51.100.50:5060"),
                       kMainProvider);
  const Sent* toCaller = findSent(early, "SIP/2.0 183", &kCallerPhone);
  ASSERT_NE(toCaller, nullptr);
  const std::string to(*parse(*toCaller).header(sip::HeaderId::kTo));
  auto up =
      deliver(inDialogRequest("UPDATE", "sip:101@192.0.2.10", "<sip:101@pbx.test>;tag=calltag1", to,
                              "call-1", 3, kCallerPhone.toString(), offerSdp("192.0.2.21", 4002)),
              kCallerPhone);
  const Sent* first = findSent(up, "UPDATE ", &kMainProvider);
  ASSERT_NE(first, nullptr);
  sip::Message u1 = parse(*first);
  auto again = deliver(providerChallenge(u1), kMainProvider);
  const Sent* retry = findSent(again, "UPDATE ", &kMainProvider);
  ASSERT_NE(retry, nullptr) << "the early UPDATE was not re-sent after the 407";
  sip::Message u2 = parse(*retry);
  EXPECT_EQ(providerVerifies(u2), registrar::AuthOutcome::kOk);
  EXPECT_EQ(u2.cseq()->number, u1.cseq()->number + 1);
  auto done = deliver(responseTo(u2, 200, "OK", "provtag", offerSdp("198.51.100.50", 20000)),
                      kMainProvider);
  EXPECT_NE(findSent(done, "SIP/2.0 200", &kCallerPhone), nullptr);
}

TEST_F(TrunkCall, FailoverToTheNextTrunkOn503) {
  auto sent = dial("030123456");
  sip::Message first = parse(*findSent(sent, "INVITE ", &kMainProvider));
  auto next = deliver(responseTo(first, 503, "Service Unavailable", "x"), kMainProvider);
  const Sent* backup = findSent(next, "INVITE ", &kBackupProvider);
  ASSERT_NE(backup, nullptr);
  sip::Message inv = parse(*backup);
  EXPECT_EQ(inv.requestUriText(), "sip:+4930123456@backup.example:5070");
  EXPECT_EQ(inv.from()->uri.user(), "4930999");  // the backup trunk's caller ID
  EXPECT_EQ(inv.from()->uri.host(), "voip.backup.example");
  EXPECT_NE(inv.body().find("RTP/AVP 0 8"), std::string_view::npos);  // no codec list
  EXPECT_EQ(findSent(next, "SIP/2.0 ", &kCallerPhone), nullptr);
  deliver(
      responseTo(inv, 200, "OK", "b", offerSdp("198.51.100.60", 20000), "sip:b@198.51.100.60:5070"),
      kBackupProvider);
  EXPECT_EQ(b2bua->stats().answered, 1u);
}

TEST_F(TrunkCall, UnresolvableTrunkIsSkippedAndAllFailedGives503) {
  dns.erase("sip.main.example");
  publishAddresses();
  auto sent = dial("030123456");
  EXPECT_EQ(findSent(sent, "INVITE ", &kMainProvider), nullptr);
  const Sent* backup = findSent(sent, "INVITE ", &kBackupProvider);
  ASSERT_NE(backup, nullptr);
  auto end = deliver(responseTo(parse(*backup), 500, "Server Error", "b"), kBackupProvider);
  const Sent* fail = findSent(end, "SIP/2.0 503", &kCallerPhone);
  ASSERT_NE(fail, nullptr);
  EXPECT_EQ(parse(*fail).reasonPhrase(),
            "Service Unavailable (no trunk of route national took the call)");
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_NE(records.records[0].hangupCause.find(
                "main: cannot resolve sip.main.example: Name or service not known"),
            std::string::npos)
      << records.records[0].hangupCause;
  EXPECT_NE(records.records[0].hangupCause.find("backup: 500 Server Error"), std::string::npos);
}

TEST_F(TrunkCall, TimeoutFailsOver) {
  auto sent = dial("030123456");
  ASSERT_NE(findSent(sent, "INVITE ", &kMainProvider), nullptr);
  const std::size_t before = udp.sent.size();
  advance(33s);  // Timer B (64*T1)
  std::vector<Sent> later(udp.sent.begin() + static_cast<std::ptrdiff_t>(before), udp.sent.end());
  EXPECT_NE(findSent(later, "INVITE ", &kBackupProvider), nullptr);
}

TEST_F(TrunkCall, BusyFromTheProviderReachesTheCallerWithoutFailover) {
  auto sent = dial("030123456");
  sip::Message first = parse(*findSent(sent, "INVITE ", &kMainProvider));
  auto next = deliver(responseTo(first, 486, "Busy Here", "x"), kMainProvider);
  EXPECT_EQ(findSent(next, "INVITE ", &kBackupProvider), nullptr);
  EXPECT_NE(findSent(next, "SIP/2.0 486", &kCallerPhone), nullptr);
}

TEST_F(TrunkCall, InternationalDeniedByDefaultThenAllowed) {
  auto sent = dial("0044207123");
  const Sent* no = findSent(sent, "SIP/2.0 403", &kCallerPhone);
  ASSERT_NE(no, nullptr);
  EXPECT_EQ(parse(*no).reasonPhrase(), "Forbidden (international calls not allowed for 101)");
  EXPECT_EQ(findSent(sent, "INVITE ", &kMainProvider), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].hangupCause,
            "403 Forbidden (international calls not allowed for 101)");

  directory.extensions["101"].permissions = db::CallPermission::international;
  sent = dial("0044207123", "101", "call-2");
  const Sent* out = findSent(sent, "INVITE ", &kMainProvider);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(parse(*out).requestUri().user(), "+44207123");
}

TEST_F(TrunkCall, PerExtensionOutsideCallLimit) {
  directory.extensions["101"].maxOutsideCalls = 1;
  auto first = dial("030111", "101", "call-a");
  ASSERT_NE(findSent(first, "INVITE ", &kMainProvider), nullptr);
  auto second = dial("030222", "101", "call-b");
  const Sent* no = findSent(second, "SIP/2.0 403", &kCallerPhone);
  ASSERT_NE(no, nullptr);
  EXPECT_EQ(parse(*no).reasonPhrase(), "Forbidden (101 reached its limit of 1 outside call)");
  // Another extension is not limited by 101's calls.
  auto other = dial("030333", "102", "call-c");
  EXPECT_NE(findSent(other, "INVITE ", &kMainProvider), nullptr);
  // When 101's call ends, it may call out again.
  deliver(responseTo(parse(*findSent(first, "INVITE ", &kMainProvider)), 486, "Busy Here", "x"),
          kMainProvider);
  auto third = dial("030444", "101", "call-d");
  EXPECT_NE(findSent(third, "INVITE ", &kMainProvider), nullptr);
}

TEST_F(TrunkCall, FullTrunkIsSkipped) {
  trunks.trunkList[0].maxCalls = 1;
  auto first = dial("030111", "101", "call-a");
  ASSERT_NE(findSent(first, "INVITE ", &kMainProvider), nullptr);
  auto second = dial("030222", "102", "call-b");
  EXPECT_EQ(findSent(second, "INVITE ", &kMainProvider), nullptr);
  EXPECT_NE(findSent(second, "INVITE ", &kBackupProvider), nullptr);
}

TEST_F(TrunkCall, InboundDidRingsTheExtensionWithoutChallenge) {
  bind("102", kCalleePhone, "bob");
  auto sent = deliver(inboundInvite("4930555100"), kMainProvider);
  EXPECT_EQ(findSent(sent, "SIP/2.0 407"), nullptr);
  const Sent* ring = findSent(sent, "INVITE ", &kCalleePhone);
  ASSERT_NE(ring, nullptr);
  sip::Message leg = parse(*ring);
  EXPECT_EQ(leg.requestUriText(), "sip:bob@192.0.2.22:5064");
  EXPECT_EQ(leg.from()->uri.user(), "+441234567");  // the outside caller's number
  auto answered = deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  const Sent* ok = findSent(answered, "SIP/2.0 200", &kMainProvider);
  ASSERT_NE(ok, nullptr);
  // The provider gets the public address for media and signalling.
  EXPECT_NE(parse(*ok).body().find("c=IN IP4 203.0.113.1"), std::string_view::npos);
  const sip::Message okMessage = parse(*ok);  // contacts() views into it
  auto contacts = okMessage.contacts();
  ASSERT_TRUE(contacts);
  EXPECT_EQ(contacts->entries[0].address.uri.host(), "203.0.113.1");
}

TEST_F(TrunkCall, InboundUnknownDidIs404OrTheDefault) {
  bind("103", kCalleePhone, "carol");
  auto sent = deliver(inboundInvite("4930555999"), kMainProvider);
  const Sent* nf = findSent(sent, "SIP/2.0 404");
  ASSERT_NE(nf, nullptr);
  EXPECT_EQ(parse(*nf).reasonPhrase(), "Not Found (unknown number 4930555999)");
  // A number bound to the backup trunk does not ring when main sends it.
  sent = deliver(inboundInvite("4930999200", "in-2"), kMainProvider);
  EXPECT_NE(findSent(sent, "SIP/2.0 404"), nullptr);
  trunks.rules.inboundDefault = "103";
  sent = deliver(inboundInvite("4930555999", "in-3"), kMainProvider);
  EXPECT_NE(findSent(sent, "INVITE ", &kCalleePhone), nullptr);
}

TEST_F(TrunkCall, ProviderCallingTheRegisteredContactNamesTheDidInTo) {
  bind("102", kCalleePhone, "bob");
  std::string invite = inboundInvite("4930555100");
  // Request-URI: our registered contact (the trunk account), DID in To.
  invite.replace(0, invite.find(" SIP/2.0"), "INVITE sip:4930555@203.0.113.1:5060");
  auto sent = deliver(invite, kMainProvider);
  EXPECT_NE(findSent(sent, "INVITE ", &kCalleePhone), nullptr);
  ASSERT_EQ(records.records.size(), 0u);
}

TEST_F(TrunkCall, InviteFromAnUnknownSourceIsStillChallenged) {
  bind("102", kCalleePhone, "bob");
  auto sent = deliver(inboundInvite("4930555100"), kStranger);
  EXPECT_NE(findSent(sent, "SIP/2.0 407"), nullptr);
  EXPECT_EQ(findSent(sent, "INVITE ", &kCalleePhone), nullptr);
}

TEST_F(TrunkCall, ExtraAddressesAreAcceptedAsTheTrunk) {
  bind("102", kCalleePhone, "bob");
  trunks.trunkList[0].extraAddresses = {"198.51.100.96/28"};
  publishAddresses();
  auto sent = deliver(inboundInvite("4930555100"), kStranger);
  EXPECT_EQ(findSent(sent, "SIP/2.0 407"), nullptr);
  EXPECT_NE(findSent(sent, "INVITE ", &kCalleePhone), nullptr);
}

TEST_F(TrunkCall, NoRouteMatchesKeeps404) {
  auto sent = dial("5555");
  EXPECT_NE(findSent(sent, "SIP/2.0 404", &kCallerPhone), nullptr);
}

}  // namespace
}  // namespace duplex::call::test
