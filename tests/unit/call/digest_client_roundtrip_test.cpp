// The client digest (registrar/digest_client.h) answering the PBX's own
// server-side challenges end to end through the SIP header text: the
// challenge formatted as the 407 carries it, the answer parsed as the next
// INVITE carries it, verified by DigestAuthenticator.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pbx/call/digest_headers.h"
#include "registrar/digest_client.h"

namespace duplex::call {
namespace {

using registrar::AuthOutcome;
using registrar::DigestAlgorithm;

const std::vector<std::uint8_t> kSecret(32, 0x3c);
constexpr std::string_view kRealm = "pbx.example";
constexpr std::int64_t kNow = 1'800'000'000;
constexpr registrar::AuthPeer kPeer{"192.0.2.7", "trunk-test"};

class DigestRoundTrip : public ::testing::Test {
 protected:
  std::string md5 = registrar::ha1(DigestAlgorithm::kMd5, "201", kRealm, "Pa55-word!");
  std::string sha = registrar::ha1(DigestAlgorithm::kSha256, "201", kRealm, "Pa55-word!");
  registrar::AuthFailureCounter failures;

  // The answer text, parsed back and verified as call control would.
  registrar::AuthResult verify(registrar::DigestAuthenticator& server, const std::string& value,
                               std::string_view method) {
    auto line = sip::Credentials::parse(value);
    EXPECT_TRUE(line.ok()) << value;
    if (!line.ok()) return {};
    std::vector<sip::Credentials> lines{line.value()};
    auto credentials = selectCredentials(lines, kRealm);
    EXPECT_TRUE(credentials);
    if (!credentials) return {};
    EXPECT_TRUE(digestUriMatches(credentials->uri, "sip:0044@pbx.example"));
    return server.verify(*credentials, method, registrar::StoredHa1{md5, sha, kRealm}, kPeer, kNow);
  }

  std::vector<std::string> headerValues(registrar::DigestAuthenticator& server) {
    std::vector<std::string> out;
    for (const auto& c : server.challenge(kNow)) out.push_back(formatChallenge(c));
    return out;
  }
};

TEST_F(DigestRoundTrip, AnswersTheStrongestChallengeAndCountsNc) {
  registrar::DigestAuthenticator server(
      kSecret, kRealm, failures, {.algorithms = {DigestAlgorithm::kMd5, DigestAlgorithm::kSha256}});
  auto offered = headerValues(server);
  ASSERT_EQ(offered.size(), 2u);
  auto chosen = registrar::strongestDigestChallenge(offered);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->algorithm, DigestAlgorithm::kSha256);  // although offered second

  registrar::DigestClient client;
  const registrar::DigestClientCredentials me{"201", "Pa55-word!", ""};
  auto first = client.authorize(*chosen, "INVITE", "sip:0044@pbx.example", me);
  ASSERT_TRUE(first.ok()) << first.reason;
  auto r1 = verify(server, first.value, "INVITE");
  EXPECT_EQ(r1.outcome, AuthOutcome::kOk) << r1.reason;
  EXPECT_EQ(r1.algorithm, DigestAlgorithm::kSha256);

  // The same nonce again (a BYE on the dialog): nc 2 is accepted, a replay
  // of the first answer is not.
  auto second = client.authorize(*chosen, "BYE", "sip:0044@pbx.example", me);
  EXPECT_EQ(verify(server, second.value, "BYE").outcome, AuthOutcome::kOk);
  EXPECT_EQ(verify(server, first.value, "INVITE").outcome, AuthOutcome::kReplay);
}

TEST_F(DigestRoundTrip, Md5OnlyServerAndWrongPassword) {
  registrar::DigestAuthenticator server(kSecret, kRealm, failures,
                                        {.algorithms = {DigestAlgorithm::kMd5}});
  auto offered = headerValues(server);
  auto chosen = registrar::strongestDigestChallenge(offered);
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->algorithm, DigestAlgorithm::kMd5);
  registrar::DigestClient client;
  auto good = client.authorize(*chosen, "INVITE", "sip:0044@pbx.example",
                               {"201", "Pa55-word!", "pbx.example"});
  EXPECT_EQ(verify(server, good.value, "INVITE").outcome, AuthOutcome::kOk);
  auto bad = client.authorize(*chosen, "INVITE", "sip:0044@pbx.example", {"201", "guess", ""});
  EXPECT_EQ(verify(server, bad.value, "INVITE").outcome, AuthOutcome::kForbidden);
  // Signed for another method than the request's: refused too.
  auto other =
      client.authorize(*chosen, "INVITE", "sip:0044@pbx.example", {"201", "Pa55-word!", ""});
  EXPECT_EQ(verify(server, other.value, "BYE").outcome, AuthOutcome::kForbidden);
}

}  // namespace
}  // namespace duplex::call
