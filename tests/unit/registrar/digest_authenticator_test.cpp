// DigestAuthenticator: challenges, verdicts, no user enumeration, replay,
// stale nonces, failure counting.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "registrar/digest_authenticator.h"

namespace duplex::registrar {
namespace {

const std::vector<std::uint8_t> kSecret(32, 0x5a);
constexpr std::string_view kRealm = "pbx.example";
constexpr std::int64_t kNow = 1'800'000'000;
constexpr AuthPeer kPeer{"192.0.2.10", "TestPhone/1.0"};

std::string ncText(std::uint32_t nc) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08x", nc);
  return buf;
}

// A phone that answers a challenge like RFC 7616 3.4 says.
struct Answer {
  std::string nonce, nc, response, algorithm, opaque, realm;
  std::string username = "101", uri = "sip:pbx.example", cnonce = "0a4f113b", qop = "auth";

  DigestCredentials credentials() const {
    return {username, realm, nonce, uri, response, algorithm, cnonce, qop, nc, opaque};
  }
};

Answer answer(const ChallengeParams& challenge, std::string_view password, std::uint32_t nc = 1,
              std::string_view method = "REGISTER") {
  Answer a;
  a.nonce = std::string(challenge.nonce.view());
  a.nc = ncText(nc);
  a.algorithm = std::string(toString(challenge.algorithm));
  a.opaque = std::string(challenge.opaque);
  a.realm = std::string(challenge.realm);
  std::string h = ha1(challenge.algorithm, a.username, challenge.realm, password);
  a.response =
      computeResponse(challenge.algorithm, h, a.nonce, a.nc, a.cnonce, a.qop, method, a.uri);
  return a;
}

class DigestAuthenticatorTest : public ::testing::Test {
 protected:
  std::string md5 = ha1(DigestAlgorithm::kMd5, "101", kRealm, "s3cret-Pass");
  std::string sha = ha1(DigestAlgorithm::kSha256, "101", kRealm, "s3cret-Pass");
  std::optional<StoredHa1> stored = StoredHa1{md5, sha, kRealm};
  AuthFailureCounter failures;
  DigestAuthenticator auth{kSecret, kRealm, failures};

  AuthResult verify(const Answer& a, std::int64_t now = kNow,
                    std::optional<StoredHa1> who = std::nullopt, bool unknown = false) {
    if (!who && !unknown) who = stored;
    return auth.verify(a.credentials(), "REGISTER", who, kPeer, now);
  }
};

TEST_F(DigestAuthenticatorTest, ChallengeOffersSha256FirstThenMd5WithOneNonce) {
  auto c = auth.challenge(kNow);
  EXPECT_EQ(c[0].algorithm, DigestAlgorithm::kSha256);
  EXPECT_EQ(c[1].algorithm, DigestAlgorithm::kMd5);
  EXPECT_EQ(c[0].nonce.view(), c[1].nonce.view());
  for (const auto& p : c) {
    EXPECT_EQ(p.realm, kRealm);
    EXPECT_EQ(p.qop, "auth");
    EXPECT_FALSE(p.stale);
    EXPECT_EQ(p.opaque.size(), 32u);
  }
  EXPECT_TRUE(auth.challenge(kNow, true)[1].stale);
}

TEST_F(DigestAuthenticatorTest, ConfiguredOrderIsTheChallengeOrderAndOnlyOfferedVerify) {
  DigestAuthenticator md5First{kSecret, kRealm, failures,
                               {.algorithms = {DigestAlgorithm::kMd5, DigestAlgorithm::kSha256}}};
  auto c = md5First.challenge(kNow);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].algorithm, DigestAlgorithm::kMd5);
  EXPECT_EQ(c[1].algorithm, DigestAlgorithm::kSha256);

  DigestAuthenticator shaOnly{kSecret, kRealm, failures,
                              {.algorithms = {DigestAlgorithm::kSha256}}};
  auto only = shaOnly.challenge(kNow);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].algorithm, DigestAlgorithm::kSha256);
  // An MD5 answer to a SHA-256-only challenge is refused with the reason.
  ChallengeParams md5Params = only[0];
  md5Params.algorithm = DigestAlgorithm::kMd5;
  AuthResult r =
      shaOnly.verify(answer(md5Params, "s3cret-Pass").credentials(), "REGISTER", stored, kPeer, kNow);
  EXPECT_EQ(r.outcome, AuthOutcome::kMalformed);
  EXPECT_EQ(r.reason, "Digest algorithm not offered");
  EXPECT_EQ(shaOnly.verify(answer(only[0], "s3cret-Pass").credentials(), "REGISTER", stored, kPeer,
                           kNow)
                .outcome,
            AuthOutcome::kOk);

  EXPECT_THROW((DigestAuthenticator{kSecret, kRealm, failures, {.algorithms = {}}}),
               std::invalid_argument);
  EXPECT_THROW((DigestAuthenticator{kSecret, kRealm, failures,
                                    {.algorithms = {DigestAlgorithm::kMd5, DigestAlgorithm::kMd5}}}),
               std::invalid_argument);
}

