// INVITE client transaction, RFC 3261 17.1.1 (+ RFC 6026 Accepted).
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

class InviteClientTest : public TransactionTest {
 protected:
  TransactionId start(const Destination& to = kPhoneUdp) {
    auto id = layer().sendRequest(outgoingRequest("INVITE"), to);
    EXPECT_TRUE(id.ok()) << id.error().reason;
    return id.ok() ? *id : 0;
  }
  const Message& sentRequest() const { return transport.sent.front().message; }
};

TEST_F(InviteClientTest, AddsBranchWithMagicCookieAndSendsToDestination) {
  start();
  ASSERT_EQ(transport.sent.size(), 1u);
  auto via = sentRequest().topVia();
  ASSERT_TRUE(via.ok());
  EXPECT_TRUE(via->branch.starts_with("z9hG4bK"));
  EXPECT_GT(via->branch.size(), 7u + 8u);
  EXPECT_EQ(transport.sent.front().to, kPhoneUdp);
  EXPECT_EQ(transport.sent.front().wire, sentRequest().serialize());
}

TEST_F(InviteClientTest, TimerADoublesWithoutCapUntilTimerBThenTimeout408) {
  const TransactionId id = start();
  runTo(40s);
  // RFC 3261 17.1.1.2: A = T1, 2T1, 4T1... (no T2 cap for INVITE); B = 64*T1.
  EXPECT_EQ(sendTimes(isRequest), ms({0, 500, 1500, 3500, 7500, 15500, 31500}));
  auto timeouts = tu.of(TuEvent::kClientTimeout);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0]->id, id);
  EXPECT_EQ(timeouts[0]->at - t0, 32s);
  EXPECT_EQ(timeouts[0]->message->statusCode(), 408);
  EXPECT_EQ(timeouts[0]->message->cseq()->method, "INVITE");
  EXPECT_EQ(timeouts[0]->message->callId(), "out1@pbx.example.com");
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(layer().request(id), nullptr);
  EXPECT_FALSE(layer().nextDeadline().has_value());
  EXPECT_EQ(layer().stats().retransmissions_sent, 6u);
  EXPECT_EQ(layer().stats().live, 0u);
}

TEST_F(InviteClientTest, ReliableTransportNeverRetransmitsButTimesOut) {
  const TransactionId id = start(kPhoneTcp);
  runTo(40s);
  EXPECT_EQ(sendTimes(isRequest), ms({0}));
  ASSERT_EQ(tu.count(TuEvent::kClientTimeout), 1u);
  EXPECT_EQ(tu.of(TuEvent::kClientTimeout)[0]->at - t0, 32s);
  EXPECT_TRUE(tu.terminated(id));
}

