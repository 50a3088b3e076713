// Client-side digest: challenge parsing, choice among several challenges,
// answers against the RFCs' worked examples, nc counting per nonce.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "registrar/digest_client.h"

namespace duplex::registrar {
namespace {

// RFC 7616 3.9.1 (errata 4495: the password is "Circle of Life").
constexpr std::string_view kRfcNonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
constexpr std::string_view kRfcCnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
constexpr std::string_view kRfcOpaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";

const std::string kRfcSha256Challenge =
    "Digest\r\n realm=\"http-auth@example.org\",\r\n qop=\"auth, auth-int\",\r\n"
    " algorithm=SHA-256,\r\n nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\",\r\n"
    " opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
const std::string kRfcMd5Challenge =
    "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", algorithm=MD5, "
    "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", "
    "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";

DigestClient fixedCnonce(std::string cnonce) {
  return DigestClient([cnonce] { return cnonce; });
}

const DigestClientCredentials kMufasa{"Mufasa", "Circle of Life", ""};

TEST(DigestClient, ParsesTheRfc7616Challenge) {
  std::string reason;
  auto c = parseDigestChallenge(kRfcSha256Challenge, &reason);
  ASSERT_TRUE(c) << reason;
  EXPECT_EQ(c->realm, "http-auth@example.org");
  EXPECT_EQ(c->nonce, kRfcNonce);
  EXPECT_EQ(c->opaque, kRfcOpaque);
  EXPECT_EQ(c->algorithm, DigestAlgorithm::kSha256);
  EXPECT_FALSE(c->session);
  EXPECT_TRUE(c->qopOffered);
  EXPECT_TRUE(c->qopAuth);
  EXPECT_FALSE(c->stale);
}

TEST(DigestClient, Rfc7616Section391PicksSha256AndMatchesTheExample) {
  // The server of 3.9.1 offers SHA-256 and MD5; the client answers SHA-256.
  std::vector<std::string> offered{kRfcMd5Challenge, kRfcSha256Challenge};
  auto c = strongestDigestChallenge(offered);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->algorithm, DigestAlgorithm::kSha256);
  DigestClient client = fixedCnonce(std::string(kRfcCnonce));
  DigestAuthorization a = client.authorize(*c, "GET", "/dir/index.html", kMufasa);
  ASSERT_TRUE(a.ok()) << a.reason;
  EXPECT_EQ(a.value,
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", "
            "nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", "
            "response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", "
            "algorithm=SHA-256, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", "
            "opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001");
}

TEST(DigestClient, Rfc7616Section391Md5) {
  auto c = parseDigestChallenge(kRfcMd5Challenge);
  ASSERT_TRUE(c);
  DigestClient client = fixedCnonce(std::string(kRfcCnonce));
  DigestAuthorization a = client.authorize(*c, "GET", "/dir/index.html", kMufasa);
  EXPECT_NE(a.value.find("response=\"8ca523f5e9506fed4657c9700eebdbec\""), std::string::npos)
      << a.value;
  EXPECT_NE(a.value.find("algorithm=MD5,"), std::string::npos);
}

// RFC 2069 2.4 example (the published response is wrong; errata 749 gives
// 1949323746fe6a43ef61f9606e7febea). No qop: no cnonce, no nc.
TEST(DigestClient, NoQopAnswersLikeRfc2069) {
  auto c = parseDigestChallenge(
      "Digest realm=\"testrealm@host.com\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\"");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->qopOffered);
  DigestClient client = fixedCnonce("unused");
  DigestAuthorization a =
      client.authorize(*c, "GET", "/dir/index.html", {"Mufasa", "CircleOfLife", ""});
  EXPECT_EQ(a.value,
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
            "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", "
            "response=\"1949323746fe6a43ef61f9606e7febea\", algorithm=MD5");
}

