// The SIP endpoint: what a peer gets back for each kind of request, and
// where it is sent (always the packet's source on UDP).
#include "pbx/sip/endpoint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace duplex::sip {
namespace {

struct Sent {
  std::string wire;
  Destination to;
};

class FakeTransport final : public SipTransport {
 public:
  explicit FakeTransport(Transport t) : protocol_(t) {}
  Transport protocol() const override { return protocol_; }
  const Endpoint& localEndpoint() const override { return local_; }
  void setHandlers(TransportHandlers) override {}
  SendResult send(std::string_view bytes, const Destination& to) override {
    sent.push_back({std::string(bytes), to});
    return {true, to.connection_id};
  }
  const TransportCounters& counters() const override { return counters_; }

  std::vector<Sent> sent;

 private:
  Transport protocol_;
  Endpoint local_{"192.0.2.10", 5060};
  TransportCounters counters_;
};

Origin udpFrom(std::string ip, std::uint16_t port) {
  return Origin{Transport::kUdp, {"192.0.2.10", 5060}, {std::move(ip), port}, 0};
}

std::string request(const std::string& method, const std::string& uri, const std::string& via,
                    const std::string& extra = "") {
  return method + " " + uri + " SIP/2.0\r\n" + "Via: " + via + "\r\n" +
         "From: <sip:100@pbx.example.com>;tag=ft\r\n"
         "To: <sip:pbx.example.com>\r\n"
         "Call-ID: call-" +
         method + "\r\nCSeq: 7 " + method + "\r\nMax-Forwards: 70\r\n" + extra +
         "Content-Length: 0\r\n\r\n";
}

int statusOf(const std::string& wire) {
  return std::stoi(wire.substr(8, 3));
}

std::string headerOf(const std::string& wire, const std::string& name) {
  auto m = Message::parse(wire);
  EXPECT_TRUE(m) << wire;
  if (!m) return {};
  return std::string(m->header(name).value_or("<absent>"));
}

class EndpointTest : public ::testing::Test {
 protected:
  EndpointTest() : endpoint(clock, EndpointOptions{"Duplex PBX test", {}, {}}) {
    endpoint.addTransport(udp);
    endpoint.addTransport(tcp);
  }
  ManualClock clock;
  FakeTransport udp{Transport::kUdp};
  FakeTransport tcp{Transport::kTcp};
  SipEndpoint endpoint;
};

TEST_F(EndpointTest, OptionsToThePbxIsAnsweredAtTheSourceWithCapabilities) {
  // A phone behind NAT: Via says 10.0.0.5:5060, the packet came from 203.0.113.7:40000.
  endpoint.onMessage(
      request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKopt1"),
      udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(udp.sent.size(), 1u);
  const Sent& s = udp.sent[0];
  EXPECT_EQ(statusOf(s.wire), 200);
  EXPECT_EQ(s.to.endpoint, (Endpoint{"203.0.113.7", 40000}));
  EXPECT_EQ(s.to.local, (Endpoint{"192.0.2.10", 5060}));
  EXPECT_EQ(headerOf(s.wire, "Via"),
            "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bKopt1;rport=40000;received=203.0.113.7");
  EXPECT_EQ(headerOf(s.wire, "Allow"), "CANCEL, OPTIONS");
  EXPECT_EQ(headerOf(s.wire, "Accept"), "application/sdp");
  EXPECT_NE(headerOf(s.wire, "Supported"), "<absent>");
  EXPECT_NE(headerOf(s.wire, "To").find(";tag="), std::string::npos);
  EXPECT_EQ(headerOf(s.wire, "Server"), "Duplex PBX test");
  EXPECT_EQ(endpoint.stats().options_answered, 1u);
}

TEST_F(EndpointTest, OptionsIsStatelessAndARetransmissionGetsTheSameAnswer) {
  auto text = request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKr1");
  endpoint.onMessage(text, udpFrom("203.0.113.7", 40000));
  endpoint.onMessage(text, udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(udp.sent.size(), 2u);
  EXPECT_EQ(udp.sent[0].wire, udp.sent[1].wire);  // same To tag: RFC 3261 8.2.7
  EXPECT_EQ(endpoint.transactions().stats().server_created, 0u);
  EXPECT_FALSE(endpoint.nextDeadline());
  // A different request gets a different tag.
  endpoint.onMessage(
      request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKr2"),
      udpFrom("203.0.113.7", 40000));
  EXPECT_NE(headerOf(udp.sent[2].wire, "To"), headerOf(udp.sent[0].wire, "To"));
}

TEST_F(EndpointTest, MalformedRequestGetsA400WithTheReasonAtTheSource) {
  std::string text =
      request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKm");
  text.erase(text.find("Call-ID"), text.find("CSeq") - text.find("Call-ID"));
  endpoint.onMessage(text, udpFrom("198.51.100.1", 5070));
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(udp.sent[0].wire.substr(0, 28), "SIP/2.0 400 Missing Call-ID\r");
  EXPECT_EQ(udp.sent[0].to.endpoint, (Endpoint{"198.51.100.1", 5070}));
  EXPECT_EQ(endpoint.stats().malformed_requests, 1u);
}

TEST_F(EndpointTest, WrongVersionGets505) {
  std::string text =
      request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKv");
  text.replace(text.find("SIP/2.0\r\n"), 7, "SIP/7.0");
  endpoint.onMessage(text, udpFrom("198.51.100.1", 5070));
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(statusOf(udp.sent[0].wire), 505);
}

TEST_F(EndpointTest, MalformedResponsesAndRequestsWithoutViaAreDroppedAndCounted) {
  endpoint.onMessage("SIP/2.0 4294967301 Big\r\nVia: SIP/2.0/UDP a;branch=z9hG4bKx\r\n\r\n",
                     udpFrom("198.51.100.1", 5070));
  endpoint.onMessage("OPTIONS sip:a SIP/2.0\r\nCall-ID: x\r\n\r\n", udpFrom("198.51.100.1", 5070));
  EXPECT_TRUE(udp.sent.empty());
  EXPECT_EQ(endpoint.stats().malformed_responses, 1u);
  EXPECT_EQ(endpoint.stats().unanswerable, 1u);
}

TEST_F(EndpointTest, UnservedInviteGetsTryingThen405WithAllow) {
  endpoint.onMessage(
      request("INVITE", "sip:200@pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKinv"),
      udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(udp.sent.size(), 2u);
  EXPECT_EQ(statusOf(udp.sent[0].wire), 100);
  EXPECT_EQ(statusOf(udp.sent[1].wire), 405);
  EXPECT_EQ(headerOf(udp.sent[1].wire, "Allow"), "CANCEL, OPTIONS");
}

struct RecordingHandler : RequestHandler {
  void onRequest(SipEndpoint& e, TransactionId id, const Message& r) override {
    methods.emplace_back(r.methodToken());
    if (answer)
      e.respond(id, 200, "OK");
    else
      pending = id;
  }
  void onCancel(SipEndpoint& e, TransactionId invite) override {
    cancelled = invite;
    e.respond(invite, 487, "Request Terminated");
  }
  std::vector<std::string> methods;
  bool answer = true;
  TransactionId pending = 0;
  TransactionId cancelled = 0;
};

TEST_F(EndpointTest, HandledMethodsReachTheirHandlerAndAppearInAllow) {
  RecordingHandler registrar;
  endpoint.setHandler(Method::kRegister, &registrar);
  endpoint.onMessage(
      request("REGISTER", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKreg"),
      udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(registrar.methods, std::vector<std::string>{"REGISTER"});
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(statusOf(udp.sent[0].wire), 200);
  endpoint.onMessage(
      request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKo2"),
      udpFrom("203.0.113.7", 40000));
  EXPECT_EQ(headerOf(udp.sent.back().wire, "Allow"), "CANCEL, OPTIONS, REGISTER");
}

TEST_F(EndpointTest, CancelWithoutInviteGets481) {
  endpoint.onMessage(
      request("CANCEL", "sip:200@pbx.example.com", "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKnone"),
      udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(statusOf(udp.sent[0].wire), 481);
}

TEST_F(EndpointTest, CancelOfAPendingInviteIsAnswered200AndTheInviteEnds487) {
  RecordingHandler calls;
  calls.answer = false;
  endpoint.setHandler(Method::kInvite, &calls);
  const std::string via = "SIP/2.0/UDP 10.0.0.5;branch=z9hG4bKpend";
  endpoint.onMessage(request("INVITE", "sip:200@pbx.example.com", via),
                     udpFrom("203.0.113.7", 40000));
  ASSERT_NE(calls.pending, 0u);
  std::string cancel = request("CANCEL", "sip:200@pbx.example.com", via);
  cancel.replace(cancel.find("call-CANCEL"), 11, "call-INVITE");
  endpoint.onMessage(cancel, udpFrom("203.0.113.7", 40000));
  EXPECT_EQ(calls.cancelled, calls.pending);
  std::vector<int> statuses;
  for (const Sent& s : udp.sent) statuses.push_back(statusOf(s.wire));
  EXPECT_EQ(statuses, (std::vector<int>{100, 200, 487}));
}

TEST_F(EndpointTest, MaxForwardsZeroForAUserIs483ButThePbxStillAnswers) {
  const std::string mf0 = "Max-Forwards: 0\r\n";
  std::string to_user =
      request("OPTIONS", "sip:user@example.com", "SIP/2.0/UDP h;branch=z9hG4bKmf1");
  to_user.replace(to_user.find("Max-Forwards: 70\r\n"), 18, mf0);
  endpoint.onMessage(to_user, udpFrom("203.0.113.7", 40000));
  std::string to_pbx = request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP h;branch=z9hG4bKmf2");
  to_pbx.replace(to_pbx.find("Max-Forwards: 70\r\n"), 18, mf0);
  endpoint.onMessage(to_pbx, udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(udp.sent.size(), 2u);
  EXPECT_EQ(statusOf(udp.sent[0].wire), 483);
  EXPECT_EQ(statusOf(udp.sent[1].wire), 200);
}

TEST_F(EndpointTest, RequireWeDoNotSupportIs420Statelessly) {
  endpoint.onMessage(request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/UDP h;branch=z9hG4bKreq",
                             "Require: foo\r\n"),
                     udpFrom("203.0.113.7", 40000));
  ASSERT_EQ(udp.sent.size(), 1u);
  EXPECT_EQ(statusOf(udp.sent[0].wire), 420);
  EXPECT_EQ(headerOf(udp.sent[0].wire, "Unsupported"), "foo");
  EXPECT_EQ(endpoint.stats().stateless_rejections, 1u);
}

TEST_F(EndpointTest, TcpAnswersGoBackOnTheConnection) {
  Origin origin{Transport::kTcp, {"192.0.2.10", 5060}, {"203.0.113.7", 51000}, 42};
  endpoint.onMessage(
      request("OPTIONS", "sip:pbx.example.com", "SIP/2.0/TCP 10.0.0.5;branch=z9hG4bKt"), origin);
  ASSERT_EQ(tcp.sent.size(), 1u);
  EXPECT_EQ(tcp.sent[0].to.connection_id, 42u);
  EXPECT_TRUE(udp.sent.empty());
}

TEST_F(EndpointTest, OversizedStreamMessageGets513) {
  Origin origin{Transport::kTcp, {"192.0.2.10", 5060}, {"203.0.113.7", 51000}, 9};
  std::string head = request("INVITE", "sip:1@pbx", "SIP/2.0/TCP h;branch=z9hG4bKbig");
  endpoint.onRejected(RejectedMessage{origin, SipError{513, "Message Too Large"}, head, true});
  ASSERT_EQ(tcp.sent.size(), 1u);
  EXPECT_EQ(tcp.sent[0].wire.substr(0, 29), "SIP/2.0 513 Message Too Large");
  EXPECT_EQ(tcp.sent[0].to.connection_id, 9u);
}

TEST(SalvageErrorResponse, CopiesRoutingHeadersInAnyFormAndFolding) {
  const std::string raw =
      "INVITE sip:x SIP/2.0\r\n"
      "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
      "Subject: dropped\r\n"
      "f: <sip:a@b>;tag=1\r\n"
      "To: <sip:c@d>\r\n  ;folded=yes\r\n"
      "i: abc\r\n"
      "CSeq: 1 INVITE\r\n"
      "\r\nbody";
  auto r = salvageErrorResponse(raw, SipError{400, "Bad CSeq"}, "S");
  ASSERT_TRUE(r);
  EXPECT_EQ(*r,
            "SIP/2.0 400 Bad CSeq\r\n"
            "v: SIP/2.0/UDP a.example.com;branch=z9hG4bK1\r\n"
            "f: <sip:a@b>;tag=1\r\n"
            "To: <sip:c@d>\r\n  ;folded=yes\r\n"
            "i: abc\r\n"
            "CSeq: 1 INVITE\r\n"
            "Server: S\r\n"
            "Content-Length: 0\r\n\r\n");
  EXPECT_FALSE(salvageErrorResponse("INVITE sip:x SIP/2.0\r\nTo: a\r\n\r\n", SipError{}, "S"));
}

}  // namespace
}  // namespace duplex::sip
