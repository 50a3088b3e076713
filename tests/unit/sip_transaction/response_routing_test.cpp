// Response routing by Via (RFC 3261 18.2.2, RFC 3581) and received/rport
// stamping (RFC 3261 18.2.1, RFC 3581 4): the free functions, and the
// transaction layer using them.
#include "transaction_fixture.h"

namespace duplex::sip::testing {
namespace {

Via via(std::string_view text) {
  auto v = Via::parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : Via{};
}

const Origin kFromNat = udpFrom("203.0.113.5", 40000);

TEST(ResponseDestination, ReliableTransportUsesTheConnection) {
  const Origin origin = tcpFrom("203.0.113.5", 51000, 77);
  const Destination d = responseDestination(
      via("SIP/2.0/TCP 192.168.1.10:5060;branch=z9hG4bKx;maddr=1.2.3.4"), origin);
  EXPECT_EQ(d, (Destination{Transport::kTcp, {"203.0.113.5", 51000}, 77, {"10.0.0.1", 5060}}));
}

TEST(ResponseDestination, MaddrWinsOverReceivedWithoutRport) {
  const Destination d = responseDestination(
      via("SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKx;maddr=239.1.1.1;received=203.0.113.5"),
      kFromNat);
  EXPECT_EQ(d.endpoint, (Endpoint{"239.1.1.1", 5070}));
  EXPECT_EQ(d.transport, Transport::kUdp);
  EXPECT_EQ(d.local, (Endpoint{"10.0.0.1", 5060}));
}

TEST(ResponseDestination, RportWinsOverMaddrSoResponsesCannotBeAimedElsewhere) {
  const Destination d = responseDestination(
      via("SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKx;maddr=198.51.100.99;rport=40000;"
          "received=203.0.113.5"),
      kFromNat);
  EXPECT_EQ(d.endpoint, (Endpoint{"203.0.113.5", 40000}));
}

TEST(ResponseDestination, ReceivedWithSentByPortOr5060) {
  EXPECT_EQ(responseDestination(
                via("SIP/2.0/UDP 192.168.1.10:5070;branch=z9hG4bKx;received=203.0.113.5"), kFromNat)
                .endpoint,
            (Endpoint{"203.0.113.5", 5070}));
  EXPECT_EQ(responseDestination(
                via("SIP/2.0/UDP phone.example.com;branch=z9hG4bKx;received=203.0.113.5"), kFromNat)
                .endpoint,
            (Endpoint{"203.0.113.5", 5060}));
}

TEST(ResponseDestination, RportUsesThePacketsSourcePort) {
  // Stamped: rport has the value.
  EXPECT_EQ(responseDestination(via("SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKx;rport=40000;"
                                    "received=203.0.113.5"),
                                kFromNat)
                .endpoint,
            (Endpoint{"203.0.113.5", 40000}));
  // Not stamped: a bare rport means the source address and port.
  EXPECT_EQ(
      responseDestination(via("SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKx;rport"), kFromNat)
          .endpoint,
      (Endpoint{"203.0.113.5", 40000}));
}

TEST(ResponseDestination, PlainViaUsesSentBy) {
  const Destination d = responseDestination(via("SIP/2.0/UDP 192.168.1.10:5062;branch=z9hG4bKx"),
                                            udpFrom("192.168.1.10", 5062));
  EXPECT_EQ(d.endpoint, (Endpoint{"192.168.1.10", 5062}));
  EXPECT_EQ(d.connection_id, 0u);
}

TEST(StampReceived, AddsReceivedWhenSentByDiffers) {
  RequestSpec spec;
  Message m = received(spec, kFromNat);
  ASSERT_TRUE(stampReceived(m));
  auto top = m.topVia();
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->received, "203.0.113.5");
  EXPECT_FALSE(top->has_rport);
  EXPECT_EQ(top->branch, "z9hG4bKphone1");
  EXPECT_EQ(top->host, "192.168.1.10");
  EXPECT_EQ(top->port, 5060);
}

TEST(StampReceived, LeavesViaAloneWhenSentByIsTheSource) {
  RequestSpec spec;
  Message m = received(spec, udpFrom("192.168.1.10", 5060));
  const std::string before(*m.header(HeaderId::kVia));
  ASSERT_TRUE(stampReceived(m));
  EXPECT_EQ(*m.header(HeaderId::kVia), before);
}

TEST(StampReceived, ForcedRportStampsAsIfTheClientHadAskedInOneRewrite) {
  RequestSpec spec;
  Message m = received(spec, kFromNat);
  ASSERT_TRUE(stampReceived(m, /*force_rport=*/true));
  auto top = m.topVia();
  ASSERT_TRUE(top.ok());
  EXPECT_TRUE(top->has_rport);
  EXPECT_EQ(top->rport, 40000);
  EXPECT_EQ(top->received, "203.0.113.5");
  // The transaction's own stamping then finds nothing to change.
  const std::string stamped(*m.header(HeaderId::kVia));
  ASSERT_TRUE(stampReceived(m));
  EXPECT_EQ(*m.header(HeaderId::kVia), stamped);
  EXPECT_EQ(responseDestination(*m.topVia(), kFromNat).endpoint, (Endpoint{"203.0.113.5", 40000}));
}

TEST(StampReceived, FillsRportAndAlwaysAddsReceived) {
  RequestSpec spec;
  spec.via = "SIP/2.0/UDP 192.168.1.10:5060;rport;branch=z9hG4bKphone1;x=\"a;b\"";
  // Even from the sent-by address itself, RFC 3581 4 wants `received`.
  Message m = received(spec, udpFrom("192.168.1.10", 6000));
  ASSERT_TRUE(stampReceived(m));
  auto top = m.topVia();
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->rport, 6000);
  EXPECT_EQ(top->received, "192.168.1.10");
  EXPECT_EQ(top->branch, "z9hG4bKphone1");
  const GenericParam* x = findParam(top->params, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(x->value, "a;b");
  // Idempotent.
  const std::string once(*m.header(HeaderId::kVia));
  ASSERT_TRUE(stampReceived(m));
  EXPECT_EQ(*m.header(HeaderId::kVia), once);
}

TEST(StampReceived, KeepsTheOtherVias) {
  RequestSpec spec;  // two Vias on the first line, a third on its own line
  spec.via =
      "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKphone1;rport, "
      "SIP/2.0/UDP 10.9.9.9;branch=z9hG4bKsecond\n"
      "Via: SIP/2.0/TCP 10.8.8.8;branch=z9hG4bKthird";
  const std::string text = requestText(spec);
  Message m = parseOrDie(text);
  m.setOrigin(kFromNat);
  ASSERT_TRUE(stampReceived(m));
  auto vias = m.vias();
  ASSERT_TRUE(vias.ok());
  ASSERT_EQ(vias->size(), 3u);
  EXPECT_EQ((*vias)[0].rport, 40000);
  EXPECT_EQ((*vias)[0].received, "203.0.113.5");
  EXPECT_EQ((*vias)[1].branch, "z9hG4bKsecond");
  EXPECT_FALSE((*vias)[1].received.has_value());
  EXPECT_EQ((*vias)[2].branch, "z9hG4bKthird");
  // A response built from it carries all three, stamped top first.
  Message response = Message::responseTo(m, 200, "OK");
  EXPECT_EQ(response.vias()->size(), 3u);
  EXPECT_EQ(response.topVia()->rport, 40000);
}

TEST(StampReceived, RefusesWithoutOrigin) {
  Message m = parseOrDie(requestText(RequestSpec{}));
  EXPECT_FALSE(stampReceived(m));
}

// The layer end to end: a phone behind NAT sends an INVITE with rport; every
// response, including retransmissions, goes to the NAT's public mapping from
// the socket the request came in on.
class RoutingTest : public TransactionTest {};

TEST_F(RoutingTest, ServerTransactionSendsEveryResponseToTheNatMapping) {
  RequestSpec invite;
  invite.via += ";rport";
  const Origin origin{Transport::kUdp, {"10.0.0.1", 5080}, {"203.0.113.5", 40000}, 0};
  ASSERT_EQ(deliver(received(invite, origin)), Inbound::kNewServerTransaction);
  const TransactionId id = tu.of(TuEvent::kRequest)[0]->id;
  const Message& request = *tu.of(TuEvent::kRequest)[0]->message;
  ASSERT_TRUE(layer().sendResponse(id, Message::responseTo(request, 486, "Busy Here", "t")));
  runTo(2s);
  ASSERT_EQ(transport.sent.size(), 4u);  // 100, 486 and two G retransmissions
  for (const auto& s : transport.sent) {
    EXPECT_EQ(s.to, (Destination{Transport::kUdp, {"203.0.113.5", 40000}, 0, {"10.0.0.1", 5080}}));
    Message wire = parseOrDie(s.wire);
    EXPECT_EQ(wire.topVia()->received, "203.0.113.5");
    EXPECT_EQ(wire.topVia()->rport, 40000);
  }
  EXPECT_EQ(layer().destination(id)->endpoint, (Endpoint{"203.0.113.5", 40000}));
}

TEST_F(RoutingTest, WithoutRportResponsesGoToReceivedAndSentByPort) {
  RequestSpec invite;
  invite.via = "SIP/2.0/UDP 192.168.1.10:5064;branch=z9hG4bKnorport";
  ASSERT_EQ(deliver(received(invite, kFromNat)), Inbound::kNewServerTransaction);
  ASSERT_EQ(transport.sent.size(), 1u);
  EXPECT_EQ(transport.sent[0].to.endpoint, (Endpoint{"203.0.113.5", 5064}));
}

}  // namespace
}  // namespace duplex::sip::testing
