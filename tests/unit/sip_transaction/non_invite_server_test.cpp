// Non-INVITE server transaction, RFC 3261 17.2.2.
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

class NonInviteServerTest : public TransactionTest {
 protected:
  NonInviteServerTest() {
    request.method = "REGISTER";
    request.uri = "sip:pbx.example.com";
    request.via = "SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bKreg1;rport";
  }
  Origin origin = udpFrom("203.0.113.5", 40001);
  TransactionId receive() {
    EXPECT_EQ(deliver(received(request, origin)), Inbound::kNewServerTransaction);
    return tu.of(TuEvent::kRequest).back()->id;
  }
  Inbound retransmit() { return deliver(received(request, origin)); }
  bool respond(TransactionId id, int code, std::string_view reason) {
    const Message* r = layer().request(id);
    if (r == nullptr) return false;  // gone, or completed (keeps only the bytes)
    return layer().sendResponse(id, Message::responseTo(*r, code, reason, "pbx"));
  }
  RequestSpec request;
};

TEST_F(NonInviteServerTest, TryingAbsorbsRetransmissionsSilently) {
  receive();
  EXPECT_TRUE(transport.sent.empty());  // no automatic 100 for non-INVITE
  runTo(500ms);
  EXPECT_EQ(retransmit(), Inbound::kMatched);
  runTo(1500ms);
  EXPECT_EQ(retransmit(), Inbound::kMatched);
  EXPECT_TRUE(transport.sent.empty());
  EXPECT_EQ(tu.count(TuEvent::kRequest), 1u);
}

TEST_F(NonInviteServerTest, ProceedingAndCompletedResendLastResponse) {
  const TransactionId id = receive();
  ASSERT_TRUE(respond(id, 100, "Trying"));
  runTo(500ms);
  retransmit();
  ASSERT_TRUE(respond(id, 200, "OK"));
  runTo(1500ms);
  retransmit();
  runTo(3500ms);
  retransmit();
  EXPECT_EQ(sendTimes(status(100)), ms({0, 500}));
  EXPECT_EQ(sendTimes(status(200)), ms({500, 1500, 3500}));  // only on request
  // The responses go where the packet came from (rport).
  for (const auto& s : transport.sent) {
    EXPECT_EQ(s.to.endpoint, (Endpoint{"203.0.113.5", 40001}));
  }
  EXPECT_EQ(tu.count(TuEvent::kRequest), 1u);
}

TEST_F(NonInviteServerTest, CompletedKeepsOnlyTheResponseBytesAndStillResendsThem) {
  const TransactionId id = receive();
  ASSERT_TRUE(respond(id, 200, "OK"));
  const std::string first = transport.sent.back().wire;
  EXPECT_EQ(layer().request(id), nullptr);  // the parsed request is released
  runTo(2s);
  EXPECT_EQ(retransmit(), Inbound::kMatched);
  ASSERT_EQ(sendTimes(status(200)), ms({0, 2000}));
  EXPECT_EQ(transport.sent.back().wire, first);  // byte for byte
  EXPECT_FALSE(layer().sendResponse(
      id, Message::responseTo(received(request, origin), 500, "Server Internal Error", "pbx")));
}

TEST_F(NonInviteServerTest, StatelessFinalEndsTheTransactionSoARetransmissionIsNew) {
  const TransactionId id = receive();
  Message challenge = Message::responseTo(*layer().request(id), 401, "Unauthorized", "pbx");
  ASSERT_TRUE(layer().sendFinalResponseStateless(id, std::move(challenge)));
  EXPECT_EQ(sendTimes(status(401)), ms({0}));
  EXPECT_EQ(layer().request(id), nullptr);
  EXPECT_EQ(layer().stats().live, 0u);
  // The phone did not get it and retransmits: the TU sees a new request
  // (and challenges again), nothing is re-sent from state.
  runTo(500ms);
  EXPECT_EQ(retransmit(), Inbound::kNewServerTransaction);
  EXPECT_EQ(tu.count(TuEvent::kRequest), 2u);
  EXPECT_EQ(sendTimes(status(401)), ms({0}));
  // Provisionals cannot be stateless finals.
  const TransactionId again = tu.of(TuEvent::kRequest).back()->id;
  EXPECT_FALSE(layer().sendFinalResponseStateless(
      again, Message::responseTo(*layer().request(again), 100, "Trying", "pbx")));
}

TEST_F(NonInviteServerTest, CompletedRefusesAnotherFinalAndTimerJTerminates) {
  const TransactionId id = receive();
  runTo(100ms);
  ASSERT_TRUE(respond(id, 200, "OK"));
  EXPECT_FALSE(respond(id, 500, "Server Internal Error"));
  EXPECT_FALSE(respond(id, 180, "Ringing"));
  runTo(100ms + 32s - 1ms);
  EXPECT_FALSE(tu.terminated(id));
  EXPECT_EQ(layer().stats().live, 1u);  // Completed counts as live until J
  EXPECT_EQ(retransmit(), Inbound::kMatched);
  EXPECT_EQ(layer().nextDeadline(), t0 + 100ms + 32s);
  runTo(100ms + 32s);  // Timer J = 64*T1
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(layer().stats().live, 0u);
  // After J a retransmission is a new request again.
  EXPECT_EQ(retransmit(), Inbound::kNewServerTransaction);
}

TEST_F(NonInviteServerTest, ReliableTransportFinalTerminatesAtOnce) {
  request.via = "SIP/2.0/TCP 192.168.1.10:5062;branch=z9hG4bKreg2";
  origin = tcpFrom("203.0.113.5", 50123, 11);
  const TransactionId id = receive();
  ASSERT_TRUE(respond(id, 200, "OK"));
  EXPECT_TRUE(tu.terminated(id));  // Timer J = 0
  EXPECT_EQ(transport.sent[0].to.connection_id, 11u);
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(NonInviteServerTest, NoTimersBeforeTheTuAnswers) {
  receive();
  EXPECT_FALSE(layer().nextDeadline().has_value());  // the TU owns the pace
}

}  // namespace
}  // namespace duplex::sip::testing
