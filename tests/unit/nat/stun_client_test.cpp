// STUN Binding transactions (RFC 5389 7.2.1 schedule) and the RFC 5780 NAT
// behaviour probe against a simulated NAT.
#include <gtest/gtest.h>

#include "fakes/fake_stun_network.h"
#include "nat/stun_client.h"

namespace duplex::nat {
namespace {

using fakes::FakeStunNetwork;
using std::chrono::milliseconds;

TEST(RetransmitSchedule, Rfc5389DefaultsGiveUpAfter39500ms) {
  const RetransmitSchedule s;
  EXPECT_EQ(s.sendOffsets(),
            (std::vector<milliseconds>{milliseconds(0), milliseconds(500), milliseconds(1500),
                                       milliseconds(3500), milliseconds(7500), milliseconds(15500),
                                       milliseconds(31500)}));
  EXPECT_EQ(s.giveUpAfter(), milliseconds(39500));
}

TEST(StunClient, SilentServerGetsSevenRequestsOnScheduleThenAPreciseError) {
  ManualClock clock;
  FakeStunNetwork net(clock);
  net.silent = true;
  StunClient client(net, clock);
  const auto start = clock.now();
  const auto r = client.binding(net.primary);
  EXPECT_FALSE(r.mapped);
  EXPECT_EQ(r.error, "no STUN reply from 198.51.100.1:3478 after 7 requests");
  EXPECT_EQ(net.send_times, RetransmitSchedule{}.sendOffsets());
  EXPECT_EQ(clock.now() - start, milliseconds(39500));
}

TEST(StunClient, LostRequestsAreRetransmittedAndTheAnswerUsed) {
  ManualClock clock;
  FakeStunNetwork net(clock);
  net.drop_requests = 2;
  StunClient client(net, clock);
  const auto r = client.binding(net.primary);
  ASSERT_TRUE(r.mapped) << r.error;
  EXPECT_EQ(r.mapped->toString(), "203.0.113.5:40001");
  EXPECT_EQ(r.requests_sent, 3);
}

TEST(StunClient, GarbageAndForeignTransactionsAreIgnored) {
  ManualClock clock;
  FakeStunNetwork net(clock);
  net.send_garbage_first = true;
  StunClient client(net, clock);
  const auto r = client.binding(net.primary);
  ASSERT_TRUE(r.mapped) << r.error;
  EXPECT_EQ(r.ignored, 2);
  ASSERT_TRUE(r.other_address);
  EXPECT_EQ(r.other_address->toString(), "198.51.100.2:3479");
}

struct ProbeCase {
  FakeStunNetwork::Mapping mapping;
  FakeStunNetwork::Filtering filtering;
  MappingBehavior want_mapping;
  FilteringBehavior want_filtering;
  const char* text_start;
};

class NatTypeProbe : public testing::TestWithParam<ProbeCase> {};

TEST_P(NatTypeProbe, VerdictMatchesTheSimulatedNat) {
  const auto& c = GetParam();
  ManualClock clock;
  FakeStunNetwork net(clock);
  net.mapping = c.mapping;
  net.filtering = c.filtering;
  FakeStunNetwork fresh(clock);  // the second socket: its own NAT state
  fresh.mapping = c.mapping;
  fresh.filtering = c.filtering;
  StunClient client(net, clock, RetransmitSchedule{milliseconds(100), 3, 4});
  StunClient filtering(fresh, clock, RetransmitSchedule{milliseconds(100), 3, 4});
  const auto r = probeNatType(client, filtering, net.primary, {net.local.ip}, net.local.port);
  ASSERT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.verdict.mapping, c.want_mapping);
  EXPECT_EQ(r.verdict.filtering, c.want_filtering);
  EXPECT_EQ(r.verdict.text.rfind(c.text_start, 0), 0u) << r.verdict.text;
  EXPECT_EQ(r.verdict.server, "198.51.100.1:3478");
}

using M = FakeStunNetwork::Mapping;
using F = FakeStunNetwork::Filtering;
INSTANTIATE_TEST_SUITE_P(
    Behaviours, NatTypeProbe,
    testing::Values(
        ProbeCase{M::kEndpointIndependent, F::kEndpointIndependent,
                  MappingBehavior::kEndpointIndependent, FilteringBehavior::kEndpointIndependent,
                  "endpoint-independent mapping: phones with STUN will work"},
        ProbeCase{M::kEndpointIndependent, F::kAddressDependent,
                  MappingBehavior::kEndpointIndependent, FilteringBehavior::kAddressDependent,
                  "endpoint-independent mapping"},
        ProbeCase{M::kEndpointIndependent, F::kAddressAndPortDependent,
                  MappingBehavior::kEndpointIndependent,
                  FilteringBehavior::kAddressAndPortDependent, "endpoint-independent mapping"},
        ProbeCase{M::kAddressDependent, F::kAddressDependent, MappingBehavior::kAddressDependent,
                  FilteringBehavior::kAddressDependent,
                  "address-dependent mapping (symmetric): only relayed media works"},
        ProbeCase{M::kAddressAndPortDependent, F::kAddressAndPortDependent,
                  MappingBehavior::kAddressAndPortDependent,
                  FilteringBehavior::kAddressAndPortDependent,
                  "address- and port-dependent mapping (symmetric)"},
        ProbeCase{M::kNone, F::kEndpointIndependent, MappingBehavior::kNoNat,
                  FilteringBehavior::kUnknown, "no NAT"}));

TEST(NatTypeProbeWithoutOtherAddress, StaysUnknownAndSaysWhy) {
  ManualClock clock;
  FakeStunNetwork net(clock);
  net.other_address = false;
  StunClient client(net, clock, RetransmitSchedule{milliseconds(100), 3, 4});
  const auto r = probeNatType(client, client, net.primary, {net.local.ip}, net.local.port);
  ASSERT_TRUE(r.mapped);
  EXPECT_EQ(r.mapped->ip.toString(), "203.0.113.5");
  EXPECT_EQ(r.verdict.mapping, MappingBehavior::kUnknown);
  EXPECT_NE(r.verdict.text.find("RFC 5780"), std::string::npos);
}

TEST(NatTypeProbeSilent, ReportsTheTimeout) {
  ManualClock clock;
  FakeStunNetwork net(clock);
  net.silent = true;
  StunClient client(net, clock, RetransmitSchedule{milliseconds(100), 3, 4});
  const auto r = probeNatType(client, client, net.primary, {net.local.ip}, net.local.port);
  EXPECT_FALSE(r.mapped);
  EXPECT_EQ(r.error, "no STUN reply from 198.51.100.1:3478 after 3 requests");
}

}  // namespace
}  // namespace duplex::nat
