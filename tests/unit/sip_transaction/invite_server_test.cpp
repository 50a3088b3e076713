// INVITE server transaction, RFC 3261 17.2.1 (+ RFC 6026 Accepted).
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

class InviteServerTest : public TransactionTest {
 protected:
  // The phone at 192.168.1.10 behind a NAT that maps it to 203.0.113.5:40000.
  TransactionId receiveInvite(const Origin& origin = udpFrom("203.0.113.5", 40000)) {
    EXPECT_EQ(deliver(received(invite, origin)), Inbound::kNewServerTransaction);
    auto requests = tu.of(TuEvent::kRequest);
    return requests.empty() ? 0 : requests.back()->id;
  }
  bool respond(TransactionId id, int code, std::string_view reason) {
    const Message* request = layer().request(id);
    EXPECT_NE(request, nullptr);
    if (request == nullptr) return false;
    return layer().sendResponse(id, Message::responseTo(*request, code, reason, "pbx-tag"));
  }
  Message ackFor(std::string_view to_tag = "pbx-tag") {
    RequestSpec ack = invite;
    ack.method = "ACK";
    ack.to_tag = std::string(to_tag);
    return received(ack, udpFrom("203.0.113.5", 40000));
  }

  RequestSpec invite;  // defaults: UDP phone, branch z9hG4bKphone1
  const Destination nat{Transport::kUdp, {"203.0.113.5", 40000}, 0, {"10.0.0.1", 5060}};
};

TEST_F(InviteServerTest, Sends100TryingAtOnceThenPassesRequestToTu) {
  invite.via += ";rport";
  const TransactionId id = receiveInvite();
  ASSERT_NE(id, 0u);
  ASSERT_EQ(transport.sent.size(), 1u);
  const SentMessage& trying = transport.sent[0];
  EXPECT_EQ(trying.message.statusCode(), 100);
  EXPECT_EQ(trying.at, t0);
  EXPECT_EQ(trying.to, nat);  // RFC 3581: source address and port
  // The 100 went out before the TU saw the request.
  EXPECT_EQ(tu.records[0].event, TuEvent::kRequest);
  Message wire = parseOrDie(trying.wire);
  auto via = wire.topVia();
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->received, "203.0.113.5");
  EXPECT_EQ(via->rport, 40000);
  EXPECT_EQ(via->branch, "z9hG4bKphone1");
  EXPECT_EQ(wire.to()->tag(), "");  // no tag on the 100 (RFC 3261 8.2.6.2)
  // The TU got the stamped request, so its own responses route the same way.
  EXPECT_EQ(tu.records[0].message->topVia()->rport, 40000);
}

TEST_F(InviteServerTest, RetransmittedInviteResendsLatestProvisionalWithoutTu) {
  const TransactionId id = receiveInvite();
  runTo(500ms);
  EXPECT_EQ(deliver(received(invite, udpFrom("203.0.113.5", 40000))), Inbound::kMatched);
  ASSERT_TRUE(respond(id, 180, "Ringing"));
  runTo(1500ms);
  EXPECT_EQ(deliver(received(invite, udpFrom("203.0.113.5", 40000))), Inbound::kMatched);
  EXPECT_EQ(sendTimes(status(100)), ms({0, 500}));
  EXPECT_EQ(sendTimes(status(180)), ms({500, 1500}));
  EXPECT_EQ(tu.count(TuEvent::kRequest), 1u);
  EXPECT_EQ(layer().stats().retransmissions_absorbed, 2u);
}

TEST_F(InviteServerTest, NonSuccessFinalRetransmittedWithGCappedAtT2UntilH) {
  const TransactionId id = receiveInvite();
  ASSERT_TRUE(respond(id, 486, "Busy Here"));
  runTo(40s);
  // RFC 3261 17.2.1: G = T1, 2T1, 4T1, then T2; H = 64*T1.
  EXPECT_EQ(sendTimes(status(486)),
            ms({0, 500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500}));
  auto timeouts = tu.of(TuEvent::kAckTimeout);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0]->at - t0, 32s);
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(InviteServerTest, RetransmittedInviteInCompletedResendsFinal) {
  const TransactionId id = receiveInvite();
  ASSERT_TRUE(respond(id, 404, "Not Found"));
  runTo(200ms);
  deliver(received(invite, udpFrom("203.0.113.5", 40000)));
  runTo(600ms);  // the resend does not disturb Timer G
  EXPECT_EQ(sendTimes(status(404)), ms({0, 200, 500}));
  EXPECT_EQ(tu.count(TuEvent::kRequest), 1u);
}