TEST_F(InviteClientTest, ProvisionalStopsRetransmissionsAndTimerB) {
  const TransactionId id = start();
  runTo(1000ms);
  deliver(responseFor(sentRequest(), 180, "Ringing", "callee"));
  deliver(responseFor(sentRequest(), 180, "Ringing", "callee"));  // passed up again
  runTo(200s);
  EXPECT_EQ(sendTimes(isRequest), ms({0, 500}));
  EXPECT_EQ(tu.count(TuEvent::kResponse), 2u);
  EXPECT_EQ(tu.count(TuEvent::kClientTimeout), 0u);
  EXPECT_FALSE(tu.terminated(id));  // Proceeding waits for the TU (Timer C, CANCEL)
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(InviteClientTest, NonSuccessFinalIsAckedWithSameBranchToFromResponseAndRoutes) {
  const TransactionId id = start();
  runTo(100ms);
  deliver(responseFor(sentRequest(), 486, "Busy Here", "callee-tag"));

  ASSERT_EQ(tu.count(TuEvent::kResponse), 1u);
  EXPECT_EQ(tu.of(TuEvent::kResponse)[0]->message->statusCode(), 486);
  ASSERT_EQ(transport.sent.size(), 2u);
  const SentMessage& ack = transport.sent[1];
  ASSERT_TRUE(isAck(ack.message));
  EXPECT_EQ(ack.to, kPhoneUdp);  // RFC 3261 17.1.1.3: same address, port, transport
  // Re-parse what went on the wire: that is what the phone sees.
  Message wire = parseOrDie(ack.wire);
  EXPECT_EQ(wire.requestUriText(), sentRequest().requestUriText());
  EXPECT_EQ(wire.headerLineCount(HeaderId::kVia), 1u);
  EXPECT_EQ(wire.topVia()->branch, sentRequest().topVia()->branch);
  EXPECT_EQ(wire.to()->tag(), "callee-tag");
  EXPECT_EQ(wire.from()->tag(), "pbx1");
  EXPECT_EQ(wire.callId(), "out1@pbx.example.com");
  EXPECT_EQ(wire.cseq()->number, 7u);
  EXPECT_EQ(wire.cseq()->method, "ACK");
  auto routes = wire.routes();
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_EQ((*routes)[0].uri.host(), "proxy1.example.com");
  EXPECT_EQ((*routes)[1].uri.host(), "proxy2.example.com");
  EXPECT_EQ(wire.contentLength()->value_or(99), 0u);
  EXPECT_FALSE(tu.terminated(id));
}

TEST_F(InviteClientTest, CompletedResendsAckForRetransmittedFinalAndTimerDTerminates) {
  const TransactionId id = start();
  deliver(responseFor(sentRequest(), 486, "Busy Here", "t"));
  runTo(5s);
  EXPECT_EQ(deliver(responseFor(sentRequest(), 486, "Busy Here", "t")), Inbound::kMatched);
  EXPECT_EQ(tu.count(TuEvent::kResponse), 1u);  // absorbed
  EXPECT_EQ(sendTimes(isAck), ms({0, 5000}));
  EXPECT_EQ(sendTimes(isRequest), ms({0}));  // no A retransmission any more
  runTo(32s - 1ms);
  EXPECT_FALSE(tu.terminated(id));
  runTo(32s);  // Timer D: 32 s for UDP
  EXPECT_TRUE(tu.terminated(id));
  // After D, a late final is stray.
  EXPECT_EQ(deliver(responseFor(sentRequest(), 486, "Busy Here", "t")), Inbound::kStrayResponse);
}

TEST_F(InviteClientTest, CompletedKeepsOnlyItsAckAndResendsTheSameBytes) {
  const TransactionId id = start();
  EXPECT_NE(layer().request(id), nullptr);
  deliver(responseFor(sentRequest(), 487, "Request Terminated", "t"));
  // Completed re-sends its ACK for Timer D: the INVITE is not kept.
  EXPECT_EQ(layer().request(id), nullptr);
  runTo(3s);
  deliver(responseFor(sentRequest(), 487, "Request Terminated", "t"));
  ASSERT_EQ(sendTimes(isAck), ms({0, 3000}));
  const SentMessage& first = transport.sent[1];
  const SentMessage& again = transport.sent[2];
  EXPECT_EQ(again.wire, first.wire);
  EXPECT_EQ(again.to, kPhoneUdp);
  EXPECT_EQ(first.message.topVia()->branch, sentRequest().topVia()->branch);
  EXPECT_EQ(first.message.cseq()->number, sentRequest().cseq()->number);
}

TEST_F(InviteClientTest, ReliableNonSuccessFinalAcksAndTerminatesAtOnce) {
  const TransactionId id = start(kPhoneTcp);
  deliver(responseFor(sentRequest(), 603, "Decline", "t"));
  EXPECT_EQ(sendTimes(isAck), ms({0}));
  EXPECT_EQ(transport.sent[1].to, kPhoneTcp);
  EXPECT_TRUE(tu.terminated(id));  // Timer D = 0
  // The response reached the TU before the termination.
  ASSERT_GE(tu.records.size(), 2u);
  EXPECT_EQ(tu.records[0].event, TuEvent::kResponse);
  EXPECT_EQ(tu.records.back().event, TuEvent::kTerminated);
}

TEST_F(InviteClientTest, SuccessGoesToTuWithoutAckAndAcceptedPassesRetransmissionsUntilM) {
  const TransactionId id = start();
  runTo(200ms);
  deliver(responseFor(sentRequest(), 200, "OK", "callee"));
  runTo(2s);
  deliver(responseFor(sentRequest(), 200, "OK", "callee"));       // RFC 6026: to the TU
  deliver(responseFor(sentRequest(), 180, "Ringing", "callee"));  // discarded in Accepted
  EXPECT_EQ(tu.count(TuEvent::kResponse), 2u);
  EXPECT_EQ(sendTimes(isAck), ms({}));  // the ACK for 2xx is the dialog layer's job
  EXPECT_EQ(sendTimes(isRequest), ms({0}));
  runTo(200ms + 32s - 1ms);
  EXPECT_FALSE(tu.terminated(id));
  runTo(200ms + 32s);  // Timer M = 64*T1
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(deliver(responseFor(sentRequest(), 200, "OK", "callee")), Inbound::kStrayResponse);
  EXPECT_EQ(tu.count(TuEvent::kStrayResponse), 1u);
}

TEST_F(InviteClientTest, FailedFirstSendReturns503AndNoCallbacks) {
  transport.fail = true;
  auto id = layer().sendRequest(outgoingRequest("INVITE"), kPhoneUdp);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().status, 503);
  EXPECT_TRUE(tu.records.empty());
  EXPECT_FALSE(layer().nextDeadline().has_value());
  EXPECT_EQ(layer().stats().live, 0u);
}

