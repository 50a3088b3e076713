// sip::SipEndpoint's ClientHandler hook: the outcomes of client transactions
// a layer above started reach it (responses, Timer F, transport errors).
#include <gtest/gtest.h>

#include "pbx/sip/endpoint.h"
#include "register_test_support.h"

namespace duplex::call::test {
namespace {

using namespace std::chrono_literals;

struct Recorder final : sip::ClientHandler {
  std::vector<int> statuses;
  int timeouts = 0;
  int transportErrors = 0;
  void onResponse(sip::SipEndpoint&, sip::TransactionId, const sip::Message& r) override {
    statuses.push_back(r.statusCode());
  }
  void onClientTimeout(sip::SipEndpoint&, sip::TransactionId) override { ++timeouts; }
  void onTransportError(sip::SipEndpoint&, sip::TransactionId) override { ++transportErrors; }
};

sip::Message options(const std::string& branch) {
  sip::Message m = sip::Message::request(sip::Method::kOptions, "sip:101@10.0.0.5");
  m.addHeader("Via", "SIP/2.0/UDP 192.0.2.10:5060;branch=" + branch);
  m.addHeader("From", "<sip:ka@pbx.test>;tag=1");
  m.addHeader("To", "<sip:101@10.0.0.5>");
  m.addHeader("Call-ID", "ka-" + branch);
  m.addHeader("CSeq", "1 OPTIONS");
  m.addHeader("Max-Forwards", "70");
  m.addHeader("Content-Length", "0");
  return m;
}

class ClientHandlerTest : public ::testing::Test {
 protected:
  ClientHandlerTest() {
    endpoint.addTransport(udp);
    endpoint.setClientHandler(&recorder);
  }
  sip::ManualClock clock;
  FakeTransport udp;
  sip::SipEndpoint endpoint{clock, sip::EndpointOptions{}};
  Recorder recorder;
  const sip::Destination to{sip::Transport::kUdp, {"203.0.113.7", 40000}, 0, kLocal};
};

TEST_F(ClientHandlerTest, ResponsesReachTheHandler) {
  auto id = endpoint.transactions().sendRequest(options("z9hG4bKch1"), to);
  ASSERT_TRUE(id);
  auto sent = sip::Message::parse(udp.sent.back().wire);
  ASSERT_TRUE(sent);
  endpoint.onMessage(sip::Message::responseTo(*sent, 100, "Trying").serialize(),
                     udpFrom("203.0.113.7", 40000));
  endpoint.onMessage(sip::Message::responseTo(*sent, 404, "Not Found", "t").serialize(),
                     udpFrom("203.0.113.7", 40000));
  EXPECT_EQ(recorder.statuses, (std::vector<int>{100, 404}));
}

TEST_F(ClientHandlerTest, TimerFReachesTheHandler) {
  ASSERT_TRUE(endpoint.transactions().sendRequest(options("z9hG4bKch2"), to));
  for (int i = 0; i < 40; ++i) {
    clock.advance(1s);
    endpoint.onTimer(clock.now());
  }
  EXPECT_EQ(recorder.timeouts, 1);
  EXPECT_TRUE(recorder.statuses.empty());
}

TEST_F(ClientHandlerTest, SendBytesGoesOutOnTheTransport) {
  EXPECT_TRUE(endpoint.sendBytes("\r\n\r\n", to));
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(udp.sent[0].wire, "\r\n\r\n");
  EXPECT_EQ(udp.sent[0].to, to);
}

}  // namespace
}  // namespace duplex::call::test
