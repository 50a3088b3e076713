// TcpTransport on loopback: framing, keep-alives, rejection, reuse, limits.
#include "pbx/sip/tcp_transport.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "transport_test_support.h"

namespace duplex::sip {
namespace {

using namespace std::chrono_literals;
using test::runUntil;
using test::TcpClient;

struct Received {
  std::string bytes;
  Origin origin;
};

// A TCP transport plus what its handlers saw.
class Server {
 public:
  Server(EventLoop& loop, TcpConfig config) {
    TransportHandlers handlers;
    handlers.on_message = [this](std::string bytes, const Origin& origin) {
      received.push_back({std::move(bytes), origin});
      if (on_message_hook) on_message_hook(received.back());
    };
    handlers.on_rejected = [this](const RejectedMessage& r) {
      rejected.push_back(r);
      rejected_heads.emplace_back(r.head);
      if (on_rejected_hook) on_rejected_hook(r);
    };
    handlers.on_closed = [this](const ConnectionClosed& c) { closed.push_back(c); };
    tcp = std::make_unique<TcpTransport>(loop, std::move(config), std::move(handlers));
  }
  const Endpoint& endpoint() const { return tcp->localEndpoint(); }

  std::unique_ptr<TcpTransport> tcp;
  std::vector<Received> received;
  std::vector<RejectedMessage> rejected;  // head views are dead; see rejected_heads
  std::vector<std::string> rejected_heads;
  std::vector<ConnectionClosed> closed;
  std::function<void(const Received&)> on_message_hook;
  std::function<void(const RejectedMessage&)> on_rejected_hook;
};

TcpConfig loopbackConfig(const std::string& ip = "127.0.0.1") {
  TcpConfig c;
  c.bind = {ip, 0};
  return c;
}

class TcpTransportTest : public ::testing::TestWithParam<std::string> {
 protected:
  EventLoop loop;
};

INSTANTIATE_TEST_SUITE_P(Loopback, TcpTransportTest, ::testing::Values("127.0.0.1", "::1"));

TEST_P(TcpTransportTest, MessageSplitByteByByte) {
  Server server(loop, loopbackConfig(GetParam()));
  EXPECT_NE(server.endpoint().port, 0);
  TcpClient phone(server.endpoint());
  ASSERT_TRUE(phone.connected());
  const std::string request = test::sipRequest("split", "v=0\r\n");
  for (char c : request) {
    ASSERT_TRUE(phone.write(std::string(1, c)));
    loop.runOnce(0ms);
  }
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  test::spin(loop);
  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0].bytes, request);
  const Origin& origin = server.received[0].origin;
  EXPECT_EQ(origin.transport, Transport::kTcp);
  EXPECT_EQ(origin.source, phone.local());
  EXPECT_EQ(origin.local, server.endpoint());
  EXPECT_NE(origin.connection_id, 0u);
  EXPECT_EQ(server.tcp->counters().connections_accepted, 1u);
  EXPECT_EQ(server.tcp->counters().connections_open, 1u);
}

TEST_P(TcpTransportTest, SeveralMessagesInOneWrite) {
  Server server(loop, loopbackConfig(GetParam()));
  TcpClient phone(server.endpoint());
  const std::string a = test::sipRequest("a", "body-a"), b = test::sipRequest("b"),
                    c = test::sipRequest("c", "c");
  ASSERT_TRUE(phone.write("\r\n" + a + b + "\r\n" + c));
  ASSERT_TRUE(runUntil(loop, [&] { return server.received.size() == 3; }));
  EXPECT_EQ(server.received[0].bytes, a);
  EXPECT_EQ(server.received[1].bytes, b);
  EXPECT_EQ(server.received[2].bytes, c);
  EXPECT_EQ(server.tcp->counters().messages_received, 3u);
}

