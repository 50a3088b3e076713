// REGISTER over the wire (RFC 3261 10.3, RFC 7616, RFC 8760): what a phone
// gets back for each step, and the keep-alives for phones behind NAT.
#include "pbx/call/register_handler.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "register_test_support.h"

namespace duplex::call::test {
namespace {

using registrar::DigestAlgorithm;
using namespace std::chrono_literals;

class RegisterHandlerTest : public RegisterFixture {
 protected:
  RegisterHandlerTest() {
    addUser("101", "secret-101", 1);
    addUser("102", "secret-102", 2);
  }
  const sip::Origin phone = udpFrom("198.51.100.20", 5060);
};

TEST_F(RegisterHandlerTest, ChallengeOffersSha256ThenMd5WithOneNonce) {
  sip::Message r = exchange(registerText({}, "z9hG4bKc1"), phone);
  ASSERT_EQ(r.statusCode(), 401);
  EXPECT_EQ(r.reasonPhrase(), "Unauthorized");
  auto challenges = headerValues(r, "WWW-Authenticate");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_NE(challenges[0].find("algorithm=SHA-256"), std::string::npos) << challenges[0];
  EXPECT_NE(challenges[1].find("algorithm=MD5"), std::string::npos) << challenges[1];
  EXPECT_EQ(challenges[0].rfind("Digest realm=\"pbx.test\", nonce=\"", 0), 0u);
  EXPECT_NE(challenges[0].find("qop=\"auth\""), std::string::npos);
  EXPECT_EQ(challenges[0].find("stale"), std::string::npos);
  auto c = r.wwwAuthenticates();
  EXPECT_EQ(c[0].param("nonce"), c[1].param("nonce"));
  EXPECT_EQ(udp.sent.back().to.endpoint, (sip::Endpoint{"198.51.100.20", 5060}));
}

TEST_F(RegisterHandlerTest, AuthenticatedRegisterListsTheContactWithExpires) {
  for (DigestAlgorithm algorithm : {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5}) {
    RegisterSpec spec;
    spec.callId = std::string("call-") + std::string(registrar::toString(algorithm));
    sip::Message challenge = exchange(registerText(spec, "z9hG4bKa1" + spec.callId), phone);
    ASSERT_EQ(challenge.statusCode(), 401);
    spec.cseq = 2;
    spec.extra = "Expires: 600\r\n" + authorization(challenge, "101", "secret-101", algorithm);
    sip::Message ok = exchange(registerText(spec, "z9hG4bKa2" + spec.callId), phone);
    ASSERT_EQ(ok.statusCode(), 200) << ok.serialize();
    EXPECT_EQ(headerValues(ok, "Contact"),
              std::vector<std::string>{"<sip:101@198.51.100.20:5060>;expires=600"});
    EXPECT_NE(ok.to()->tag(), "");
    // 1,700,000,000 s after the epoch (the fixture's wall clock), in GMT.
    EXPECT_EQ(headerValues(ok, "Date"), std::vector<std::string>{"Tue, 14 Nov 2023 22:13:20 GMT"});
    EXPECT_TRUE(ok.date());
  }
  EXPECT_EQ(handler.stats().accepted, 2u);
}

TEST_F(RegisterHandlerTest, WrongPasswordAndUnknownUserGetTheSame403) {
  auto attempt = [this](const std::string& user, const std::string& password) {
    RegisterSpec spec;
    spec.user = user;
    spec.callId = "call-" + user;
    sip::Message challenge = exchange(registerText(spec, "z9hG4bKw1" + user), phone);
    EXPECT_EQ(challenge.statusCode(), 401);
    spec.cseq = 2;
    spec.extra = authorization(challenge, user, password, DigestAlgorithm::kSha256);
    return exchange(registerText(spec, "z9hG4bKw2" + user), phone);
  };
  sip::Message wrong = attempt("101", "guess");
  sip::Message unknown = attempt("999", "guess");
  EXPECT_EQ(wrong.statusCode(), 403);
  EXPECT_EQ(unknown.statusCode(), 403);
  EXPECT_EQ(wrong.reasonPhrase(), unknown.reasonPhrase());
  ASSERT_EQ(wrong.headers().size(), unknown.headers().size());
  for (std::size_t i = 0; i < wrong.headers().size(); ++i) {
    const sip::Header& a = wrong.headers()[i];
    const sip::Header& b = unknown.headers()[i];
    EXPECT_EQ(a.name, b.name);
    // Only the request-specific headers (Via branch, From/To, Call-ID) differ.
    if (a.id == sip::HeaderId::kServer || a.id == sip::HeaderId::kContentLength ||
        a.id == sip::HeaderId::kCSeq) {
      EXPECT_EQ(a.value, b.value);
    }
  }
  EXPECT_TRUE(headerValues(wrong, "WWW-Authenticate").empty());
}

TEST_F(RegisterHandlerTest, DisabledExtensionIsForbiddenLikeAnUnknownOne) {
  credentials.users["101"].enabled = false;
  RegisterSpec spec;
  sip::Message challenge = exchange(registerText(spec, "z9hG4bKe1"), phone);
  spec.cseq = 2;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256);
  sip::Message r = exchange(registerText(spec, "z9hG4bKe2"), phone);
  EXPECT_EQ(r.statusCode(), 403);
  EXPECT_EQ(r.reasonPhrase(), "Forbidden");
  EXPECT_TRUE(registrar.lookup(1, wallNow()).empty());
}

TEST_F(RegisterHandlerTest, UnknownUserIsChallengedLikeAKnownOne) {
  RegisterSpec known;
  RegisterSpec unknown;
  unknown.user = "999";
  sip::Message a = exchange(registerText(known, "z9hG4bKu1"), phone);
  sip::Message b = exchange(registerText(unknown, "z9hG4bKu2"), phone);
  EXPECT_EQ(a.statusCode(), 401);
  EXPECT_EQ(b.statusCode(), 401);
  EXPECT_EQ(headerValues(a, "WWW-Authenticate").size(), headerValues(b, "WWW-Authenticate").size());
}

TEST_F(RegisterHandlerTest, ExpiredNonceGetsAStaleChallenge) {
  RegisterSpec spec;
  sip::Message challenge = exchange(registerText(spec, "z9hG4bKs1"), phone);
  advance(std::chrono::minutes(6));  // past the 300 s nonce lifetime
  spec.cseq = 2;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256);
  sip::Message r = exchange(registerText(spec, "z9hG4bKs2"), phone);
  ASSERT_EQ(r.statusCode(), 401);
  auto challenges = headerValues(r, "WWW-Authenticate");
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_NE(challenges[0].find("stale=true"), std::string::npos) << challenges[0];
  EXPECT_NE(challenges[1].find("stale=true"), std::string::npos) << challenges[1];
}

