// Call control: the basic call through the B2BUA and its refusals, as the
// phones see them (the packets the PBX sent, to which address, with which
// SDP), and the call record a user would read afterwards.
#include "call_test_support.h"

namespace duplex::call::test {
namespace {

using namespace std::chrono_literals;

class BasicCall : public CallFixture {
 protected:
  // Caller 101 calls 102 (one phone on the LAN); returns the INVITE the
  // callee's phone got.
  sip::Message ringCallee() {
    bind("102", kCalleePhone, "bob");
    auto sent = authenticatedInvite(Invite{});
    const Sent* leg = findSent(sent, "INVITE ", &kCalleePhone);
    EXPECT_NE(leg, nullptr);
    return leg ? parse(*leg) : sip::Message::response(0, "none");
  }
  // Ring, 180, 200 with SDP, caller ACKs. Returns the caller's 200.
  sip::Message answerCall(const sip::Message& calleeInvite) {
    deliver(responseTo(calleeInvite, 180, "Ringing", "bobtag"), kCalleePhone);
    auto sent = deliver(responseTo(calleeInvite, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000),
                                   "sip:bob@192.0.2.22:5064"),
                        kCalleePhone);
    const Sent* ok = findSent(sent, "SIP/2.0 200", &kCallerPhone);
    EXPECT_NE(ok, nullptr);
    EXPECT_NE(findSent(sent, "ACK sip:bob@192.0.2.22:5064", &kCalleePhone), nullptr);
    return ok ? parse(*ok) : sip::Message::response(0, "none");
  }
  std::string callerTo(const sip::Message& ok) {
    return std::string(*ok.header(sip::HeaderId::kTo));
  }
};

TEST_F(BasicCall, InviteWithoutCredentialsIsChallengedAndNotRouted) {
  bind("102", kCalleePhone, "bob");
  auto sent = deliver(inviteText(Invite{}), kCallerPhone);
  const Sent* challenge = findSent(sent, "SIP/2.0 407 Proxy Authentication Required");
  ASSERT_NE(challenge, nullptr);
  sip::Message m = parse(*challenge);
  auto challenges = m.proxyAuthenticates();
  ASSERT_EQ(challenges.size(), 2u);
  EXPECT_EQ(challenges[0].param("algorithm").value_or(""), "SHA-256");
  EXPECT_EQ(findSent(sent, "INVITE ", &kCalleePhone), nullptr);
  EXPECT_EQ(media.created, 0);
}

TEST_F(BasicCall, WrongPasswordIsForbidden) {
  bind("102", kCalleePhone, "bob");
  passwords["101"] = "wrong";
  auto sent = authenticatedInvite(Invite{});
  EXPECT_NE(findSent(sent, "SIP/2.0 403"), nullptr);
  EXPECT_EQ(findSent(sent, "INVITE "), nullptr);
}

TEST_F(BasicCall, FromAnotherExtensionThanTheAuthenticatedOneIsForbidden) {
  bind("102", kCalleePhone, "bob");
  Invite inv;
  auto first = deliver(inviteText(inv), kCallerPhone);
  // Credentials of 103, From 101.
  Invite again = inv;
  again.cseq = 2;
  again.branch = "z9hG4bKspoof";
  auto sent = deliver(inviteText(again, proxyAuthorization(parse(*findSent(first, "SIP/2.0 407")),
                                                           "103", "secret103", "sip:102@pbx.test")),
                      kCallerPhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 403 From is not the authenticated user"), nullptr);
}

TEST_F(BasicCall, CalleeGetsInviteAtItsBindingWithSdpOnTheRelay) {
  sip::Message leg = ringCallee();
  EXPECT_EQ(leg.requestUriText(), "sip:bob@192.0.2.22:5064");
  EXPECT_EQ(leg.from()->uri.user(), "101");
  EXPECT_EQ(leg.from()->display_name, "Ext 101");
  EXPECT_EQ(leg.to()->uri.user(), "102");
  EXPECT_NE(leg.callId().value_or(""), "call-1");  // a B2BUA: a call-id of its own
  EXPECT_EQ(*leg.maxForwards().value(), 69u);
  // LAN callee: Via, Contact and SDP carry the LAN address.
  EXPECT_EQ(leg.topVia()->host, "192.0.2.10");
  EXPECT_NE(std::string(leg.body()).find("c=IN IP4 192.0.2.10"), std::string::npos);
  EXPECT_NE(std::string(leg.body()).find("m=audio 40002 "), std::string::npos);
  ASSERT_EQ(media.rewrites.size(), 1u);
  EXPECT_EQ(media.rewrites[0].signalIp, "192.0.2.21");
}

TEST_F(BasicCall, WanCalleeGetsTheMainAddress) {
  bind("102", kRemotePhone, "bob");
  auto sent = authenticatedInvite(Invite{});
  const Sent* leg = findSent(sent, "INVITE ", &kRemotePhone);
  ASSERT_NE(leg, nullptr);
  sip::Message m = parse(*leg);
  EXPECT_EQ(m.topVia()->host, "203.0.113.1");
  EXPECT_NE(std::string(m.body()).find("c=IN IP4 203.0.113.1"), std::string::npos);
  EXPECT_NE(std::string(*m.header(sip::HeaderId::kContact)).find("203.0.113.1"), std::string::npos);
}

TEST_F(BasicCall, RingingAnswerAckAndByeFromCaller) {
  sip::Message leg = ringCallee();
  auto ringing = deliver(responseTo(leg, 180, "Ringing", "bobtag"), kCalleePhone);
  const Sent* r180 = findSent(ringing, "SIP/2.0 180 Ringing", &kCallerPhone);
  ASSERT_NE(r180, nullptr);
  const std::string tag(parse(*r180).to()->tag());
  EXPECT_FALSE(tag.empty());

  sip::Message ok = answerCall(leg);
  EXPECT_EQ(std::string(ok.to()->tag()), tag);  // one dialog toward the caller
  EXPECT_NE(std::string(ok.body()).find("m=audio 40000 "), std::string::npos);
  EXPECT_NE(std::string(ok.body()).find("c=IN IP4 192.0.2.10"), std::string::npos);
  ASSERT_EQ(media.answeredSessions.size(), 1u);

  // Caller ACKs, then hangs up.
  const std::string from = "\"Alice\" <sip:101@pbx.test>;tag=calltag1";
  deliver(inDialogRequest("ACK", "sip:102@192.0.2.10:5060", from, callerTo(ok), "call-1", 2,
                          kCallerPhone.toString()),
          kCallerPhone);
  auto bye = deliver(inDialogRequest("BYE", "sip:102@192.0.2.10:5060", from, callerTo(ok), "call-1",
                                     3, kCallerPhone.toString()),
                     kCallerPhone);
  EXPECT_NE(findSent(bye, "SIP/2.0 200 OK", &kCallerPhone), nullptr);
  const Sent* calleeBye = findSent(bye, "BYE sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(calleeBye, nullptr);
  EXPECT_EQ(parse(*calleeBye).to()->tag(), "bobtag");
  ASSERT_EQ(records.records.size(), 1u);
  const db::CallRecord& r = records.records[0];
  EXPECT_EQ(r.caller, "101");
  EXPECT_EQ(r.callee, "102");
  EXPECT_EQ(r.dialled, "102");
  EXPECT_EQ(r.disposition, db::Disposition::answered);
  EXPECT_EQ(r.hangupSide, "caller");
  EXPECT_TRUE(r.answerAt.has_value());
  EXPECT_EQ(r.mediaFacts, "{\"session\":1}");
  EXPECT_EQ(media.released.size(), 1u);
  EXPECT_EQ(b2bua->stats().active, 0u);
}

TEST_F(BasicCall, AnswerWithoutToTagIs502ToTheCaller) {
  // A 2xx with no To tag cannot start a dialog (RFC 3261 12.1.2): the
  // caller hears 502 at once instead of ringing until its own timeout.
  sip::Message leg = ringCallee();
  sip::Message bad = sip::Message::responseTo(leg, 200, "OK", "");
  bad.addHeader("Contact", "<sip:bob@192.0.2.22:5064>");
  bad.setBody("application/sdp", offerSdp("192.0.2.22", 5000));
  ASSERT_TRUE(bad.to()->tag().empty());
  auto sent = deliver(bad.serialize(), kCalleePhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 502 Bad Gateway (the callee answered without a To tag)",
                     &kCallerPhone),
            nullptr);
  EXPECT_EQ(findSent(sent, "SIP/2.0 200 OK", &kCallerPhone), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::failed);
  EXPECT_EQ(b2bua->stats().active, 0u);
}

TEST_F(BasicCall, ByeFromCalleeEndsTheCallerLeg) {
  sip::Message leg = ringCallee();
  sip::Message ok = answerCall(leg);
  auto sent =
      deliver(inDialogRequest("BYE", "sip:101@192.0.2.10:5060", "<sip:102@pbx.test>;tag=bobtag",
                              std::string(*leg.header(sip::HeaderId::kFrom)),
                              std::string(*leg.callId()), 1, kCalleePhone.toString()),
              kCalleePhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 200 OK", &kCalleePhone), nullptr);
  const Sent* bye = findSent(sent, "BYE sip:101@192.0.2.21:5062", &kCallerPhone);
  ASSERT_NE(bye, nullptr);
  sip::Message m = parse(*bye);
  EXPECT_EQ(m.callId().value_or(""), "call-1");
  EXPECT_EQ(m.from()->tag(), ok.to()->tag());
  EXPECT_EQ(m.to()->tag(), "calltag1");
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].hangupSide, "callee");
}

TEST_F(BasicCall, OkIsRetransmittedUntilTheAck) {
  sip::Message leg = ringCallee();
  sip::Message ok = answerCall(leg);
  const std::size_t before = udp.sent.size();
  advance(600ms);
  ASSERT_GT(udp.sent.size(), before);
  EXPECT_EQ(udp.sent.back().wire.rfind("SIP/2.0 200 OK", 0), 0u);
  deliver(
      inDialogRequest("ACK", "sip:102@192.0.2.10:5060", "\"Alice\" <sip:101@pbx.test>;tag=calltag1",
                      callerTo(ok), "call-1", 2, kCallerPhone.toString()),
      kCallerPhone);
  const std::size_t acked = udp.sent.size();
  advance(5s);
  for (std::size_t i = acked; i < udp.sent.size(); ++i) {
    EXPECT_NE(udp.sent[i].wire.rfind("SIP/2.0 200 OK", 0), 0u) << udp.sent[i].wire;
  }
}

TEST_F(BasicCall, NoAckWithin64T1EndsTheCallWithBye) {
  sip::Message leg = ringCallee();
  answerCall(leg);
  advance(40s);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].hangupCause, "no ACK for 2xx");
  bool byeToCallee = false;
  for (const Sent& s : udp.sent)
    byeToCallee |= s.wire.rfind("BYE ", 0) == 0 && s.to.endpoint == kCalleePhone;
  EXPECT_TRUE(byeToCallee);
}

