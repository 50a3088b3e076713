// UdpTransport on loopback sockets, IPv4 and IPv6, ports chosen by the kernel.
#include "pbx/sip/udp_transport.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transport_test_support.h"

namespace duplex::sip {
namespace {

using test::runUntil;
using test::UdpPeer;

struct Received {
  std::string bytes;
  Origin origin;
};

class UdpTransportTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<UdpTransport> open(UdpConfig config) {
    TransportHandlers handlers;
    handlers.on_message = [this](std::string bytes, const Origin& origin) {
      received.push_back({std::move(bytes), origin});
    };
    handlers.on_rejected = [this](const RejectedMessage& r) {
      rejected.push_back(r.error);
      rejected_heads.emplace_back(r.head);
    };
    return std::make_unique<UdpTransport>(loop, std::move(config), std::move(handlers));
  }
  UdpConfig config(const std::string& ip) {
    UdpConfig c;
    c.bind = {ip, 0};
    return c;
  }

  EventLoop loop;
  std::vector<Received> received;
  std::vector<SipError> rejected;
  std::vector<std::string> rejected_heads;
};

INSTANTIATE_TEST_SUITE_P(Loopback, UdpTransportTest, ::testing::Values("127.0.0.1", "::1"));

TEST_P(UdpTransportTest, PortZeroReportsTheRealPort) {
  auto udp = open(config(GetParam()));
  EXPECT_EQ(udp->localEndpoint().ip, GetParam());
  EXPECT_NE(udp->localEndpoint().port, 0);
  EXPECT_EQ(udp->protocol(), Transport::kUdp);
}

TEST_P(UdpTransportTest, DatagramArrivesWithItsOrigin) {
  auto udp = open(config(GetParam()));
  UdpPeer phone(GetParam());
  const std::string request = test::sipRequest("udp-1");
  ASSERT_TRUE(phone.sendTo(udp->localEndpoint(), request));
  ASSERT_TRUE(runUntil(loop, [&] { return !received.empty(); }));
  EXPECT_EQ(received[0].bytes, request);
  const Origin& origin = received[0].origin;
  EXPECT_EQ(origin.transport, Transport::kUdp);
  EXPECT_EQ(origin.source, phone.local());  // the sending socket's port (RFC 3581)
  EXPECT_EQ(origin.local, udp->localEndpoint());
  EXPECT_EQ(origin.connection_id, 0u);
  EXPECT_EQ(udp->counters().messages_received, 1u);
  EXPECT_EQ(udp->counters().bytes_received, request.size());
}

TEST_P(UdpTransportTest, SendLeavesFromTheBoundSocket) {
  auto udp = open(config(GetParam()));
  UdpPeer phone(GetParam());
  auto sent = udp->send("SIP/2.0 200 OK\r\n\r\n", test::to(Transport::kUdp, phone.local()));
  EXPECT_TRUE(sent.accepted);
  std::optional<std::string> got;
  Endpoint from;
  ASSERT_TRUE(runUntil(loop, [&] { return (got = phone.tryReceive(&from)).has_value(); }));
  EXPECT_EQ(*got, "SIP/2.0 200 OK\r\n\r\n");
  EXPECT_EQ(from, udp->localEndpoint());  // same socket: the NAT binding stays right
  EXPECT_EQ(udp->counters().messages_sent, 1u);
}

TEST_P(UdpTransportTest, ManyDatagramsInBatches) {
  UdpConfig c = config(GetParam());
  c.receive_batch = 4;
  c.max_message_size = 1500;
  auto udp = open(c);
  UdpPeer phone(GetParam());
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(phone.sendTo(udp->localEndpoint(), test::sipRequest(std::to_string(i))));
  ASSERT_TRUE(runUntil(loop, [&] { return received.size() == 50; }));
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(received[static_cast<std::size_t>(i)].bytes, test::sipRequest(std::to_string(i)));
}

TEST_P(UdpTransportTest, OversizedDatagramIsDroppedCountedAndReported) {
  UdpConfig c = config(GetParam());
  c.max_message_size = 300;
  auto udp = open(c);
  UdpPeer phone(GetParam());
  const std::string big = test::sipRequest("big", std::string(400, 'x'));
  ASSERT_TRUE(phone.sendTo(udp->localEndpoint(), big));
  ASSERT_TRUE(phone.sendTo(udp->localEndpoint(), test::sipRequest("small")));
  ASSERT_TRUE(runUntil(loop, [&] { return !received.empty(); }));
  ASSERT_EQ(received.size(), 1u);
  EXPECT_EQ(received[0].bytes, test::sipRequest("small"));
  EXPECT_EQ(udp->counters().dropped_oversized, 1u);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0], (SipError{513, "Message Too Large"}));
  EXPECT_EQ(rejected_heads[0], big.substr(0, big.size() - 400));  // the headers, for a 513
}

