// Stateless nonces: valid, tampered, expired, other realm/secret, future,
// garbage.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "registrar/nonce.h"

namespace duplex::registrar {
namespace {

const std::vector<std::uint8_t> kSecret(32, 0x42);
constexpr std::int64_t kNow = 1'800'000'000;

TEST(NonceCodec, IssuedNonceIsValidAndUnique) {
  NonceCodec codec(kSecret, "pbx.example");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    NonceText nonce = codec.issue(kNow);
    NonceIdentity id;
    EXPECT_EQ(codec.check(nonce.view(), kNow, id), NonceStatus::kValid);
    EXPECT_EQ(id.issuedAt, kNow);
    EXPECT_TRUE(seen.insert(std::string(nonce.view())).second);
  }
}

TEST(NonceCodec, EveryFlippedBitIsInvalid) {
  NonceCodec codec(kSecret, "pbx.example");
  std::string nonce(codec.issue(kNow).view());
  for (std::size_t i = 0; i < nonce.size(); ++i) {
    for (char flipped : {static_cast<char>(nonce[i] ^ 0x01), 'g'}) {
      std::string tampered = nonce;
      tampered[i] = flipped;
      NonceIdentity id;
      EXPECT_EQ(codec.check(tampered, kNow, id), NonceStatus::kInvalid) << i;
    }
  }
}

TEST(NonceCodec, ExpiresAfterLifetime) {
  NonceCodec codec(kSecret, "pbx.example", 300);
  NonceText nonce = codec.issue(kNow);
  NonceIdentity id;
  EXPECT_EQ(codec.check(nonce.view(), kNow + 300, id), NonceStatus::kValid);
  EXPECT_EQ(codec.check(nonce.view(), kNow + 301, id), NonceStatus::kExpired);
}

TEST(NonceCodec, OtherRealmOrSecretIsInvalid) {
  NonceCodec codec(kSecret, "pbx.example");
  NonceCodec otherRealm(kSecret, "other.example");
  NonceCodec otherSecret(std::vector<std::uint8_t>(32, 0x43), "pbx.example");
  NonceText nonce = codec.issue(kNow);
  NonceIdentity id;
  EXPECT_EQ(otherRealm.check(nonce.view(), kNow, id), NonceStatus::kInvalid);
  EXPECT_EQ(otherSecret.check(nonce.view(), kNow, id), NonceStatus::kInvalid);
  EXPECT_NE(codec.opaque(), otherRealm.opaque());
  EXPECT_NE(codec.opaque(), otherSecret.opaque());
}

TEST(NonceCodec, NonceFromBeforeARestartIsOursButOtherInstance) {
  NonceText nonce = NonceCodec(kSecret, "pbx.example").issue(kNow);
  NonceCodec restarted(kSecret, "pbx.example");
  NonceIdentity id;
  EXPECT_EQ(restarted.check(nonce.view(), kNow + 10, id), NonceStatus::kOtherInstance);
  EXPECT_EQ(restarted.check(nonce.view(), kNow + 301, id), NonceStatus::kExpired);
}

TEST(NonceCodec, SequenceCountsIssuedNonces) {
  NonceCodec codec(kSecret, "pbx.example");
  NonceIdentity a, b;
  ASSERT_EQ(codec.check(codec.issue(kNow).view(), kNow, a), NonceStatus::kValid);
  ASSERT_EQ(codec.check(codec.issue(kNow).view(), kNow, b), NonceStatus::kValid);
  EXPECT_EQ(a.instance, codec.instance());
  EXPECT_EQ(b.sequence, a.sequence + 1);
}

TEST(NonceCodec, FutureTimestampRejected) {
  NonceCodec codec(kSecret, "pbx.example");
  NonceText nonce = codec.issue(kNow + 60);
  NonceIdentity id;
  EXPECT_EQ(codec.check(nonce.view(), kNow, id), NonceStatus::kFuture);
  EXPECT_EQ(codec.check(codec.issue(kNow + NonceCodec::kFutureSkewSeconds).view(), kNow, id),
            NonceStatus::kValid);
}

TEST(NonceCodec, GarbageNeverCrashes) {
  NonceCodec codec(kSecret, "pbx.example");
  NonceIdentity id;
  std::string nonce(codec.issue(kNow).view());
  for (std::string garbage :
       {std::string(), std::string("x"), std::string(64, '0'), std::string(64, 'z'),
        std::string(1 << 16, 'a'), nonce + "0", nonce.substr(1), std::string(64, '\0')}) {
    EXPECT_EQ(codec.check(garbage, kNow, id), NonceStatus::kInvalid);
  }
}

TEST(NonceCodec, OpaqueIsStableHex) {
  NonceCodec a(kSecret, "pbx.example");
  NonceCodec b(kSecret, "pbx.example");
  EXPECT_EQ(a.opaque(), b.opaque());
  EXPECT_EQ(a.opaque().size(), 32u);
}

TEST(NonceCodec, ShortSecretRejectedAtStartUp) {
  EXPECT_THROW(NonceCodec(std::vector<std::uint8_t>(15, 1), "r"), std::invalid_argument);
}

}  // namespace
}  // namespace duplex::registrar