TEST_P(TcpTransportTest, DoubleCrlfPingGetsASingleCrlfPong) {
  Server server(loop, loopbackConfig(GetParam()));
  TcpClient phone(server.endpoint());
  ASSERT_TRUE(phone.write("\r\n\r\n"));  // RFC 5626 4.4.1 ping
  ASSERT_TRUE(runUntil(loop, [&] { return phone.pollReceived(2); }));
  EXPECT_EQ(phone.received, "\r\n");
  // A ping split across writes is still one ping.
  ASSERT_TRUE(phone.write("\r\n"));
  test::spin(loop);
  ASSERT_TRUE(phone.write("\r\n"));
  ASSERT_TRUE(runUntil(loop, [&] { return phone.pollReceived(4); }));
  // A single CRLF (a pong) is not answered, and framing goes on.
  ASSERT_TRUE(phone.write("\r\n" + test::sipRequest("after-ping")));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  test::spin(loop);
  phone.poll();
  EXPECT_EQ(phone.received, "\r\n\r\n");
  EXPECT_EQ(server.received[0].bytes, test::sipRequest("after-ping"));
  EXPECT_EQ(server.tcp->counters().keepalives_answered, 2u);
}

TEST_P(TcpTransportTest, ResponseReusesTheRequestsConnection) {
  Server server(loop, loopbackConfig(GetParam()));
  TcpClient phone(server.endpoint());
  ASSERT_TRUE(phone.write(test::sipRequest("reuse")));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  const Origin origin = server.received[0].origin;
  const std::string response = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
  // RFC 3261 18.2.2: the response goes back on the connection the request came on.
  auto sent =
      server.tcp->send(response, test::to(Transport::kTcp, origin.source, origin.connection_id));
  EXPECT_TRUE(sent.accepted);
  EXPECT_EQ(sent.connection_id, origin.connection_id);
  // By address alone it finds the same connection.
  EXPECT_EQ(server.tcp->connectionTo(origin.source), origin.connection_id);
  sent = server.tcp->send(response, test::to(Transport::kTcp, origin.source, 0));
  EXPECT_EQ(sent.connection_id, origin.connection_id);
  ASSERT_TRUE(runUntil(loop, [&] { return phone.pollReceived(2 * response.size()); }));
  EXPECT_EQ(phone.received, response + response);
  EXPECT_EQ(server.tcp->counters().connections_opened, 0u);
}

TEST_P(TcpTransportTest, OutboundConnectionCarriesBothDirections) {
  Server pbx(loop, loopbackConfig(GetParam()));
  Server trunk(loop, loopbackConfig(GetParam()));
  trunk.on_message_hook = [&](const Received& r) {
    trunk.tcp->send("SIP/2.0 200 OK\r\nl: 0\r\n\r\n",
                    test::to(Transport::kTcp, r.origin.source, r.origin.connection_id));
  };
  const std::string invite = test::sipRequest("out", "sdp");
  auto sent = pbx.tcp->send(invite, test::to(Transport::kTcp, trunk.endpoint()));
  ASSERT_TRUE(sent.accepted);  // queued while the connect is in progress
  ASSERT_NE(sent.connection_id, 0u);
  ASSERT_TRUE(runUntil(loop, [&] { return !pbx.received.empty(); }));
  EXPECT_EQ(trunk.received[0].bytes, invite);
  EXPECT_EQ(pbx.received[0].bytes, "SIP/2.0 200 OK\r\nl: 0\r\n\r\n");
  EXPECT_EQ(pbx.received[0].origin.connection_id, sent.connection_id);
  EXPECT_EQ(pbx.received[0].origin.source, trunk.endpoint());
  EXPECT_EQ(trunk.received[0].origin.source, pbx.received[0].origin.local);
  // A second request reuses the connection (RFC 3261 18.1.1).
  EXPECT_EQ(pbx.tcp->send(invite, test::to(Transport::kTcp, trunk.endpoint())).connection_id,
            sent.connection_id);
  EXPECT_EQ(pbx.tcp->counters().connections_opened, 1u);
}