TEST_F(RegisterHandlerTest, ReplayedNonceCountIsChallengedAgain) {
  RegisterSpec spec;
  sip::Message challenge = exchange(registerText(spec, "z9hG4bKr1"), phone);
  const std::string auth = authorization(challenge, "101", "secret-101", DigestAlgorithm::kMd5);
  spec.extra = auth;
  spec.cseq = 2;
  EXPECT_EQ(exchange(registerText(spec, "z9hG4bKr2"), phone).statusCode(), 200);
  spec.cseq = 3;  // the same nc=00000001 again, in a new transaction
  sip::Message replay = exchange(registerText(spec, "z9hG4bKr3"), phone);
  EXPECT_EQ(replay.statusCode(), 401);
  EXPECT_EQ(headerValues(replay, "WWW-Authenticate").size(), 2u);
  // The next nc on the same nonce is fine.
  spec.cseq = 4;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kMd5, "00000002");
  EXPECT_EQ(exchange(registerText(spec, "z9hG4bKr4"), phone).statusCode(), 200);
}

TEST_F(RegisterHandlerTest, AuthorizationUserMustBeTheToUser) {
  RegisterSpec spec;
  spec.toUser = "102";
  sip::Message challenge = exchange(registerText(spec, "z9hG4bKt1"), phone);
  spec.cseq = 2;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256);
  sip::Message r = exchange(registerText(spec, "z9hG4bKt2"), phone);
  EXPECT_EQ(r.statusCode(), 403);
  EXPECT_TRUE(registrar.lookup(2, wallNow()).empty());
}

