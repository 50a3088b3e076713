// Password hashing, generated secrets and the SIP password rule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "admin/password_hash.h"
#include "admin/password_policy.h"

namespace duplex::admin {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(PasswordHash, VerifiesTheRightPasswordOnly) {
  const std::string stored = hashPassword("correct horse battery", 1000);
  EXPECT_THAT(stored, MatchesRegex("pbkdf2-sha256\\$1000\\$[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+"));
  EXPECT_TRUE(verifyPassword("correct horse battery", stored));
  EXPECT_FALSE(verifyPassword("correct horse batterY", stored));
  EXPECT_FALSE(verifyPassword("", stored));
}

TEST(PasswordHash, SaltMakesEachHashDifferent) {
  EXPECT_NE(hashPassword("same", 1000), hashPassword("same", 1000));
}

TEST(PasswordHash, DefaultIsSlow) {
  EXPECT_GE(kPasswordIterations, 600000);
  EXPECT_THAT(hashPassword("x"), HasSubstr("$600000$"));
}

TEST(PasswordHash, MalformedStoredHashesNeverVerify) {
  for (const char* bad :
       {"", "pbkdf2-sha256", "pbkdf2-sha256$1000$abc",
        "md5$1$YQ==$YQ==", "pbkdf2-sha256$0$YWJjZA==$YWJjZA==", "pbkdf2-sha256$x$YQ==$YQ==",
        "pbkdf2-sha256$1000$YWJjZA==$c2hvcnQ=", "pbkdf2-sha256$999999999999$YQ==$YQ=="}) {
    EXPECT_FALSE(verifyPassword("x", bad)) << bad;
  }
}

TEST(PasswordHash, KnownPbkdf2Vector) {
  // RFC 7914 11 (PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, first 32 bytes).
  EXPECT_TRUE(verifyPassword(
      "passwd", "pbkdf2-sha256$1$c2FsdA==$VawEblbjCJ/sFpHCJUS2BflBhSFt3gRl5oudV8INrLw="));
}

TEST(GeneratedSecrets, PasswordsAreStrongAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const std::string p = generatePassword(20);
    EXPECT_EQ(p.size(), 20u);
    EXPECT_EQ(weakPasswordReason(p, "101"), std::nullopt) << p;
    EXPECT_EQ(p.find_first_of("0O1lI"), std::string::npos) << p;
    seen.insert(p);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(GeneratedSecrets, TokensCarryTheirPrefixAnd256Bits) {
  const std::string t = generateToken("dxs_");
  EXPECT_THAT(t, MatchesRegex("dxs_[A-Za-z0-9_-]{43}"));
  EXPECT_NE(t, generateToken("dxs_"));
}

TEST(Digest, Ha1IsTheRfc7616Value) {
  // RFC 7616 3.9.1: Mufasa / http-auth@example.org / Circle of Life.
  const Ha1Pair ha1 = digestHa1("Mufasa", "http-auth@example.org", "Circle of Life");
  EXPECT_EQ(ha1.md5, md5Hex("Mufasa:http-auth@example.org:Circle of Life"));
  EXPECT_EQ(ha1.sha256, "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
}

TEST(SipPasswordPolicy, RejectsWithTheReason) {
  EXPECT_THAT(*weakPasswordReason("Short1", "101"),
              HasSubstr("at least 12 characters long (has 6)"));
  EXPECT_THAT(*weakPasswordReason("abcdefghijklmn", "101"), HasSubstr("two kinds of characters"));
  EXPECT_THAT(*weakPasswordReason("123456789012345", "101"), HasSubstr("two kinds"));
  EXPECT_THAT(*weakPasswordReason("my-phone-4711-x", "4711"), HasSubstr("extension number"));
  EXPECT_THAT(*weakPasswordReason("Password2024!", "101"), HasSubstr("commonly used"));
  EXPECT_THAT(*weakPasswordReason("QWERTY123456", "101"), HasSubstr("commonly used"));
  EXPECT_THAT(*weakPasswordReason("aaaaaaaaaaa1a\n", "101"), HasSubstr("control"));
  EXPECT_THAT(*weakPasswordReason(std::string(129, 'a') + "B", "101"), HasSubstr("at most 128"));
  EXPECT_EQ(weakPasswordReason("tulip-Anchor-93", "101"), std::nullopt);
  // Short numbers are too common inside any password to forbid.
  EXPECT_EQ(weakPasswordReason("tulip-Anchor-12", "12"), std::nullopt);
}

}  // namespace
}  // namespace duplex::admin