TEST_P(TcpTransportTest, FailedConnectIsReportedWithUnsentBytes) {
  Server pbx(loop, loopbackConfig(GetParam()));
  const Endpoint nobody{GetParam(), test::closedTcpPort(GetParam())};
  auto sent = pbx.tcp->send("OPTIONS", test::to(Transport::kTcp, nobody));
  ASSERT_TRUE(sent.accepted);  // non-blocking connect: EINPROGRESS, refused later
  ASSERT_TRUE(runUntil(loop, [&] { return !pbx.closed.empty(); }));
  EXPECT_EQ(pbx.closed[0].connection_id, sent.connection_id);
  EXPECT_EQ(pbx.closed[0].reason, CloseReason::kConnectFailed);
  EXPECT_EQ(pbx.closed[0].unsent_bytes, 7u);  // the transaction layer reports a transport error
  EXPECT_EQ(pbx.closed[0].peer, nobody);
  EXPECT_EQ(pbx.tcp->counters().connections_open, 0u);
}

TEST_P(TcpTransportTest, OversizedMessageIsReportedThenTheConnectionCloses) {
  TcpConfig c = loopbackConfig(GetParam());
  c.max_message_size = 400;
  Server server(loop, c);
  server.on_rejected_hook = [&](const RejectedMessage& r) {
    // The layer above answers 513 on the same connection before it goes.
    server.tcp->send("SIP/2.0 513 Message Too Large\r\nContent-Length: 0\r\n\r\n",
                     test::to(Transport::kTcp, r.origin.source, r.origin.connection_id));
  };
  TcpClient phone(server.endpoint());
  const std::string big = test::sipRequest("big", std::string(1000, 'x'));
  ASSERT_TRUE(phone.write(big));
  ASSERT_TRUE(runUntil(loop, [&] { return phone.pollClosed(); }));
  EXPECT_EQ(phone.received, "SIP/2.0 513 Message Too Large\r\nContent-Length: 0\r\n\r\n");
  ASSERT_EQ(server.rejected.size(), 1u);
  EXPECT_EQ(server.rejected[0].error, (SipError{513, "Message Too Large"}));
  EXPECT_TRUE(server.rejected[0].head_complete);
  EXPECT_EQ(server.rejected_heads[0], big.substr(0, big.size() - 1000));
  EXPECT_EQ(server.rejected[0].origin.source, phone.local());
  EXPECT_TRUE(server.received.empty());
  EXPECT_EQ(server.tcp->counters().dropped_oversized, 1u);
  phone.close();
  ASSERT_TRUE(runUntil(loop, [&] { return !server.closed.empty(); }));
  EXPECT_EQ(server.closed[0].reason, CloseReason::kFramingError);
}

TEST_P(TcpTransportTest, HeadersThatNeverEndAreOversized) {
  TcpConfig c = loopbackConfig(GetParam());
  c.max_message_size = 400;
  Server server(loop, c);
  TcpClient phone(server.endpoint());
  ASSERT_TRUE(phone.write("INVITE sip:x SIP/2.0\r\nSubject: " + std::string(500, 'y')));
  ASSERT_TRUE(runUntil(loop, [&] { return phone.pollClosed(); }));
  ASSERT_EQ(server.rejected.size(), 1u);
  EXPECT_FALSE(server.rejected[0].head_complete);
  EXPECT_EQ(server.rejected_heads[0].size(), 400u);
}

// RFC 4475 3.1.2.3 (ncl) and 3.3.9 (mcl01) over TCP: answer 400 if possible,
// close the connection; another connection is not disturbed.
TEST_P(TcpTransportTest, FramingErrorsCloseOnlyThatConnection) {
  for (const char* name : {"ncl.dat", "mcl01.dat"}) {
    SCOPED_TRACE(name);
    const auto bad = test::rfc4475(name);
    ASSERT_TRUE(bad) << test::missingCorpus(name);
    Server server(loop, loopbackConfig(GetParam()));
    server.on_rejected_hook = [&](const RejectedMessage& r) {
      server.tcp->send("SIP/2.0 400 " + std::string(r.error.reason) + "\r\nl: 0\r\n\r\n",
                       test::to(Transport::kTcp, r.origin.source, r.origin.connection_id));
    };
    TcpClient good(server.endpoint());
    TcpClient evil(server.endpoint());
    ASSERT_TRUE(evil.write(*bad));
    ASSERT_TRUE(runUntil(loop, [&] { return evil.pollClosed(); }));
    EXPECT_EQ(evil.received.substr(0, 12), "SIP/2.0 400 ");
    ASSERT_EQ(server.rejected.size(), 1u);
    EXPECT_EQ(server.rejected[0].error.status, 400);
    EXPECT_TRUE(server.rejected_heads[0].starts_with(name[0] == 'n' ? "INVITE" : "OPTIONS"));
    EXPECT_EQ(server.tcp->counters().framing_errors, 1u);
    // Whatever the peer still sends is dropped, not framed.
    evil.write(test::sipRequest("late"));
    ASSERT_TRUE(good.write(test::sipRequest("good")));
    ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
    test::spin(loop);
    ASSERT_EQ(server.received.size(), 1u);
    EXPECT_EQ(server.received[0].bytes, test::sipRequest("good"));
  }
}