TEST_F(RegisterHandlerTest, DigestUriMustNameTheRequestUri) {
  RegisterSpec spec;
  sip::Message challenge = exchange(registerText(spec, "z9hG4bKd1"), phone);
  spec.cseq = 2;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256, "00000001",
                             "sip:elsewhere.test");
  sip::Message r = exchange(registerText(spec, "z9hG4bKd2"), phone);
  EXPECT_EQ(r.statusCode(), 400);
  EXPECT_EQ(r.reasonPhrase(), "Digest uri does not match Request-URI");
  // SIP URI equality: host case does not matter (RFC 3261 19.1.4).
  spec.cseq = 3;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256, "00000002",
                             "sip:PBX.test");
  EXPECT_EQ(exchange(registerText(spec, "z9hG4bKd3"), phone).statusCode(), 200);
}

TEST_F(RegisterHandlerTest, UnregisterOneContactThenAllWithStar) {
  RegisterSpec spec;
  spec.contact = "<sip:101@198.51.100.20:5060>, <sip:101@198.51.100.20:5062>";
  spec.via = "198.51.100.20:5060";
  sip::Message ok = registerWithAuth(spec, "secret-101", phone);
  ASSERT_EQ(ok.statusCode(), 200) << ok.serialize();
  EXPECT_EQ(headerValues(ok, "Contact").size(), 2u);

  sip::Message challenge = exchange(registerText(spec, "z9hG4bKx0"), phone);
  spec.cseq = 10;
  spec.contact = "<sip:101@198.51.100.20:5062>;expires=0";
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256);
  ok = exchange(registerText(spec, "z9hG4bKx1"), phone);
  ASSERT_EQ(ok.statusCode(), 200);
  EXPECT_EQ(headerValues(ok, "Contact"),
            std::vector<std::string>{"<sip:101@198.51.100.20:5060>;expires=3600"});

  spec.cseq = 11;
  spec.contact = "*";
  spec.extra = "Expires: 0\r\n" +
               authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256, "00000002");
  ok = exchange(registerText(spec, "z9hG4bKx2"), phone);
  ASSERT_EQ(ok.statusCode(), 200);
  EXPECT_TRUE(headerValues(ok, "Contact").empty());
  EXPECT_TRUE(registrar.lookup(1, wallNow()).empty());
}

TEST_F(RegisterHandlerTest, TooBriefIntervalGets423WithMinExpires) {
  RegisterSpec spec;
  spec.extra = "Expires: 10\r\n";
  sip::Message r = registerWithAuth(spec, "secret-101", phone);
  EXPECT_EQ(r.statusCode(), 423);
  EXPECT_EQ(r.reasonPhrase(), "Interval Too Brief");
  EXPECT_EQ(headerValues(r, "Min-Expires"), std::vector<std::string>{"60"});
}

TEST_F(RegisterHandlerTest, OutOfOrderCSeqGets500) {
  RegisterSpec spec;
  spec.cseq = 5;
  ASSERT_EQ(registerWithAuth(spec, "secret-101", phone).statusCode(), 200);  // CSeq 6
  sip::Message challenge = exchange(registerText(spec, "z9hG4bKo1"), phone);
  spec.cseq = 4;
  spec.extra = authorization(challenge, "101", "secret-101", DigestAlgorithm::kSha256);
  sip::Message r = exchange(registerText(spec, "z9hG4bKo2"), phone);
  EXPECT_EQ(r.statusCode(), 500);
  EXPECT_EQ(r.reasonPhrase(), "Out of order CSeq");
}

TEST_F(RegisterHandlerTest, MalformedCredentialsGet400WithTheReason) {
  RegisterSpec spec;
  spec.extra = "Authorization: Digest username=\"101\", realm=\"pbx.test\"\r\n";
  sip::Message r = exchange(registerText(spec, "z9hG4bKm1"), phone);
  EXPECT_EQ(r.statusCode(), 400);
  EXPECT_NE(r.reasonPhrase(), "Bad Request");
}