TEST_F(InviteServerTest, AckStopsRetransmissionsAndTimerITerminates) {
  const TransactionId id = receiveInvite();
  ASSERT_TRUE(respond(id, 486, "Busy Here"));
  runTo(2s);
  EXPECT_EQ(deliver(ackFor()), Inbound::kMatched);
  EXPECT_EQ(deliver(ackFor()), Inbound::kMatched);  // absorbed in Confirmed
  runTo(2s + 5s - 1ms);
  EXPECT_FALSE(tu.terminated(id));
  runTo(2s + 5s);  // Timer I = T4
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(sendTimes(status(486)), ms({0, 500, 1500}));
  EXPECT_EQ(tu.count(TuEvent::kAck), 0u);  // the ACK for a non-2xx stays in the layer
  EXPECT_EQ(tu.count(TuEvent::kAckTimeout), 0u);
}

TEST_F(InviteServerTest, ConfirmedKeepsNoInviteButStillAbsorbsRetransmissions) {
  const TransactionId id = receiveInvite();
  ASSERT_TRUE(respond(id, 407, "Proxy Authentication Required"));
  EXPECT_NE(layer().request(id), nullptr);  // Completed: the TU may still read it
  runTo(100ms);
  EXPECT_EQ(deliver(ackFor()), Inbound::kMatched);
  // Confirmed only absorbs for Timer I: the parsed INVITE is gone.
  EXPECT_EQ(layer().request(id), nullptr);
  EXPECT_FALSE(tu.terminated(id));
  runTo(1s);
  // A retransmitted INVITE and ACK are absorbed: nothing is sent, nothing
  // reaches the TU.
  EXPECT_EQ(deliver(received(invite, udpFrom("203.0.113.5", 40000))), Inbound::kMatched);
  EXPECT_EQ(deliver(ackFor()), Inbound::kMatched);
  EXPECT_EQ(sendTimes(status(407)), ms({0}));
  EXPECT_EQ(tu.count(TuEvent::kRequest), 1u);
  EXPECT_EQ(tu.count(TuEvent::kAck), 0u);
  runTo(100ms + 5s);  // Timer I = T4
  EXPECT_TRUE(tu.terminated(id));
}

TEST_F(InviteServerTest, ReliableTransportNoRetransmissionsAndAckEndsAtOnce) {
  invite.via = "SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKtcp1";
  const Origin origin = tcpFrom("203.0.113.5", 51000, 7);
  const TransactionId id = receiveInvite(origin);
  const Destination expected{Transport::kTcp, {"203.0.113.5", 51000}, 7, {"10.0.0.1", 5060}};
  EXPECT_EQ(transport.sent[0].to, expected);  // RFC 3261 18.2.2: same connection
  ASSERT_TRUE(respond(id, 480, "Temporarily Unavailable"));
  runTo(10s);
  EXPECT_EQ(sendTimes(status(480)), ms({0}));
  RequestSpec ack = invite;
  ack.method = "ACK";
  ack.to_tag = "pbx-tag";
  deliver(received(ack, origin));
  EXPECT_TRUE(tu.terminated(id));  // Timer I = 0
}

TEST_F(InviteServerTest, ReliableTransportTimerHStillFires) {
  invite.via = "SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKtcp1";
  const TransactionId id = receiveInvite(tcpFrom("203.0.113.5", 51000, 7));
  ASSERT_TRUE(respond(id, 480, "Temporarily Unavailable"));
  runTo(40s);
  EXPECT_EQ(sendTimes(status(480)), ms({0}));
  ASSERT_EQ(tu.count(TuEvent::kAckTimeout), 1u);
  EXPECT_EQ(tu.of(TuEvent::kAckTimeout)[0]->at - t0, 32s);
}

