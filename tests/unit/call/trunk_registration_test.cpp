// The trunk registration client against a scripted provider: a real
// SipEndpoint over a fake UDP transport on a ManualClock; the test reads the
// REGISTERs the PBX put on the wire, answers them as the provider would, and
// advances time instead of sleeping.
#include "pbx/call/trunk_registration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "register_test_support.h"
#include "registrar/digest.h"

namespace duplex::call::test {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

const sip::Endpoint kProvider{"198.51.100.20", 5060};
constexpr std::int64_t kWallStart = 1'800'000'000;

class FakeContacts final : public TrunkContactChoice {
 public:
  AdvertisedContact contact{"203.0.113.1", 5060, true};
  AdvertisedContact contactFor(std::string_view, sip::Transport) const override { return contact; }
};

class FakeResolver final : public HostResolver {
 public:
  std::vector<std::pair<std::string, std::function<void(std::optional<std::string>, std::string)>>>
      asked;
  void resolve(const std::string& host,
               std::function<void(std::optional<std::string>, std::string)> done) override {
    asked.emplace_back(host, std::move(done));
  }
};

TrunkConfig trunk(std::int64_t id = 1) {
  TrunkConfig t;
  t.id = id;
  t.name = "provider-" + std::to_string(id);
  t.host = kProvider.ip;
  t.port = kProvider.port;
  t.username = "4930123";
  t.password = "trunk-secret";
  t.registerIntervalSeconds = 600;
  return t;
}

class TrunkRegistrationTest : public ::testing::Test {
 protected:
  TrunkRegistrationTest() {
    endpoint.addTransport(udp);
    TrunkRegistrations::Options options;
    options.userAgent = "Duplex test";
    options.keepAlive = seconds(25);
    regs = std::make_unique<TrunkRegistrations>(
        endpoint, clock, [this] { return wall(); }, contacts, resolver, options,
        registrar::DigestClient([] { return std::string("0a1b2c3d4e5f6789"); }));
  }

  std::int64_t wall() const {
    return kWallStart + std::chrono::duration_cast<seconds>(clock.now() - start).count();
  }

  void advance(seconds s) {
    clock.advance(s);
    regs->onTimer(clock.now());
    endpoint.onTimer(clock.now());
  }

  // The messages sent since the last call, parsed.
  std::vector<sip::Message> sent() {
    std::vector<sip::Message> out;
    for (std::size_t i = seen; i < udp.sent.size(); ++i) {
      auto m = sip::Message::parse(udp.sent[i].wire);
      EXPECT_TRUE(m.ok()) << udp.sent[i].wire;
      if (m) out.push_back(std::move(m).value());
    }
    seen = udp.sent.size();
    return out;
  }
  // The one REGISTER sent since the last call.
  sip::Message onlyRegister() {
    auto all = sent();
    std::vector<sip::Message> regsSent;
    for (auto& m : all) {
      if (m.isRequest() && m.method() == sip::Method::kRegister) regsSent.push_back(std::move(m));
    }
    EXPECT_EQ(regsSent.size(), 1u);
    if (regsSent.empty()) return sip::Message::request(sip::Method::kRegister, "sip:none");
    return std::move(regsSent.front());
  }

  void answer(const sip::Message& req, int status, const std::string& reason,
              const std::vector<std::pair<std::string, std::string>>& headers = {}) {
    sip::Message r = sip::Message::responseTo(req, status, reason, "provtag");
    for (const auto& [name, value] : headers) r.addHeader(name, value);
    endpoint.onMessage(r.serialize(), sip::Origin{sip::Transport::kUdp, kLocal, kProvider, 0});
  }

  std::string challenge(const std::string& nonce, const std::string& algorithm = "MD5",
                        bool stale = false) {
    return "Digest realm=\"provider.example\", nonce=\"" + nonce + "\", algorithm=" + algorithm +
           ", qop=\"auth\"" + (stale ? ", stale=true" : "");
  }

  TrunkRegistrationStatus status(std::int64_t id = 1) {
    for (auto& s : regs->status()) {
      if (s.trunkId == id) return s;
    }
    ADD_FAILURE() << "no status for trunk " << id;
    return {};
  }