// RFC 4475 3.1.2.2 (clerr) over TCP: Content-Length 9999 with a short body
// waits for more, then closes; another connection is not disturbed.
TEST_P(TcpTransportTest, IncompleteMessageTimesOut) {
  const auto clerr = test::rfc4475("clerr.dat");
  ASSERT_TRUE(clerr) << test::missingCorpus("clerr.dat");
  TcpConfig c = loopbackConfig(GetParam());
  c.incomplete_message_timeout = 50ms;
  Server server(loop, c);
  TcpClient good(server.endpoint());
  TcpClient evil(server.endpoint());
  ASSERT_TRUE(evil.write(*clerr));
  ASSERT_TRUE(runUntil(loop, [&] { return evil.pollClosed(); }));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.closed.empty(); }));
  EXPECT_EQ(server.closed[0].reason, CloseReason::kIdle);
  EXPECT_EQ(server.tcp->counters().connections_timed_out, 1u);
  ASSERT_TRUE(good.write(test::sipRequest("good")));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  EXPECT_TRUE(server.rejected.empty());
}

TEST_P(TcpTransportTest, IdleConnectionIsClosed) {
  TcpConfig c = loopbackConfig(GetParam());
  c.idle_timeout = 60ms;
  Server server(loop, c);
  TcpClient phone(server.endpoint());
  ASSERT_TRUE(phone.write(test::sipRequest("once")));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  const auto since = std::chrono::steady_clock::now();
  ASSERT_TRUE(runUntil(loop, [&] { return phone.pollClosed(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - since, 30ms);
  ASSERT_TRUE(runUntil(loop, [&] { return !server.closed.empty(); }));
  EXPECT_EQ(server.closed[0].reason, CloseReason::kIdle);
  EXPECT_EQ(server.closed[0].connection_id, server.received[0].origin.connection_id);
  EXPECT_FALSE(server.tcp->isOpen(server.closed[0].connection_id));
  EXPECT_EQ(server.tcp->counters().connections_open, 0u);
}

TEST_P(TcpTransportTest, PerIpLimitRefusesExtraConnections) {
  TcpConfig c = loopbackConfig(GetParam());
  c.max_connections_per_ip = 2;
  Server server(loop, c);
  TcpClient first(server.endpoint()), second(server.endpoint());
  ASSERT_TRUE(runUntil(loop, [&] { return server.tcp->counters().connections_open == 2; }));
  TcpClient third(server.endpoint());
  ASSERT_TRUE(runUntil(loop, [&] { return third.pollClosed(); }));
  EXPECT_EQ(server.tcp->counters().connections_refused, 1u);
  ASSERT_TRUE(first.write(test::sipRequest("1")));
  ASSERT_TRUE(second.write(test::sipRequest("2")));
  ASSERT_TRUE(runUntil(loop, [&] { return server.received.size() == 2; }));
  // A slot freed is a slot available again.
  first.close();
  ASSERT_TRUE(runUntil(loop, [&] { return server.tcp->counters().connections_open == 1; }));
  TcpClient fourth(server.endpoint());
  ASSERT_TRUE(fourth.write(test::sipRequest("4")));
  ASSERT_TRUE(runUntil(loop, [&] { return server.received.size() == 3; }));
}

TEST_P(TcpTransportTest, TotalLimitRefusesExtraConnections) {
  TcpConfig c = loopbackConfig(GetParam());
  c.max_connections = 1;
  Server server(loop, c);
  TcpClient first(server.endpoint());
  ASSERT_TRUE(runUntil(loop, [&] { return server.tcp->counters().connections_open == 1; }));
  TcpClient second(server.endpoint());
  ASSERT_TRUE(runUntil(loop, [&] { return second.pollClosed(); }));
  EXPECT_EQ(server.tcp->counters().connections_refused, 1u);
  // Outbound connections count too.
  EXPECT_FALSE(server.tcp->send("x", test::to(Transport::kTcp, {GetParam(), 9})).accepted);
}

TEST_P(TcpTransportTest, WriteQueueCapDropsASlowReader) {
  TcpConfig c = loopbackConfig(GetParam());
  c.max_queued_bytes = 256 * 1024;
  Server server(loop, c);
  TcpClient phone(server.endpoint(), 4096);  // small window, never read
  ASSERT_TRUE(phone.write(test::sipRequest("hi")));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  const Origin origin = server.received[0].origin;
  const std::string chunk(64 * 1024, 'z');
  int accepted = 0;
  while (accepted < 10000) {
    if (!server.tcp->send(chunk, test::to(Transport::kTcp, origin.source, origin.connection_id))
             .accepted) {
      break;
    }
    ++accepted;
  }
  ASSERT_LT(accepted, 10000);
  EXPECT_EQ(server.tcp->counters().connections_overloaded, 1u);
  EXPECT_FALSE(server.tcp->isOpen(origin.connection_id));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.closed.empty(); }));
  EXPECT_EQ(server.closed[0].reason, CloseReason::kOverloaded);
  EXPECT_GT(server.closed[0].unsent_bytes, 0u);
}

