// Digest maths against the RFCs' worked examples.
#include <gtest/gtest.h>

#include "registrar/digest.h"

namespace duplex::registrar {
namespace {

// RFC 7616 3.9.1 (errata 4495: the password is "Circle of Life", lowercase o).
constexpr std::string_view kUser = "Mufasa";
constexpr std::string_view kPassword = "Circle of Life";
constexpr std::string_view kRealm = "http-auth@example.org";
constexpr std::string_view kNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view kCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

TEST(DigestMath, Rfc7616Section391Md5) {
  std::string h = ha1(DigestAlgorithm::kMd5, kUser, kRealm, kPassword);
  EXPECT_EQ(computeResponse(DigestAlgorithm::kMd5, h, kNonce, "00000001", kCnonce, "auth", "GET",
                            "/dir/index.html"),
            "8ca523f5e9506fed4657c9700eebdbec");
}

TEST(DigestMath, Rfc7616Section391Sha256) {
  std::string h = ha1(DigestAlgorithm::kSha256, kUser, kRealm, kPassword);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(computeResponse(DigestAlgorithm::kSha256, h, kNonce, "00000001", kCnonce, "auth", "GET",
                            "/dir/index.html"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// RFC 2617 3.5: password "Circle Of Life" (capital O), MD5, qop=auth.
TEST(DigestMath, Rfc2617Section35) {
  std::string h = ha1(DigestAlgorithm::kMd5, "Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(computeResponse(DigestAlgorithm::kMd5, h, "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                            "00000001", "0a4f113b", "auth", "GET", "/dir/index.html"),
            "6629fae49393a05397450978507c4ef1");
}

TEST(DigestMath, AlgorithmTokens) {
  EXPECT_EQ(parseDigestAlgorithm(""), DigestAlgorithm::kMd5);  // RFC 7616 3.3 default
  EXPECT_EQ(parseDigestAlgorithm("md5"), DigestAlgorithm::kMd5);
  EXPECT_EQ(parseDigestAlgorithm("SHA-256"), DigestAlgorithm::kSha256);
  EXPECT_EQ(parseDigestAlgorithm("sha-256"), DigestAlgorithm::kSha256);
  EXPECT_FALSE(parseDigestAlgorithm("MD5-sess"));
  EXPECT_FALSE(parseDigestAlgorithm("SHA-512-256"));
  EXPECT_FALSE(parseDigestAlgorithm("SHA-2566"));
  EXPECT_EQ(toString(DigestAlgorithm::kMd5), "MD5");
  EXPECT_EQ(toString(DigestAlgorithm::kSha256), "SHA-256");
}

}  // namespace
}  // namespace duplex::registrar
