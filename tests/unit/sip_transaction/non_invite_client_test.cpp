// Non-INVITE client transaction, RFC 3261 17.1.2, and response matching
// (RFC 3261 17.1.3).
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

class NonInviteClientTest : public TransactionTest {
 protected:
  TransactionId start(const Destination& to = kPhoneUdp, std::string_view method = "OPTIONS") {
    auto id = layer().sendRequest(outgoingRequest(method), to);
    EXPECT_TRUE(id.ok()) << id.error().reason;
    return id.ok() ? *id : 0;
  }
  const Message& sentRequest() const { return transport.sent.front().message; }
};

TEST_F(NonInviteClientTest, TimerEDoublesUpToT2UntilTimerFThenTimeout408) {
  const TransactionId id = start();
  runTo(40s);
  // RFC 3261 17.1.2.2: E = T1, 2T1, 4T1, then T2 (4 s) until F = 64*T1.
  EXPECT_EQ(sendTimes(isRequest),
            ms({0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  auto timeouts = tu.of(TuEvent::kClientTimeout);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0]->at - t0, 32s);
  EXPECT_EQ(timeouts[0]->message->statusCode(), 408);
  EXPECT_EQ(timeouts[0]->message->cseq()->method, "OPTIONS");
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(layer().stats().timeouts, 1u);
}

TEST_F(NonInviteClientTest, ProceedingRetransmitsEveryT2) {
  start();
  runTo(700ms);
  deliver(responseFor(sentRequest(), 100, "Trying"));
  runTo(40s);
  // E was 1 s when the 100 came; from its next firing (1.5 s) it is T2.
  EXPECT_EQ(sendTimes(isRequest),
            ms({0, 500, 1500, 5500, 9500, 13500, 17500, 21500, 25500, 29500}));
  EXPECT_EQ(tu.count(TuEvent::kResponse), 1u);
  ASSERT_EQ(tu.count(TuEvent::kClientTimeout), 1u);  // F still runs in Proceeding
  EXPECT_EQ(tu.of(TuEvent::kClientTimeout)[0]->at - t0, 32s);
}

TEST_F(NonInviteClientTest, ReliableTransportNeverRetransmits) {
  const TransactionId id = start(kPhoneTcp);
  runTo(40s);
  EXPECT_EQ(sendTimes(isRequest), ms({0}));
  EXPECT_EQ(tu.count(TuEvent::kClientTimeout), 1u);
  EXPECT_TRUE(tu.terminated(id));
}

TEST_F(NonInviteClientTest, FinalGoesToTuOnceAndTimerKAbsorbsRetransmissions) {
  const TransactionId id = start();
  runTo(600ms);
  deliver(responseFor(sentRequest(), 200, "OK", "x"));
  runTo(3s);
  EXPECT_EQ(deliver(responseFor(sentRequest(), 200, "OK", "x")), Inbound::kMatched);
  EXPECT_EQ(tu.count(TuEvent::kResponse), 1u);
  EXPECT_EQ(sendTimes(isRequest), ms({0, 500}));  // E stopped
  runTo(600ms + 5s - 1ms);
  EXPECT_FALSE(tu.terminated(id));
  runTo(600ms + 5s);  // Timer K = T4
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(tu.count(TuEvent::kClientTimeout), 0u);
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(NonInviteClientTest, ReliableFinalTerminatesAtOnce) {
  const TransactionId id = start(kPhoneTcp);
  deliver(responseFor(sentRequest(), 404, "Not Found", "x"));
  EXPECT_EQ(tu.count(TuEvent::kResponse), 1u);
  EXPECT_TRUE(tu.terminated(id));  // Timer K = 0
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(NonInviteClientTest, ResponsesMatchByBranchAndCSeqMethod) {
  const TransactionId options = start();
  const TransactionId info = start(kPhoneUdp, "INFO");
  ASSERT_NE(options, info);
  const Message& info_request = transport.sent[1].message;
  deliver(responseFor(info_request, 200, "OK", "x"));
  auto responses = tu.of(TuEvent::kResponse);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0]->id, info);

  // Same branch, other CSeq method: not this transaction (RFC 3261 17.1.3).
  Message wrong_method = parseOrDie(Message::responseTo(sentRequest(), 200, "OK").serialize());
  wrong_method.setHeader("CSeq", "7 BYE");
  wrong_method.setOrigin(udpFrom("192.168.1.20", 5060));
  EXPECT_EQ(deliver(std::move(wrong_method)), Inbound::kStrayResponse);

  // Unknown branch.
  Message unknown = parseOrDie(Message::responseTo(sentRequest(), 200, "OK").serialize());
  unknown.removeFirstHeader(HeaderId::kVia);
  unknown.prependHeader("Via", "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnotours");
  unknown.setOrigin(udpFrom("192.168.1.20", 5060));
  EXPECT_EQ(deliver(std::move(unknown)), Inbound::kStrayResponse);
  EXPECT_EQ(tu.count(TuEvent::kStrayResponse), 2u);
  EXPECT_EQ(layer().stats().stray_responses, 2u);
}

TEST_F(NonInviteClientTest, KeepsABranchTheTuChose) {
  auto id = layer().sendRequest(
      outgoingRequest("REGISTER", 1, "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKmine;rport"),
      kPhoneUdp);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(sentRequest().topVia()->branch, "z9hG4bKmine");
  EXPECT_TRUE(sentRequest().topVia()->has_rport);
}

TEST_F(NonInviteClientTest, NewBranchesAreUniqueAndCarryTheCookie) {
  std::vector<std::string> branches;
  branches.reserve(10000);
  for (int i = 0; i < 10000; ++i) branches.push_back(layer().newBranch());
  for (const auto& b : branches) ASSERT_TRUE(b.starts_with("z9hG4bK")) << b;
  std::sort(branches.begin(), branches.end());
  EXPECT_EQ(std::adjacent_find(branches.begin(), branches.end()), branches.end());
  // Another layer (another process start) draws other random bits.
  TransactionLayer other(clock, transport, tu);
  EXPECT_NE(other.newBranch(), layer().newBranch());
}

}  // namespace
}  // namespace duplex::sip::testing