TEST_F(DigestAuthenticatorTest, BothAlgorithmsVerify) {
  auto c = auth.challenge(kNow);
  AuthResult sha256 = verify(answer(c[0], "s3cret-Pass"), kNow + 1);
  EXPECT_EQ(sha256.outcome, AuthOutcome::kOk) << sha256.reason;
  EXPECT_EQ(sha256.algorithm, DigestAlgorithm::kSha256);
  auto c2 = auth.challenge(kNow);
  AuthResult md5Result = verify(answer(c2[1], "s3cret-Pass"), kNow + 1);
  EXPECT_EQ(md5Result.outcome, AuthOutcome::kOk) << md5Result.reason;
  EXPECT_EQ(md5Result.algorithm, DigestAlgorithm::kMd5);
  EXPECT_EQ(failures.failuresFromAddress(kPeer.sourceAddress, kNow + 1), 0u);
  EXPECT_EQ(sipStatus(AuthOutcome::kOk, false), 200);
}

TEST_F(DigestAuthenticatorTest, MissingAlgorithmMeansMd5) {
  Answer a = answer(auth.challenge(kNow)[1], "s3cret-Pass");
  a.algorithm.clear();
  EXPECT_EQ(verify(a).outcome, AuthOutcome::kOk);
}

TEST_F(DigestAuthenticatorTest, ReplayedNcRejectedAndHigherNcAccepted) {
  auto c = auth.challenge(kNow);
  Answer first = answer(c[0], "s3cret-Pass", 1);
  ASSERT_EQ(verify(first).outcome, AuthOutcome::kOk);
  AuthResult replay = verify(first);
  EXPECT_EQ(replay.outcome, AuthOutcome::kReplay);
  EXPECT_EQ(sipStatus(replay.outcome, false), 401);
  EXPECT_EQ(sipStatus(replay.outcome, true), 407);
  EXPECT_EQ(verify(answer(c[0], "s3cret-Pass", 2)).outcome, AuthOutcome::kOk);
  EXPECT_EQ(verify(answer(c[0], "s3cret-Pass", 2)).outcome, AuthOutcome::kReplay);
}

TEST_F(DigestAuthenticatorTest, FailedDigestDoesNotAdvanceNc) {
  auto c = auth.challenge(kNow);
  EXPECT_EQ(verify(answer(c[0], "wrong", 5)).outcome, AuthOutcome::kForbidden);
  EXPECT_EQ(verify(answer(c[0], "wrong", 1), kNow, std::nullopt, true).outcome,
            AuthOutcome::kForbidden);
  // nc 1 is still fresh: neither failure advanced it.
  EXPECT_EQ(verify(answer(c[0], "s3cret-Pass", 1)).outcome, AuthOutcome::kOk);
}

TEST_F(DigestAuthenticatorTest, UnknownUserAndWrongPasswordLookTheSame) {
  // First try: no credentials -> the same challenge for everybody (the user
  // is not even known yet). Second try:
  auto c = auth.challenge(kNow);
  AuthResult wrong = verify(answer(c[0], "guess"));
  Answer unknownAnswer = answer(c[0], "guess");
  unknownAnswer.username = "999";
  AuthResult unknown = verify(unknownAnswer, kNow, std::nullopt, true);
  EXPECT_EQ(wrong.outcome, AuthOutcome::kForbidden);
  EXPECT_EQ(unknown.outcome, AuthOutcome::kForbidden);
  EXPECT_EQ(sipStatus(wrong.outcome, false), 403);
  EXPECT_EQ(sipStatus(unknown.outcome, false), 403);
  EXPECT_NE(wrong.reason, unknown.reason);  // the log still tells them apart
  // Even the correct password of someone else cannot enumerate.
  AuthResult unknownRight = verify(answer(c[1], "s3cret-Pass"), kNow, std::nullopt, true);
  EXPECT_EQ(unknownRight.outcome, AuthOutcome::kForbidden);
}