  // Registers trunk() through one MD5 challenge; returns the 200's request.
  sip::Message registerOnce(std::uint32_t granted = 600) {
    regs->update({trunk()});
    advance(seconds(0));
    sip::Message first = onlyRegister();
    answer(first, 401, "Unauthorized", {{"WWW-Authenticate", challenge("n1")}});
    sip::Message second = onlyRegister();
    answer(second, 200, "OK",
           {{"Contact", "<" + status().contact + ">;expires=" + std::to_string(granted)}});
    return second;
  }

  sip::ManualClock clock;
  sip::ManualClock::TimePoint start = clock.now();
  FakeTransport udp;
  sip::SipEndpoint endpoint{clock, sip::EndpointOptions{"Duplex PBX test", {}, {}}};
  FakeContacts contacts;
  FakeResolver resolver;
  std::unique_ptr<TrunkRegistrations> regs;
  std::size_t seen = 0;
};

TEST_F(TrunkRegistrationTest, FirstRegisterGoesToTheProviderWithThePublicContact) {
  regs->update({trunk()});
  EXPECT_EQ(status().state, TrunkRegistrationState::registering);
  advance(seconds(0));
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(udp.sent[0].to.endpoint, kProvider);
  sip::Message reg = onlyRegister();
  EXPECT_EQ(reg.requestUriText(), "sip:198.51.100.20");
  EXPECT_EQ(*reg.header("To"), "<sip:4930123@198.51.100.20>");
  EXPECT_EQ(*reg.header("Contact"), "<sip:4930123@203.0.113.1:5060>");
  EXPECT_EQ(*reg.header("Expires"), "600");
  EXPECT_THAT(std::string(*reg.header("Via")), HasSubstr("SIP/2.0/UDP 203.0.113.1:5060;rport"));
  EXPECT_FALSE(reg.header("Authorization").has_value());
  EXPECT_EQ(status().contact, "sip:4930123@203.0.113.1:5060");
}

TEST_F(TrunkRegistrationTest, ChallengeIsAnsweredWithTheRightDigestAndRegisters) {
  regs->update({trunk()});
  advance(seconds(0));
  sip::Message first = onlyRegister();
  answer(first, 401, "Unauthorized", {{"WWW-Authenticate", challenge("n1", "SHA-256")}});
  sip::Message second = onlyRegister();
  // Same Call-ID, CSeq one up (RFC 3261 10.2.4).
  EXPECT_EQ(*second.callId(), *first.callId());
  EXPECT_EQ(second.cseq()->number, first.cseq()->number + 1);
  const auto auth = second.authorizations();
  ASSERT_EQ(auth.size(), 1u);
  EXPECT_EQ(*auth[0].param("username"), "4930123");
  EXPECT_EQ(*auth[0].param("realm"), "provider.example");
  EXPECT_EQ(*auth[0].param("uri"), "sip:198.51.100.20");
  const std::string ha1 = registrar::ha1(registrar::DigestAlgorithm::kSha256, "4930123",
                                         "provider.example", "trunk-secret");
  EXPECT_EQ(*auth[0].param("response"),
            registrar::computeResponse(registrar::DigestAlgorithm::kSha256, ha1, "n1",
                                       *auth[0].param("nc"), *auth[0].param("cnonce"), "auth",
                                       "REGISTER", "sip:198.51.100.20"));
  answer(second, 200, "OK", {{"Contact", "<sip:4930123@203.0.113.1:5060>;expires=300"}});
  const auto s = status();
  EXPECT_EQ(s.state, TrunkRegistrationState::registered);
  EXPECT_EQ(s.registeredUntil, kWallStart + 300);
  EXPECT_EQ(s.lastError, "");
}

TEST_F(TrunkRegistrationTest, RefreshesAtHalfTheGrantedExpiryWithTheSameCallId) {
  contacts.contact.behindNat = false;
  const sip::Message registered = registerOnce(600);
  EXPECT_EQ(status().nextAttempt, kWallStart + 300);
  advance(seconds(299));
  for (auto& m : sent()) EXPECT_NE(m.method(), sip::Method::kRegister);
  advance(seconds(1));
  sip::Message refresh = onlyRegister();
  EXPECT_EQ(*refresh.callId(), *registered.callId());
  EXPECT_EQ(refresh.cseq()->number, registered.cseq()->number + 1);
  // Answered ahead with the last nonce, nc counting on.
  ASSERT_EQ(refresh.authorizations().size(), 1u);
  EXPECT_EQ(*refresh.authorizations()[0].param("nonce"), "n1");
  EXPECT_EQ(*refresh.authorizations()[0].param("nc"), "00000002");
}

TEST_F(TrunkRegistrationTest, BehindNatTheRefreshIsCapped) {
  registerOnce(3600);
  EXPECT_EQ(status().nextAttempt, kWallStart + TrunkRegistrations::kNatRefreshCap.count());
}

TEST_F(TrunkRegistrationTest, ForbiddenStopsUntilTheSettingsChange) {
  regs->update({trunk()});
  advance(seconds(0));
  answer(onlyRegister(), 403, "Forbidden");
  auto s = status();
  EXPECT_EQ(s.state, TrunkRegistrationState::failed);
  EXPECT_EQ(s.lastError, "403 Forbidden");
  EXPECT_EQ(s.nextAttempt, std::nullopt);
  advance(seconds(3600));
  EXPECT_TRUE(sent().empty());
  // Same settings again: still stopped.
  regs->update({trunk()});
  advance(seconds(1));
  EXPECT_TRUE(sent().empty());
  // A new password: tries again at once.
  TrunkConfig fixed = trunk();
  fixed.password = "new-secret";
  regs->update({fixed});
  advance(seconds(0));
  onlyRegister();
  EXPECT_EQ(status().state, TrunkRegistrationState::registering);
}

TEST_F(TrunkRegistrationTest, SecondChallengeForTheSameNonceMeansWrongCredentials) {
  regs->update({trunk()});
  advance(seconds(0));
  answer(onlyRegister(), 401, "Unauthorized", {{"WWW-Authenticate", challenge("n1")}});
  answer(onlyRegister(), 401, "Unauthorized", {{"WWW-Authenticate", challenge("n1")}});
  const auto s = status();
  EXPECT_EQ(s.state, TrunkRegistrationState::failed);
  EXPECT_THAT(s.lastError, HasSubstr("refused the credentials"));
  advance(seconds(3600));
  EXPECT_TRUE(sent().empty());
}

TEST_F(TrunkRegistrationTest, StaleNonceIsAnsweredAgain) {
  registerOnce(600);
  advance(seconds(300));
  sip::Message refresh = onlyRegister();
  answer(refresh, 401, "Unauthorized", {{"WWW-Authenticate", challenge("n1", "MD5", true)}});
  sip::Message again = onlyRegister();
  answer(again, 200, "OK", {{"Expires", "600"}});
  EXPECT_EQ(status().state, TrunkRegistrationState::registered);
}

TEST_F(TrunkRegistrationTest, ProxyChallengeGetsProxyAuthorization) {
  regs->update({trunk()});
  advance(seconds(0));
  answer(onlyRegister(), 407, "Proxy Authentication Required",
         {{"Proxy-Authenticate", challenge("p1")}});
  sip::Message second = onlyRegister();
  EXPECT_EQ(second.proxyAuthorizations().size(), 1u);
  EXPECT_TRUE(second.authorizations().empty());
}

TEST_F(TrunkRegistrationTest, ARealmOtherThanTheConfiguredOneIsRefused) {
  TrunkConfig t = trunk();
  t.realm = "other.example";
  regs->update({t});
  advance(seconds(0));
  answer(onlyRegister(), 401, "Unauthorized", {{"WWW-Authenticate", challenge("n1")}});
  EXPECT_TRUE(sent().empty());
  EXPECT_THAT(status().lastError, HasSubstr("realm \"provider.example\""));
  EXPECT_EQ(status().state, TrunkRegistrationState::failed);
}

TEST_F(TrunkRegistrationTest, ServiceUnavailableBacksOffDoubling) {
  regs->update({trunk()});
  advance(seconds(0));
  answer(onlyRegister(), 503, "Service Unavailable");
  EXPECT_EQ(status().state, TrunkRegistrationState::failed);
  EXPECT_EQ(status().lastError, "503 Service Unavailable");
  EXPECT_EQ(status().nextAttempt, wall() + 30);
  advance(seconds(29));
  EXPECT_TRUE(sent().empty());
  advance(seconds(1));
  answer(onlyRegister(), 503, "Service Unavailable");
  EXPECT_EQ(status().nextAttempt, wall() + 60);
  advance(seconds(60));
  answer(onlyRegister(), 500, "Server Internal Error");
  EXPECT_EQ(status().nextAttempt, wall() + 120);
  // Retry-After wins over the backoff.
  advance(seconds(120));
  answer(onlyRegister(), 503, "Service Unavailable", {{"Retry-After", "45"}});
  EXPECT_EQ(status().nextAttempt, wall() + 45);
  // Recovery resets the backoff.
  advance(seconds(45));
  answer(onlyRegister(), 200, "OK", {{"Expires", "600"}});
  EXPECT_EQ(status().state, TrunkRegistrationState::registered);
}

TEST_F(TrunkRegistrationTest, BackoffIsCappedAtTenMinutes) {
  regs->update({trunk()});
  advance(seconds(0));
  std::vector<std::int64_t> waits;
  for (int i = 0; i < 7; ++i) {
    answer(onlyRegister(), 500, "Server Internal Error");
    ASSERT_TRUE(status().nextAttempt.has_value());
    waits.push_back(*status().nextAttempt - wall());
    advance(seconds(waits.back()));
  }
  EXPECT_THAT(waits, ::testing::ElementsAre(30, 60, 120, 240, 480, 600, 600));
}

TEST_F(TrunkRegistrationTest, NoAnswerIsATimeoutFailure) {
  regs->update({trunk()});
  advance(seconds(0));
  onlyRegister();
  // Timer F: 64*T1 = 32 s; retransmissions meanwhile.
  for (int i = 0; i < 33; ++i) advance(seconds(1));
  EXPECT_EQ(status().state, TrunkRegistrationState::failed);
  EXPECT_THAT(status().lastError, HasSubstr("408"));
  EXPECT_TRUE(status().nextAttempt.has_value());
}

TEST_F(TrunkRegistrationTest, IntervalTooBriefRetriesWithMinExpires) {
  regs->update({trunk()});
  advance(seconds(0));
  answer(onlyRegister(), 423, "Interval Too Brief", {{"Min-Expires", "1800"}});
  sip::Message again = onlyRegister();
  EXPECT_EQ(*again.header("Expires"), "1800");
}

TEST_F(TrunkRegistrationTest, PublicAddressChangeReRegistersAtOnceAndDropsTheOldContact) {
  registerOnce(600);
  contacts.contact.host = "203.0.113.77";
  regs->addressChanged();
  advance(seconds(0));
  sip::Message reg = onlyRegister();
  const auto values = reg.headerValues("Contact");
  ASSERT_EQ(values.size(), 2u);
  EXPECT_EQ(values[0], "<sip:4930123@203.0.113.77:5060>");
  EXPECT_EQ(values[1], "<sip:4930123@203.0.113.1:5060>;expires=0");
  answer(reg, 200, "OK", {{"Contact", "<sip:4930123@203.0.113.77:5060>;expires=600"}});
  EXPECT_EQ(status().contact, "sip:4930123@203.0.113.77:5060");
}

TEST_F(TrunkRegistrationTest, OptionsKeepAliveGoesOnAfter405) {
  contacts.contact.behindNat = false;
  registerOnce(600);
  advance(seconds(25));
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].method(), sip::Method::kOptions);
  answer(out[0], 405, "Method Not Allowed");
  EXPECT_EQ(status().lastKeepAliveStatus, 405);
  advance(seconds(25));
  out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].method(), sip::Method::kOptions);
}