TEST_F(BasicCall, UnknownExtensionIs404) {
  auto sent = authenticatedInvite(Invite{.to = "999"});
  EXPECT_NE(findSent(sent, "SIP/2.0 404 Not Found"), nullptr);
  EXPECT_EQ(media.created, 0);
}

TEST_F(BasicCall, ExtensionWithoutPhonesIs480) {
  auto sent = authenticatedInvite(Invite{});
  EXPECT_NE(findSent(sent, "SIP/2.0 480 Temporarily Unavailable"), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::noAnswer);
}

TEST_F(BasicCall, DoNotDisturbIs486AndRecorded) {
  bind("102", kCalleePhone, "bob");
  directory.extensions["102"].dnd = true;
  auto sent = authenticatedInvite(Invite{});
  EXPECT_NE(findSent(sent, "SIP/2.0 486 Busy Here (do not disturb)"), nullptr);
  EXPECT_EQ(findSent(sent, "INVITE "), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::busy);
  EXPECT_EQ(records.records[0].hangupCause, "486 Busy Here (do not disturb)");
}

TEST_F(BasicCall, CallToSelfIs486) {
  bind("101", kCallerPhone, "alice");
  auto sent = authenticatedInvite(Invite{.to = "101"});
  EXPECT_NE(findSent(sent, "SIP/2.0 486 Busy Here (call to self)"), nullptr);
}