TEST_F(InviteServerTest, SuccessMovesToAcceptedPerRfc6026) {
  const TransactionId id = receiveInvite();
  const Message* request = layer().request(id);
  ASSERT_NE(request, nullptr);
  const Message ok = Message::responseTo(*request, 200, "OK", "pbx-tag");
  ASSERT_TRUE(layer().sendResponse(id, ok.clone()));
  // Accepted needs only the key: the parsed INVITE and its bytes are gone,
  // so the TU keeps its 2xx (as the B2BUA does) to retransmit it.
  EXPECT_EQ(layer().request(id), nullptr);
  runTo(500ms);
  // INVITE retransmissions that crossed the 2xx are absorbed silently.
  EXPECT_EQ(deliver(received(invite, udpFrom("203.0.113.5", 40000))), Inbound::kMatched);
  // The TU (dialog layer) retransmits its 2xx through the transaction.
  EXPECT_TRUE(layer().sendResponse(id, ok.clone()));
  EXPECT_FALSE(layer().sendResponse(id, Message::response(486, "Busy Here")));  // only 2xx now
  // An ACK matching the transaction goes to the TU.
  EXPECT_EQ(deliver(ackFor()), Inbound::kAckToTu);
  auto acks = tu.of(TuEvent::kAck);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0]->id, id);
  // The usual 2xx ACK has a branch of its own: no transaction, straight up.
  RequestSpec ack2xx = invite;
  ack2xx.method = "ACK";
  ack2xx.to_tag = "pbx-tag";
  ack2xx.via = "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKack2xx";
  EXPECT_EQ(deliver(received(ack2xx, udpFrom("203.0.113.5", 40000))), Inbound::kAckToTu);
  EXPECT_EQ(tu.of(TuEvent::kAck).back()->id, 0u);

  EXPECT_EQ(sendTimes(status(200)), ms({0, 500}));  // never retransmitted by itself
  runTo(32s - 1ms);
  EXPECT_FALSE(tu.terminated(id));
  runTo(32s);  // Timer L = 64*T1
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_EQ(layer().request(id), nullptr);
  EXPECT_FALSE(layer().sendResponse(id, Message::response(200, "OK")));
}

TEST_F(InviteServerTest, SecondFinalIsRefused) {
  const TransactionId id = receiveInvite();
  ASSERT_TRUE(respond(id, 486, "Busy Here"));
  EXPECT_FALSE(respond(id, 200, "OK"));
  EXPECT_FALSE(respond(id, 180, "Ringing"));
  EXPECT_EQ(sendTimes(status(200)), ms({}));
}

TEST_F(InviteServerTest, TransportErrorOnResponseTerminates) {
  const TransactionId id = receiveInvite();
  transport.fail = true;
  EXPECT_FALSE(respond(id, 486, "Busy Here"));
  EXPECT_EQ(tu.count(TuEvent::kTransportError), 1u);
  EXPECT_TRUE(tu.terminated(id));
  EXPECT_FALSE(layer().nextDeadline().has_value());
}

TEST_F(InviteServerTest, AnswerFromInsideOnRequestIsSafe) {
  invite.via = "SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKtcp2";
  bool answered = false;
  tu.on_request = [&](TransactionId id, const Message& request) {
    answered = layer().sendResponse(id, Message::responseTo(request, 603, "Decline", "x"));
  };
  const TransactionId id = receiveInvite(tcpFrom("203.0.113.5", 51000, 9));
  EXPECT_TRUE(answered);
  EXPECT_EQ(sendTimes(status(603)), ms({0}));
  EXPECT_FALSE(tu.terminated(id));  // waits for ACK (Timer H)
  RequestSpec ack = invite;
  ack.method = "ACK";
  ack.to_tag = "x";
  // Terminate from inside the TU's own callback chain, then re-enter.
  tu.on_terminated = [&](TransactionId) { EXPECT_EQ(layer().request(id), nullptr); };
  deliver(received(ack, tcpFrom("203.0.113.5", 51000, 9)));
  EXPECT_TRUE(tu.terminated(id));
}

}  // namespace
}  // namespace duplex::sip::testing