TEST_F(TrunkRegistrationTest, TwoUnansweredKeepAlivesRegisterAgainAtOnce) {
  contacts.contact.behindNat = false;
  registerOnce(600);
  for (int i = 0; i < 2; ++i) {
    advance(seconds(25));
    // The OPTIONS goes unanswered: its retransmissions, then Timer F (32 s).
    for (int k = 0; k < 33; ++k) advance(seconds(1));
  }
  EXPECT_EQ(status().lastKeepAliveStatus, 408);
  bool registered = false;
  for (auto& m : sent()) registered = registered || m.method() == sip::Method::kRegister;
  EXPECT_TRUE(registered) << "no REGISTER after two unanswered keep-alives";
  // Well before the refresh that was due at 300 s.
  EXPECT_LT(wall() - kWallStart, 120);
}

TEST_F(TrunkRegistrationTest, DisablingUnregistersWithExpiresZero) {
  registerOnce(600);
  TrunkConfig off = trunk();
  off.enabled = false;
  regs->update({off});
  sip::Message unreg = onlyRegister();
  EXPECT_EQ(*unreg.header("Expires"), "0");
  EXPECT_EQ(*unreg.header("Contact"), "<sip:4930123@203.0.113.1:5060>");
  EXPECT_EQ(status().state, TrunkRegistrationState::disabled);
  // The provider challenges the removal: answered once.
  answer(unreg, 401, "Unauthorized", {{"WWW-Authenticate", challenge("n2")}});
  sip::Message answered = onlyRegister();
  EXPECT_EQ(*answered.header("Expires"), "0");
  EXPECT_EQ(answered.authorizations().size(), 1u);
  answer(answered, 200, "OK");
  advance(seconds(3600));
  for (auto& m : sent()) EXPECT_NE(m.method(), sip::Method::kRegister);
}