// A phone behind NAT: Contact and Via say 10.0.0.5:5060, the packet came from
// the NAT's 203.0.113.7:40000.
class NatRegisterTest : public RegisterHandlerTest {
 protected:
  const sip::Origin natted = udpFrom("203.0.113.7", 40000);
  RegisterSpec natSpec() const {
    RegisterSpec spec;
    spec.contact = "<sip:101@10.0.0.5:5060>";
    spec.via = "10.0.0.5:5060";
    return spec;
  }
  // Runs the handler's timer as the daemon's loop would.
  void runTimers(std::chrono::seconds span) {
    for (auto t = 0s; t < span; t += 1s) {
      advance(1s);
      if (handler.nextDeadline(wallNow()) <= wallNow()) handler.onTimer(endpoint, wallNow());
    }
  }
  // Keep-alive OPTIONS sent, retransmissions (RFC 3261 17.1.2.2) left out.
  std::vector<Sent> sentOptions() const {
    std::vector<Sent> out;
    for (const Sent& s : udp.sent) {
      if (s.wire.rfind("OPTIONS ", 0) != 0) continue;
      if (std::none_of(out.begin(), out.end(), [&s](const Sent& o) { return o.wire == s.wire; })) {
        out.push_back(s);
      }
    }
    return out;
  }
};

TEST_F(NatRegisterTest, BindingSendsToTheSourceAndIsPingedFromTheSameSocket) {
  ASSERT_EQ(registerWithAuth(natSpec(), "secret-101", natted).statusCode(), 200);
  auto locations = registrar.lookup(1, wallNow());
  ASSERT_EQ(locations.size(), 1u);
  EXPECT_TRUE(locations[0].behindNat);
  EXPECT_EQ(locations[0].sendTo.destination, (registrar::Endpoint{"203.0.113.7", 40000}));
  EXPECT_EQ(locations[0].requestUri, "sip:101@10.0.0.5:5060");

  runTimers(24s);
  EXPECT_TRUE(sentOptions().empty());
  runTimers(2s);  // the 25 s keep-alive interval has passed
  auto options = sentOptions();
  ASSERT_EQ(options.size(), 1u);
  EXPECT_EQ(options[0].to.endpoint, (sip::Endpoint{"203.0.113.7", 40000}));
  EXPECT_EQ(options[0].to.local, kLocal);
  auto ping = sip::Message::parse(options[0].wire);
  ASSERT_TRUE(ping);
  EXPECT_EQ(ping->requestUriText(), "sip:101@10.0.0.5:5060");
  EXPECT_EQ(ping->topVia()->host, "192.0.2.10");

  // The phone answers (any final response counts).
  sip::Message answer = sip::Message::responseTo(*ping, 200, "OK", "phonetag");
  endpoint.onMessage(answer.serialize(), natted);
  EXPECT_EQ(handler.stats().keepAlivesAnswered, 1u);
  EXPECT_EQ(registrar.stats().keepAlivesFailed, 0u);
}

TEST_F(NatRegisterTest, UnansweredPingsAreReportedAsFailures) {
  ASSERT_EQ(registerWithAuth(natSpec(), "secret-101", natted).statusCode(), 200);
  runTimers(26s);
  ASSERT_EQ(sentOptions().size(), 1u);
  runTimers(40s);  // Timer F (64*T1 = 32 s) ends the first OPTIONS
  EXPECT_GE(handler.stats().keepAlivesFailed, 1u);
  EXPECT_GE(registrar.stats().keepAlivesFailed, 1u);
}

TEST_F(RegisterHandlerTest, ExpiredBindingsAreSweptByTheTimer) {
  RegisterSpec spec;
  spec.extra = "Expires: 60\r\n";
  ASSERT_EQ(registerWithAuth(spec, "secret-101", phone).statusCode(), 200);
  EXPECT_EQ(registrar.stats().bindings, 1u);
  advance(61s);
  handler.onTimer(endpoint, wallNow());
  EXPECT_EQ(registrar.stats().bindings, 0u);
  EXPECT_EQ(registrar.stats().expired, 1u);
}

}  // namespace
}  // namespace duplex::call::test