TEST_P(TcpTransportTest, CloseAndPeerCloseAreReported) {
  Server server(loop, loopbackConfig(GetParam()));
  TcpClient a(server.endpoint()), b(server.endpoint());
  ASSERT_TRUE(a.write(test::sipRequest("a")));
  ASSERT_TRUE(b.write(test::sipRequest("b")));
  ASSERT_TRUE(runUntil(loop, [&] { return server.received.size() == 2; }));
  const std::uint64_t a_id = server.received[0].bytes == test::sipRequest("a")
                                 ? server.received[0].origin.connection_id
                                 : server.received[1].origin.connection_id;
  server.tcp->close(a_id);
  EXPECT_TRUE(server.closed.empty());  // reported in a later round, never re-entrantly
  ASSERT_TRUE(runUntil(loop, [&] { return a.pollClosed() && server.closed.size() == 1; }));
  EXPECT_EQ(server.closed[0].reason, CloseReason::kLocal);
  b.close();
  ASSERT_TRUE(runUntil(loop, [&] { return server.closed.size() == 2; }));
  EXPECT_EQ(server.closed[1].reason, CloseReason::kPeerClosed);
}

TEST_P(TcpTransportTest, BindFailureNamesProtocolAddressAndPort) {
  Server first(loop, loopbackConfig(GetParam()));
  const Endpoint taken = first.endpoint();
  try {
    TcpConfig c;
    c.bind = taken;
    TcpTransport second(loop, c);
    FAIL() << "second listener succeeded";
  } catch (const TransportError& e) {
    const std::string host = GetParam() == "::1" ? "[::1]" : GetParam();
    EXPECT_EQ(std::string(e.what()), "cannot listen on TCP " + host + ":" +
                                         std::to_string(taken.port) + ": Address already in use");
  }
}

TEST(TcpTransportWildcard, OriginLocalIsTheConnectionsRealAddress) {
  EventLoop loop;
  TcpConfig c;
  c.bind = {"0.0.0.0", 0};
  Server server(loop, c);
  EXPECT_EQ(server.endpoint().ip, "0.0.0.0");
  TcpClient phone({"127.0.0.1", server.endpoint().port});
  ASSERT_TRUE(phone.write(test::sipRequest("w")));
  ASSERT_TRUE(runUntil(loop, [&] { return !server.received.empty(); }));
  EXPECT_EQ(server.received[0].origin.local, (Endpoint{"127.0.0.1", server.endpoint().port}));
}

}  // namespace
}  // namespace duplex::sip