TEST_F(TrunkRegistrationTest, DeletingAndStoppingUnregister) {
  registerOnce(600);
  regs->update({});
  sip::Message unreg = onlyRegister();
  EXPECT_EQ(*unreg.header("Expires"), "0");
  EXPECT_TRUE(regs->status().empty());
  EXPECT_EQ(regs->pendingUnregisters(), 1u);
  answer(unreg, 200, "OK");
  EXPECT_EQ(regs->pendingUnregisters(), 0u);

  registerOnce(600);
  regs->stop();
  unreg = onlyRegister();
  EXPECT_EQ(*unreg.header("Expires"), "0");
  answer(unreg, 200, "OK");
  EXPECT_EQ(regs->pendingUnregisters(), 0u);
  advance(seconds(3600));
  for (auto& m : sent()) EXPECT_NE(m.method(), sip::Method::kRegister);
}

TEST_F(TrunkRegistrationTest, StatesOfTrunksThatDoNotRegister) {
  TrunkConfig off = trunk(1);
  off.enabled = false;
  TrunkConfig ip = trunk(2);
  ip.registration = false;
  regs->update({off, ip});
  EXPECT_EQ(status(1).state, TrunkRegistrationState::disabled);
  EXPECT_EQ(status(2).state, TrunkRegistrationState::notRequired);
  advance(seconds(0));
  // The IP-authenticated trunk gets keep-alives only.
  auto out = sent();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].method(), sip::Method::kOptions);
}