// -sess values computed independently (Python hashlib):
// HA1 = H(H(user:realm:pass):nonce:cnonce).
TEST(DigestClient, SessionVariants) {
  DigestClient client = fixedCnonce("0a4f113b");
  auto md5 = parseDigestChallenge(
      "Digest realm=\"office.example\", nonce=\"abc123\", algorithm=MD5-sess, qop=\"auth\"");
  ASSERT_TRUE(md5);
  EXPECT_TRUE(md5->session);
  DigestClientCredentials alice{"alice", "s3cret", ""};
  auto a = client.authorize(*md5, "INVITE", "sip:0044@prov.example", alice);
  EXPECT_NE(a.value.find("response=\"684021b52fd8f6739b12918f4ebabb0d\""), std::string::npos)
      << a.value;
  EXPECT_NE(a.value.find("algorithm=MD5-sess,"), std::string::npos);

  auto sha = parseDigestChallenge(
      "Digest realm=\"office.example\", nonce=\"abc123\", algorithm=sha-256-SESS, qop=auth");
  ASSERT_TRUE(sha);
  // Same nonce: the second use counts 2.
  auto b = client.authorize(*sha, "INVITE", "sip:0044@prov.example", alice);
  EXPECT_NE(b.value.find("response=\"de7376535efc22889ea6b8b305d433389598b7207d5f7540210fc2d70367"
                         "6223\""),
            std::string::npos)
      << b.value;
  EXPECT_NE(b.value.find("nc=00000002"), std::string::npos);
}

TEST(DigestClient, StrongestOrder) {
  std::vector<std::string> offered{
      "Digest realm=\"r\", nonce=\"n1\", algorithm=MD5-sess",
      "Digest realm=\"r\", nonce=\"n2\", algorithm=MD5",
      "Digest realm=\"r\", nonce=\"n3\", algorithm=SHA-512-256",
      "Basic realm=\"r\"",
      "Digest realm=\"r\", nonce=\"n4\", algorithm=SHA-256-sess",
  };
  auto c = strongestDigestChallenge(offered);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->nonce, "n4");
  offered.push_back("Digest realm=\"r\", nonce=\"n5\", algorithm=SHA-256");
  EXPECT_EQ(strongestDigestChallenge(offered)->nonce, "n5");
  // No algorithm parameter means MD5 (RFC 7616 3.3).
  auto plain = parseDigestChallenge("Digest realm=\"r\", nonce=\"n\"");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->algorithm, DigestAlgorithm::kMd5);
}

TEST(DigestClient, RejectsWithReasons) {
  std::string reason;
  EXPECT_FALSE(parseDigestChallenge("Basic realm=\"x\"", &reason));
  EXPECT_EQ(reason, "scheme Basic is not Digest");
  EXPECT_FALSE(parseDigestChallenge("Digest nonce=\"n\"", &reason));
  EXPECT_EQ(reason, "challenge without realm");
  EXPECT_FALSE(parseDigestChallenge("Digest realm=\"r\"", &reason));
  EXPECT_EQ(reason, "challenge without nonce");
  EXPECT_FALSE(
      parseDigestChallenge("Digest realm=\"r\", nonce=\"n\", algorithm=SHA-512-256", &reason));
  EXPECT_EQ(reason, "unsupported algorithm SHA-512-256");
  EXPECT_FALSE(parseDigestChallenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"", &reason));
  EXPECT_EQ(reason, "qop offers no \"auth\" (auth-int is not supported)");
  EXPECT_FALSE(parseDigestChallenge("Digest realm=\"r, nonce=\"n\"", &reason));
  EXPECT_FALSE(parseDigestChallenge("Digest realm=\"r\" nonce=\"n\"", &reason));
  EXPECT_EQ(reason, "expected ',' between parameters");
  EXPECT_FALSE(parseDigestChallenge("", &reason));
  EXPECT_FALSE(parseDigestChallenge("Digest realm=", &reason));
  std::vector<std::string> none{"Basic realm=\"x\""};
  EXPECT_FALSE(strongestDigestChallenge(none, &reason));
  EXPECT_EQ(reason, "scheme Basic is not Digest");
}