TEST_F(DigestAuthenticatorTest, ExpiredNonceIsStaleAndNotCounted) {
  auto c = auth.challenge(kNow);
  AuthResult r = verify(answer(c[0], "s3cret-Pass"), kNow + 301);
  EXPECT_EQ(r.outcome, AuthOutcome::kStale);
  EXPECT_EQ(sipStatus(r.outcome, false), 401);
  EXPECT_EQ(failures.failuresFromAddress(kPeer.sourceAddress, kNow + 301), 0u);
  // Stale is answered before the password is looked at.
  EXPECT_EQ(verify(answer(c[0], "wrong"), kNow + 301).outcome, AuthOutcome::kStale);
}

TEST_F(DigestAuthenticatorTest, NonceFromBeforeRestartIsStale) {
  auto c = auth.challenge(kNow);
  DigestAuthenticator restarted(kSecret, kRealm, failures);
  Answer a = answer(c[0], "s3cret-Pass");
  EXPECT_EQ(restarted.verify(a.credentials(), "REGISTER", stored, kPeer, kNow).outcome,
            AuthOutcome::kStale);
  EXPECT_EQ(failures.failuresFromAddress(kPeer.sourceAddress, kNow), 0u);
}

TEST_F(DigestAuthenticatorTest, NcStateOverwrittenMeansStaleNotAccepted) {
  AuthFailureCounter f;
  DigestAuthenticator small(kSecret, kRealm, f, {300, 4});
  auto first = small.challenge(kNow);
  Answer a = answer(first[0], "s3cret-Pass");
  ASSERT_EQ(small.verify(a.credentials(), "REGISTER", stored, kPeer, kNow).outcome,
            AuthOutcome::kOk);
  for (int i = 0; i < 3; ++i) small.challenge(kNow);
  Answer later = answer(small.challenge(kNow)[0], "s3cret-Pass");  // same slot
  ASSERT_EQ(small.verify(later.credentials(), "REGISTER", stored, kPeer, kNow).outcome,
            AuthOutcome::kOk);
  Answer again = answer(first[0], "s3cret-Pass", 2);
  EXPECT_EQ(small.verify(again.credentials(), "REGISTER", stored, kPeer, kNow).outcome,
            AuthOutcome::kStale);
}

TEST_F(DigestAuthenticatorTest, ForeignOrTamperedNonceIsBadNonce) {
  AuthFailureCounter otherFailures;
  DigestAuthenticator other(std::vector<std::uint8_t>(32, 1), kRealm, otherFailures);
  auto foreign = other.challenge(kNow);
  Answer a = answer(foreign[0], "s3cret-Pass");
  a.opaque = std::string(auth.challenge(kNow)[0].opaque);
  EXPECT_EQ(verify(a).outcome, AuthOutcome::kBadNonce);

  Answer tampered = answer(auth.challenge(kNow)[0], "s3cret-Pass");
  tampered.nonce[3] ^= 1;
  EXPECT_EQ(verify(tampered).outcome, AuthOutcome::kBadNonce);

  Answer future = answer(auth.challenge(kNow + 3600)[0], "s3cret-Pass");
  EXPECT_EQ(verify(future, kNow).outcome, AuthOutcome::kBadNonce);
}

TEST_F(DigestAuthenticatorTest, WrongRealmOrOpaqueIsBadNonce) {
  auto c = auth.challenge(kNow);
  Answer realm = answer(c[0], "s3cret-Pass");
  realm.realm = "other.example";
  EXPECT_EQ(verify(realm).outcome, AuthOutcome::kBadNonce);
  Answer opaque = answer(c[0], "s3cret-Pass");
  opaque.opaque = "00";
  EXPECT_EQ(verify(opaque).outcome, AuthOutcome::kBadNonce);
  Answer noOpaque = answer(c[0], "s3cret-Pass");
  noOpaque.opaque.clear();  // tolerated
  EXPECT_EQ(verify(noOpaque).outcome, AuthOutcome::kOk);
}

TEST_F(DigestAuthenticatorTest, HashForRealmNotConfiguredIsForbidden) {
  auto c = auth.challenge(kNow);
  std::string oldMd5 = ha1(DigestAlgorithm::kMd5, "101", "old.realm", "s3cret-Pass");
  EXPECT_EQ(verify(answer(c[1], "s3cret-Pass"), kNow, StoredHa1{oldMd5, "", "old.realm"}).outcome,
            AuthOutcome::kForbidden);
  // No SHA-256 HA1 stored: a SHA-256 answer cannot verify.
  EXPECT_EQ(verify(answer(c[0], "s3cret-Pass"), kNow, StoredHa1{md5, "", kRealm}).outcome,
            AuthOutcome::kForbidden);
  // An uppercase stored HA1 still verifies.
  std::string upper = md5;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_EQ(verify(answer(c[1], "s3cret-Pass"), kNow, StoredHa1{upper, "", kRealm}).outcome,
            AuthOutcome::kOk);
}