TEST_F(InviteClientTest, FailedRetransmissionIsATransportError) {
  const TransactionId id = start();
  transport.fail = true;
  runTo(600ms);
  ASSERT_EQ(tu.count(TuEvent::kTransportError), 1u);
  EXPECT_EQ(tu.of(TuEvent::kTransportError)[0]->id, id);
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(InviteClientTest, ConnectionFailureFailsTransactionsOnThatConnection) {
  const TransactionId on_42 = start(kPhoneTcp);
  Destination other = kPhoneTcp;
  other.connection_id = 43;
  auto on_43 = layer().sendRequest(outgoingRequest("INVITE", 8), other);
  ASSERT_TRUE(on_43.ok());
  layer().onConnectionFailed(42);
  EXPECT_TRUE(tu.terminated(on_42));
  EXPECT_FALSE(tu.terminated(*on_43));
  EXPECT_EQ(tu.count(TuEvent::kTransportError), 1u);
}

TEST_F(InviteClientTest, CustomTimersChangeTheSchedule) {
  reset(TransactionTimers{100ms, 400ms, 1000ms, 5000ms});
  start();
  runTo(10s);
  // A doubles from T1=100 (T2 is no cap for INVITE); B at 64*T1 = 6.4 s.
  EXPECT_EQ(sendTimes(isRequest), ms({0, 100, 300, 700, 1500, 3100, 6300}));
  ASSERT_EQ(tu.count(TuEvent::kClientTimeout), 1u);
  EXPECT_EQ(tu.of(TuEvent::kClientTimeout)[0]->at - t0, 6400ms);
}

TEST_F(InviteClientTest, CancelIsBuiltPerRfc3261Section9) {
  start();
  auto cancel = buildCancel(sentRequest());
  ASSERT_TRUE(cancel.ok()) << cancel.error().reason;
  EXPECT_EQ(cancel->method(), Method::kCancel);
  EXPECT_EQ(cancel->requestUriText(), sentRequest().requestUriText());
  EXPECT_EQ(cancel->headerLineCount(HeaderId::kVia), 1u);
  EXPECT_EQ(cancel->topVia()->branch, sentRequest().topVia()->branch);
  EXPECT_EQ(cancel->cseq()->number, 7u);
  EXPECT_EQ(cancel->cseq()->method, "CANCEL");
  EXPECT_EQ(cancel->header(HeaderId::kTo), sentRequest().header(HeaderId::kTo));
  EXPECT_EQ(cancel->header(HeaderId::kFrom), sentRequest().header(HeaderId::kFrom));
  EXPECT_EQ(cancel->routes()->size(), 2u);

  // Its own client transaction: same branch, method CANCEL (RFC 3261 17.1.3).
  deliver(responseFor(sentRequest(), 180, "Ringing", "t"));
  auto cancel_id = layer().sendRequest(std::move(*cancel), kPhoneUdp);
  ASSERT_TRUE(cancel_id.ok()) << cancel_id.error().reason;
  const Message& sent_cancel = transport.sent.back().message;
  EXPECT_EQ(sent_cancel.topVia()->branch, sentRequest().topVia()->branch);
  deliver(responseFor(sent_cancel, 200, "OK", "t"));
  auto responses = tu.of(TuEvent::kResponse);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[1]->id, *cancel_id);
  EXPECT_EQ(responses[1]->message->cseq()->method, "CANCEL");
}

TEST_F(InviteClientTest, RejectsAckAndReusedBranch) {
  auto ack = layer().sendRequest(outgoingRequest("ACK"), kPhoneUdp);
  ASSERT_FALSE(ack.ok());
  start();
  Message again = sentRequest().clone();
  auto dup = layer().sendRequest(std::move(again), kPhoneUdp);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().reason, "Branch already in use");
}

}  // namespace
}  // namespace duplex::sip::testing