TEST_P(UdpTransportTest, CrlfKeepaliveIsCountedNotDelivered) {
  auto udp = open(config(GetParam()));
  UdpPeer phone(GetParam());
  ASSERT_TRUE(phone.sendTo(udp->localEndpoint(), "\r\n\r\n"));
  ASSERT_TRUE(phone.sendTo(udp->localEndpoint(), test::sipRequest("after")));
  ASSERT_TRUE(runUntil(loop, [&] { return !received.empty(); }));
  EXPECT_EQ(received.size(), 1u);
  EXPECT_EQ(udp->counters().keepalives_received, 1u);
}

TEST_P(UdpTransportTest, BadDestinationIsNotAccepted) {
  auto udp = open(config(GetParam()));
  EXPECT_FALSE(udp->send("x", test::to(Transport::kUdp, {"not-an-ip", 5060})).accepted);
  const std::string other_family = GetParam() == "::1" ? "127.0.0.1" : "::1";
  EXPECT_FALSE(udp->send("x", test::to(Transport::kUdp, {other_family, 5060})).accepted);
  EXPECT_EQ(udp->counters().send_failures, 2u);
}

TEST_P(UdpTransportTest, BindFailureNamesProtocolAddressAndPort) {
  auto first = open(config(GetParam()));
  const Endpoint taken = first->localEndpoint();
  try {
    UdpTransport second(loop, UdpConfig{taken});
    FAIL() << "second bind succeeded";
  } catch (const TransportError& e) {
    const std::string host = GetParam() == "::1" ? "[::1]" : GetParam();
    EXPECT_EQ(std::string(e.what()), "cannot listen on UDP " + host + ":" +
                                         std::to_string(taken.port) + ": Address already in use");
  }
}

TEST(UdpTransportWildcard, LocalAddressComesFromPktinfo) {
  for (const auto& [any, loopback] : {std::pair{"0.0.0.0", "127.0.0.1"}, std::pair{"::", "::1"}}) {
    EventLoop loop;
    std::vector<Origin> origins;
    UdpConfig c;
    c.bind = {any, 0};
    UdpTransport udp(loop, c);
    udp.setHandlers({[&](std::string, const Origin& o) { origins.push_back(o); }, {}, {}});
    EXPECT_EQ(udp.localEndpoint().ip, any);
    UdpPeer phone(loopback);
    ASSERT_TRUE(phone.sendTo({loopback, udp.localEndpoint().port}, test::sipRequest("w")));
    ASSERT_TRUE(runUntil(loop, [&] { return !origins.empty(); }));
    // The registrar needs the address the phone really reached, not 0.0.0.0.
    EXPECT_EQ(origins[0].local, (Endpoint{loopback, udp.localEndpoint().port}));

    // The reply leaves from that address (IP_PKTINFO / IPV6_PKTINFO on send).
    Destination back = test::to(Transport::kUdp, origins[0].source);
    back.local = origins[0].local;
    ASSERT_TRUE(udp.send("SIP/2.0 200 OK\r\n\r\n", back).accepted);
    Endpoint from;
    ASSERT_TRUE(runUntil(loop, [&] { return phone.tryReceive(&from).has_value(); }));
    EXPECT_EQ(from, origins[0].local);
  }
}

}  // namespace
}  // namespace duplex::sip