TEST(DigestClient, EscapesAndOddSpacing) {
  auto c = parseDigestChallenge(
      "digest  realm = \"a \\\"quoted\\\" realm\" ,, nonce=\"n\\\\1\",stale=TRUE,domain=\"sip:x\"");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->realm, "a \"quoted\" realm");
  EXPECT_EQ(c->nonce, "n\\1");
  EXPECT_TRUE(c->stale);
  DigestClient client = fixedCnonce("c");
  auto a = client.authorize(*c, "BYE", "sip:x", {"us\"er", "p", ""});
  EXPECT_NE(a.value.find("username=\"us\\\"er\", realm=\"a \\\"quoted\\\" realm\", "
                         "nonce=\"n\\\\1\""),
            std::string::npos)
      << a.value;
}

TEST(DigestClient, ConfiguredRealmMustMatch) {
  auto c = parseDigestChallenge("Digest realm=\"evil.example\", nonce=\"n\", qop=\"auth\"");
  ASSERT_TRUE(c);
  DigestClient client = fixedCnonce("c");
  auto a = client.authorize(*c, "INVITE", "sip:1@p", {"u", "p", "sip.provider.example"});
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.reason,
            "challenge realm \"evil.example\" is not the configured realm "
            "\"sip.provider.example\"");
  auto b = client.authorize(*c, "INVITE", "sip:1@p", {"u", "p", "evil.example"});
  EXPECT_TRUE(b.ok()) << b.reason;
}

TEST(DigestClient, NonceCountsPerNonceAndForgetsTheOldest) {
  DigestClient client = fixedCnonce("c");
  auto n1 = parseDigestChallenge("Digest realm=\"r\", nonce=\"one\", qop=\"auth\"");
  auto n2 = parseDigestChallenge("Digest realm=\"r\", nonce=\"two\", qop=\"auth\"");
  EXPECT_EQ(client.nextNonceCount("one"), 1u);
  EXPECT_NE(client.authorize(*n1, "INVITE", "sip:a", kMufasa).value.find("nc=00000001"),
            std::string::npos);
  EXPECT_NE(client.authorize(*n1, "BYE", "sip:a", kMufasa).value.find("nc=00000002"),
            std::string::npos);
  EXPECT_NE(client.authorize(*n2, "BYE", "sip:a", kMufasa).value.find("nc=00000001"),
            std::string::npos);
  EXPECT_EQ(client.nextNonceCount("one"), 3u);
  for (std::size_t i = 0; i < DigestClient::kRememberedNonces; ++i) {
    auto c = parseDigestChallenge("Digest realm=\"r\", qop=\"auth\", nonce=\"x" +
                                  std::to_string(i) + "\"");
    client.authorize(*c, "OPTIONS", "sip:a", kMufasa);
  }
  EXPECT_EQ(client.nextNonceCount("one"), 1u);  // forgotten
}

TEST(DigestClient, Userhash) {
  auto c = parseDigestChallenge(
      "Digest realm=\"http-auth@example.org\", nonce=\"n\", algorithm=SHA-256, userhash=true");
  ASSERT_TRUE(c);
  DigestClient client = fixedCnonce("c");
  auto a = client.authorize(*c, "GET", "/", kMufasa);
  // H("Mufasa:http-auth@example.org") with SHA-256 (RFC 7616 3.4.4).
  EXPECT_NE(a.value.find("username=\"a947aad205e80e429958a387394944c6b496301e79f89d35a4cc23b6ee1"
                         "2b5b6\""),
            std::string::npos)
      << a.value;
  EXPECT_NE(a.value.find("userhash=true"), std::string::npos);
}

TEST(DigestClient, RandomCnoncesDiffer) {
  DigestClient client;
  auto c = parseDigestChallenge("Digest realm=\"r\", nonce=\"n\", qop=\"auth\"");
  auto a = client.authorize(*c, "INVITE", "sip:a", kMufasa);
  auto b = client.authorize(*c, "INVITE", "sip:a", kMufasa);
  auto cnonceOf = [](const std::string& v) {
    auto p = v.find("cnonce=\"") + 8;
    return v.substr(p, v.find('"', p) - p);
  };
  EXPECT_EQ(cnonceOf(a.value).size(), 32u);
  EXPECT_NE(cnonceOf(a.value), cnonceOf(b.value));
}

}  // namespace
}  // namespace duplex::registrar