TEST_F(TrunkRegistrationTest, HostNamesAreResolvedBeforeSending) {
  TrunkConfig named = trunk();
  named.host = "sip.provider.example";
  named.outboundProxy = "proxy.provider.example:5070";
  regs->update({named});
  advance(seconds(0));
  EXPECT_TRUE(udp.sent.empty());
  ASSERT_EQ(resolver.asked.size(), 1u);
  EXPECT_EQ(resolver.asked[0].first, "proxy.provider.example");
  resolver.asked[0].second(std::string("198.51.100.30"), "");
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(udp.sent[0].to.endpoint, (sip::Endpoint{"198.51.100.30", 5070}));
  sip::Message reg = onlyRegister();
  EXPECT_EQ(reg.requestUriText(), "sip:sip.provider.example");
  EXPECT_EQ(*reg.header("Route"), "<sip:proxy.provider.example:5070;lr>");
}

TEST_F(TrunkRegistrationTest, AnUnresolvableNameIsAFailureWithBackoff) {
  TrunkConfig named = trunk();
  named.host = "nowhere.example";
  regs->update({named});
  advance(seconds(0));
  ASSERT_EQ(resolver.asked.size(), 1u);
  resolver.asked[0].second(std::nullopt, "Name or service not known");
  EXPECT_EQ(status().state, TrunkRegistrationState::failed);
  EXPECT_EQ(status().lastError, "cannot resolve nowhere.example: Name or service not known");
  EXPECT_EQ(status().nextAttempt, wall() + 30);
}

}  // namespace
}  // namespace duplex::call::test