TEST_F(DigestAuthenticatorTest, MalformedInputsAre400AndNeverCrash) {
  auto c = auth.challenge(kNow);
  const Answer good = answer(c[0], "s3cret-Pass");
  std::vector<std::pair<std::string Answer::*, std::string>> cases = {
      {&Answer::username, ""},
      {&Answer::uri, ""},
      {&Answer::nonce, ""},
      {&Answer::algorithm, "MD5-sess"},
      {&Answer::algorithm, "SHA-512-256"},
      {&Answer::qop, ""},
      {&Answer::qop, "auth-int"},
      {&Answer::nc, ""},
      {&Answer::nc, "1"},
      {&Answer::nc, "00000000"},
      {&Answer::nc, "0000000g"},
      {&Answer::nc, "000000001"},
      {&Answer::cnonce, ""},
      {&Answer::response, ""},
      {&Answer::response, "xyz"},
      {&Answer::response, std::string(64, 'g')},
      {&Answer::response, std::string(32, 'a')},  // MD5 length with SHA-256
      {&Answer::username, std::string(513, 'u')},
      {&Answer::uri, std::string(1025, 'u')},
      {&Answer::cnonce, std::string(100000, 'c')},
  };
  for (const auto& [field, value] : cases) {
    Answer a = good;
    a.*field = value;
    AuthResult r = verify(a);
    EXPECT_EQ(r.outcome, AuthOutcome::kMalformed) << value.substr(0, 20);
    EXPECT_EQ(sipStatus(r.outcome, false), 400);
    EXPECT_FALSE(r.reason.empty());
  }
  // Garbage and control bytes everywhere: no crash, no acceptance.
  Answer junk;
  junk.username = std::string("\0\r\n\x7f\xff", 5);
  junk.nonce = std::string(64, '\xff');
  junk.response = std::string(64, '0');
  junk.nc = "ffffffff";
  junk.algorithm = "SHA-256";
  junk.realm = std::string(kRealm);
  EXPECT_NE(verify(junk).outcome, AuthOutcome::kOk);
  EXPECT_EQ(auth.verify(DigestCredentials{}, "", std::nullopt, AuthPeer{}, kNow).outcome,
            AuthOutcome::kMalformed);
}

TEST_F(DigestAuthenticatorTest, FailuresCountedPerAddressAndExtension) {
  auto c = auth.challenge(kNow);
  verify(answer(c[0], "guess1"));
  verify(answer(c[0], "guess2"));
  Answer bad = answer(c[0], "x");
  bad.nc = "zz";
  verify(bad);
  Answer other = answer(c[0], "guess3");
  other.username = "102";
  auth.verify(other.credentials(), "REGISTER", std::nullopt, AuthPeer{"198.51.100.3", ""}, kNow);
  EXPECT_EQ(failures.failuresFromAddress("192.0.2.10", kNow), 3u);
  EXPECT_EQ(failures.failuresFromAddress("198.51.100.3", kNow), 1u);
  EXPECT_EQ(failures.failuresForExtension("101", kNow), 3u);
  EXPECT_EQ(failures.failuresForExtension("102", kNow), 1u);
}

TEST_F(DigestAuthenticatorTest, NonceWorksForOtherMethods) {
  // Call control uses the same authenticator for INVITE (RFC 3261 22.3).
  auto c = auth.challenge(kNow);
  Answer a = answer(c[0], "s3cret-Pass", 1, "INVITE");
  EXPECT_EQ(auth.verify(a.credentials(), "INVITE", stored, kPeer, kNow).outcome, AuthOutcome::kOk);
  Answer b = answer(c[0], "s3cret-Pass", 2, "INVITE");
  EXPECT_EQ(auth.verify(b.credentials(), "BYE", stored, kPeer, kNow).outcome,
            AuthOutcome::kForbidden);
}

TEST(DigestAuthenticatorSetup, RejectsBadConfiguration) {
  AuthFailureCounter failures;
  EXPECT_THROW(DigestAuthenticator(std::vector<std::uint8_t>(8, 1), "r", failures),
               std::invalid_argument);
  EXPECT_THROW(DigestAuthenticator(kSecret, "", failures), std::invalid_argument);
}

}  // namespace
}  // namespace duplex::registrar
