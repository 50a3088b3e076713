// Server transaction matching, RFC 3261 17.2.3: branch + sent-by + method,
// ACK to its INVITE, CANCEL to the INVITE it cancels (9.2), and the RFC 2543
// fallback for branches without the magic cookie.
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

class MatchingTest : public TransactionTest {
 protected:
  Origin phone = udpFrom("192.168.1.10", 5060);
  TransactionId receiveNew(const RequestSpec& spec) {
    EXPECT_EQ(deliver(received(spec, phone)), Inbound::kNewServerTransaction);
    return tu.of(TuEvent::kRequest).back()->id;
  }
  static RequestSpec cancelOf(RequestSpec spec) {
    spec.method = "CANCEL";
    return spec;
  }
};

TEST_F(MatchingTest, CancelHasItsOwnTransactionAndFindsItsInvite) {
  RequestSpec invite;
  const TransactionId invite_id = receiveNew(invite);
  const TransactionId cancel_id = receiveNew(cancelOf(invite));
  EXPECT_NE(cancel_id, invite_id);
  const Message* cancel = layer().request(cancel_id);
  ASSERT_NE(cancel, nullptr);
  EXPECT_EQ(layer().findInviteServerTransactionForCancel(*cancel), invite_id);

  // The TU answers both: 200 to the CANCEL, 487 to the INVITE.
  EXPECT_TRUE(layer().sendResponse(cancel_id, Message::responseTo(*cancel, 200, "OK", "t")));
  EXPECT_TRUE(layer().sendResponse(
      invite_id, Message::responseTo(*layer().request(invite_id), 487, "Request Terminated", "t")));
  EXPECT_EQ(sendTimes(status(200)), ms({0}));
  EXPECT_EQ(sendTimes(status(487)), ms({0}));
  // A retransmitted CANCEL gets the CANCEL's 200 again, not the 487.
  EXPECT_EQ(deliver(received(cancelOf(invite), phone)), Inbound::kMatched);
  EXPECT_EQ(sendTimes(status(200)), ms({0, 0}));
  EXPECT_EQ(sendTimes(status(487)), ms({0}));
}

TEST_F(MatchingTest, CancelForUnknownOrOtherSentByFindsNothing) {
  RequestSpec invite;
  receiveNew(invite);
  RequestSpec other_branch = cancelOf(invite);
  other_branch.via = "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKother";
  RequestSpec other_sent_by = cancelOf(invite);
  other_sent_by.via = "SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKphone1";
  EXPECT_FALSE(layer().findInviteServerTransactionForCancel(received(other_branch, phone)));
  EXPECT_FALSE(layer().findInviteServerTransactionForCancel(received(other_sent_by, phone)));
}

TEST_F(MatchingTest, CancelFindsNothingOnceTheInviteEnded) {
  RequestSpec invite;
  const TransactionId id = receiveNew(invite);
  ASSERT_TRUE(
      layer().sendResponse(id, Message::responseTo(*layer().request(id), 486, "Busy Here", "t")));
  runTo(40s);  // Timer H
  ASSERT_TRUE(tu.terminated(id));
  EXPECT_FALSE(layer().findInviteServerTransactionForCancel(received(cancelOf(invite), phone)));
}

TEST_F(MatchingTest, SentByAndMethodArePartOfTheKey) {
  RequestSpec a;
  RequestSpec b = a;
  b.via = "SIP/2.0/UDP 192.168.1.11:5060;branch=z9hG4bKphone1";  // same branch, other host
  RequestSpec c = a;
  c.method = "OPTIONS";  // same branch and sent-by, other method
  const TransactionId ia = receiveNew(a);
  const TransactionId ib = receiveNew(b);
  const TransactionId ic = receiveNew(c);
  EXPECT_NE(ia, ib);
  EXPECT_NE(ib, ic);
  EXPECT_EQ(layer().stats().server_created, 3u);
}

TEST_F(MatchingTest, SentByHostComparesCaseInsensitively) {
  RequestSpec a;
  a.via = "SIP/2.0/UDP Phone.Example.COM:5060;branch=z9hG4bKcase";
  RequestSpec b = a;
  b.via = "SIP/2.0/UDP phone.example.com:5060;branch=z9hG4bKcase";
  receiveNew(a);
  EXPECT_EQ(deliver(received(b, phone)), Inbound::kMatched);
}