TEST_F(BasicCall, MaxForwardsZeroIs483) {
  bind("102", kCalleePhone, "bob");
  Invite inv;
  auto first = deliver(inviteText(inv), kCallerPhone);
  Invite again = inv;
  again.cseq = 2;
  again.branch = "z9hG4bKmf";
  std::string text = inviteText(again, proxyAuthorization(parse(*findSent(first, "SIP/2.0 407")),
                                                          "101", "secret101", "sip:102@pbx.test"));
  text.replace(text.find("Max-Forwards: 70"), 16, "Max-Forwards: 0");
  auto sent = deliver(text, kCallerPhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 483 Too Many Hops"), nullptr);
  EXPECT_EQ(findSent(sent, "INVITE "), nullptr);
}

TEST_F(BasicCall, MalformedSdpIs488WithTheReason) {
  bind("102", kCalleePhone, "bob");
  Invite inv;
  inv.sdpIp = "192.0.2.21";
  auto first = deliver(inviteText(inv), kCallerPhone);
  std::string auth = proxyAuthorization(parse(*findSent(first, "SIP/2.0 407")), "101", "secret101",
                                        "sip:102@pbx.test");
  std::string text =
      "INVITE sip:102@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.21:5062;branch=z9hG4bKbad\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:101@pbx.test>;tag=t1\r\nTo: <sip:102@pbx.test>\r\n"
      "Call-ID: bad-sdp\r\nCSeq: 1 INVITE\r\nContact: <sip:101@192.0.2.21:5062>\r\n" +
      auth + "Content-Type: application/sdp\r\nContent-Length: 8\r\n\r\nv=0\r\nx\r\n";
  auto sent = deliver(text, kCallerPhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 488 SDP: no media line"), nullptr);
  EXPECT_EQ(findSent(sent, "INVITE "), nullptr);
}

TEST_F(BasicCall, NoMediaPortsIs503) {
  bind("102", kCalleePhone, "bob");
  media.exhausted = true;
  auto sent = authenticatedInvite(Invite{});
  EXPECT_NE(findSent(sent, "SIP/2.0 503 No media ports available"), nullptr);
}

TEST_F(BasicCall, InDialogRequestForUnknownDialogIs481) {
  auto sent =
      deliver(inDialogRequest("BYE", "sip:102@192.0.2.10", "<sip:101@pbx.test>;tag=a",
                              "<sip:102@pbx.test>;tag=b", "nope", 5, kCallerPhone.toString()),
              kCallerPhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 481"), nullptr);
}

}  // namespace
}  // namespace duplex::call::test
