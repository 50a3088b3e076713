// The layer as the SIP loop sees it: the clock, configuration, one timer
// (nextDeadline/onTimer), stateless sends, counters, and many transactions.
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

TEST(ManualClock, MovesOnlyWhenTold) {
  ManualClock clock;
  const auto start = clock.now();
  EXPECT_EQ(clock.now(), start);
  clock.advance(250ms);
  EXPECT_EQ(clock.now() - start, 250ms);
  SystemClock system;
  const auto a = system.now();
  const auto b = system.now();
  EXPECT_LE(a, b);
}

TEST(TransactionLayerConfig, RejectsTimersThatCannotWork) {
  ManualClock clock;
  FakeTransport transport(clock);
  FakeTu tu(clock);
  EXPECT_THROW(TransactionLayer(clock, transport, tu, {0ms, 4000ms, 5000ms, 32000ms}),
               std::invalid_argument);
  EXPECT_THROW(TransactionLayer(clock, transport, tu, {500ms, 400ms, 5000ms, 32000ms}),
               std::invalid_argument);
  EXPECT_THROW(TransactionLayer(clock, transport, tu, {500ms, 4000ms, -1ms, 32000ms}),
               std::invalid_argument);
  EXPECT_NO_THROW(TransactionLayer(clock, transport, tu, {}));
}

class LayerTest : public TransactionTest {};

TEST_F(LayerTest, NextDeadlineFollowsTheEarliestLiveTimer) {
  EXPECT_FALSE(layer().nextDeadline().has_value());
  auto invite = layer().sendRequest(outgoingRequest("INVITE"), kPhoneUdp);
  ASSERT_TRUE(invite.ok());
  EXPECT_EQ(layer().nextDeadline(), t0 + 500ms);  // Timer A
  clock.advance(100ms);
  auto options = layer().sendRequest(outgoingRequest("OPTIONS"), kPhoneTcp);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(layer().nextDeadline(), t0 + 500ms);  // F of the TCP one is later
  // A 180 cancels A and B: the deadline left is the OPTIONS's Timer F.
  deliver(responseFor(transport.sent[0].message, 180, "Ringing"));
  EXPECT_EQ(layer().nextDeadline(), t0 + 100ms + 32s);
  // Firing early does nothing.
  layer().onTimer(clock.now());
  EXPECT_EQ(tu.count(TuEvent::kClientTimeout), 0u);
  // Firing late fires what is due, once.
  clock.advance(60s);
  layer().onTimer(clock.now());
  EXPECT_EQ(tu.count(TuEvent::kClientTimeout), 1u);
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(LayerTest, LateLoopRetransmitsOnceAndReschedulesFromNow) {
  ASSERT_TRUE(layer().sendRequest(outgoingRequest("OPTIONS"), kPhoneUdp).ok());
  clock.advance(3s);  // the loop was busy for 3 s
  layer().onTimer(clock.now());
  EXPECT_EQ(sendTimes(isRequest), ms({0, 3000}));  // no burst of missed copies
  EXPECT_EQ(layer().nextDeadline(), clock.now() + 1000ms);
}

TEST_F(LayerTest, SendStatelessPassesThrough) {
  Message ack = outgoingRequest("ACK", 7, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKack");
  EXPECT_TRUE(layer().sendStateless(ack, kPhoneUdp));
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].wire, ack.serialize());
  EXPECT_EQ(layer().stats().live, 0u);
}

TEST_F(LayerTest, StatsCountWhatHappened) {
  auto id = layer().sendRequest(outgoingRequest("OPTIONS"), kPhoneUdp);
  ASSERT_TRUE(id.ok());
  RequestSpec spec;
  deliver(received(spec, udpFrom("192.168.1.10", 5060)));
  deliver(received(spec, udpFrom("192.168.1.10", 5060)));
  const TransactionStats& s = layer().stats();
  EXPECT_EQ(s.client_created, 1u);
  EXPECT_EQ(s.server_created, 1u);
  EXPECT_EQ(s.live, 2u);
  EXPECT_EQ(s.retransmissions_absorbed, 1u);
  EXPECT_EQ(s.retransmissions_sent, 1u);  // the 100 Trying again
  runTo(40s);
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.live, 1u);  // the INVITE server waits for its TU
}

TEST_F(LayerTest, TerminationIsReportedOnceAfterEveryOtherCallback) {
  auto id = layer().sendRequest(outgoingRequest("INVITE"), kPhoneTcp);
  ASSERT_TRUE(id.ok());
  // The TU starts a new transaction from inside onTerminated: allowed.
  bool started = false;
  tu.on_terminated = [&](TransactionId) {
    if (!started) {
      started = true;
      EXPECT_TRUE(layer().sendRequest(outgoingRequest("BYE", 8), kPhoneTcp).ok());
    }
  };
  deliver(responseFor(transport.sent[0].message, 500, "Server Internal Error", "x"));
  ASSERT_EQ(tu.records.size(), 2u);
  EXPECT_EQ(tu.records[0].event, TuEvent::kResponse);
  EXPECT_EQ(tu.records[1].event, TuEvent::kTerminated);
  EXPECT_TRUE(started);
  EXPECT_EQ(layer().stats().live, 1u);
}

TEST_F(LayerTest, TenThousandTransactionsRunTheirScheduleAndLeaveNothingBehind) {
  constexpr int kCount = 10000;
  std::vector<TransactionId> ids;
  for (int i = 0; i < kCount; ++i) {
    Message request = outgoingRequest("OPTIONS", static_cast<std::uint32_t>(i + 1));
    request.setHeader("Call-ID", "bulk-" + std::to_string(i));
    auto id = layer().sendRequest(std::move(request), kPhoneUdp);
    ASSERT_TRUE(id.ok());
    ids.push_back(*id);
    if (i % 100 == 0) clock.advance(1ms);
  }
  // Half get a final response at once (cancelling E and F: stale heap entries).
  for (int i = 0; i < kCount; i += 2) {
    deliver(responseFor(transport.sent[static_cast<std::size_t>(i)].message, 200, "OK", "x"));
  }
  transport.record = false;
  runFor(60s);
  EXPECT_EQ(tu.count(TuEvent::kClientTimeout), static_cast<std::size_t>(kCount / 2));
  EXPECT_EQ(tu.count(TuEvent::kTerminated), static_cast<std::size_t>(kCount));
  EXPECT_EQ(layer().stats().live, 0u);
  EXPECT_FALSE(layer().nextDeadline().has_value());
  // 1 + 10 sends for each one that timed out, 1 for each answered one.
  EXPECT_EQ(transport.sends, static_cast<std::size_t>(kCount / 2 * 11 + kCount / 2));
}

}  // namespace
}  // namespace duplex::sip::testing