TEST_F(MatchingTest, Rfc2543RetransmissionAckAndCancelMatchWithoutCookie) {
  RequestSpec invite;
  invite.via = "SIP/2.0/UDP 192.168.1.10:5060;branch=1234abcd";  // no magic cookie
  const TransactionId id = receiveNew(invite);
  EXPECT_EQ(deliver(received(invite, phone)), Inbound::kMatched);
  EXPECT_EQ(sendTimes(status(100)), ms({0, 0}));

  RequestSpec cancel = cancelOf(invite);
  EXPECT_EQ(layer().findInviteServerTransactionForCancel(received(cancel, phone)), id);
  RequestSpec other_cseq = cancel;
  other_cseq.cseq = 2;
  EXPECT_FALSE(layer().findInviteServerTransactionForCancel(received(other_cseq, phone)));

  ASSERT_TRUE(layer().sendResponse(
      id, Message::responseTo(*layer().request(id), 486, "Busy Here", "uas-tag")));
  // An ACK whose To tag is not ours does not match (RFC 3261 17.2.3).
  RequestSpec ack = invite;
  ack.method = "ACK";
  ack.to_tag = "someone-else";
  EXPECT_EQ(deliver(received(ack, phone)), Inbound::kAckToTu);
  // The ACK with the tag of our 486 does: G stops.
  ack.to_tag = "uas-tag";
  EXPECT_EQ(deliver(received(ack, phone)), Inbound::kMatched);
  runTo(10s);
  EXPECT_EQ(sendTimes(status(486)), ms({0}));
  EXPECT_TRUE(tu.terminated(id));  // Timer I
  EXPECT_EQ(tu.count(TuEvent::kAckTimeout), 0u);
}

TEST_F(MatchingTest, Rfc2543AckForA2xxReachesTheTuThroughTheAcceptedTransaction) {
  RequestSpec invite;
  invite.via = "SIP/2.0/UDP 192.168.1.10:5060;branch=5678abcd";  // no magic cookie
  const TransactionId id = receiveNew(invite);
  ASSERT_TRUE(
      layer().sendResponse(id, Message::responseTo(*layer().request(id), 200, "OK", "uas-tag")));
  // Accepted keeps neither the INVITE nor the 2xx's bytes; the ACK is
  // matched by the tag of that 2xx all the same (RFC 6026 8.7, RFC 3261 17.2.3).
  RequestSpec ack = invite;
  ack.method = "ACK";
  ack.to_tag = "uas-tag";
  EXPECT_EQ(deliver(received(ack, phone)), Inbound::kAckToTu);
  ASSERT_EQ(tu.count(TuEvent::kAck), 1u);
  EXPECT_EQ(tu.of(TuEvent::kAck)[0]->id, id);
  // One with another tag is not this transaction's.
  ack.to_tag = "someone-else";
  EXPECT_EQ(deliver(received(ack, phone)), Inbound::kAckToTu);
  EXPECT_EQ(tu.of(TuEvent::kAck).back()->id, 0u);
}

TEST_F(MatchingTest, Rfc2543DifferentTagsOrCallIdAreNewTransactions) {
  RequestSpec base;
  base.method = "OPTIONS";
  base.via = "SIP/2.0/UDP 192.168.1.10:5060";  // no branch at all
  receiveNew(base);
  RequestSpec other_from = base;
  other_from.from_tag = "f2";
  receiveNew(other_from);
  RequestSpec other_to = base;
  other_to.to_tag = "t9";
  receiveNew(other_to);
  RequestSpec other_call = base;
  other_call.call_id = "call2@192.168.1.10";
  receiveNew(other_call);
  EXPECT_EQ(deliver(received(other_to, phone)), Inbound::kMatched);
  EXPECT_EQ(layer().stats().server_created, 4u);
}

TEST_F(MatchingTest, InvalidMessagesAreReportedNotThrown) {
  Message no_origin = parseOrDie(requestText(RequestSpec{}));
  auto r = layer().onMessage(std::move(no_origin));
  EXPECT_FALSE(r.ok());
  Message bad_via = received(RequestSpec{}, phone);
  bad_via.setHeader("Via", "garbage");
  r = layer().onMessage(std::move(bad_via));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 400);
  EXPECT_EQ(layer().stats().invalid_messages, 2u);
  EXPECT_TRUE(tu.records.empty());
}

}  // namespace
}  // namespace duplex::sip::testing
