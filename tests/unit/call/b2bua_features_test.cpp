// Call control: CANCEL, parallel ringing, forwarding (busy, no answer,
// unconditional), the no-answer timeout, 3xx policy, and requests inside an
// answered call (re-INVITE for hold, UPDATE, INFO), as the phones see them.
#include "call_test_support.h"

namespace duplex::call::test {
namespace {

using namespace std::chrono_literals;

const sip::Endpoint kThirdPhone{"192.0.2.23", 5066};

class Features : public CallFixture {
 protected:
  std::vector<sip::Message> invitesTo(const std::vector<Sent>& sent, const sip::Endpoint& to) {
    std::vector<sip::Message> out;
    for (const Sent& s : sent) {
      if (s.wire.rfind("INVITE ", 0) == 0 && s.to.endpoint == to) out.push_back(parse(s));
    }
    return out;
  }
  std::string ackFor(const sip::Message& ok, std::uint32_t cseq) {
    return inDialogRequest(
        "ACK", "sip:102@192.0.2.10:5060", "\"Alice\" <sip:101@pbx.test>;tag=calltag1",
        std::string(*ok.header(sip::HeaderId::kTo)), "call-1", cseq, kCallerPhone.toString());
  }
};

TEST_F(Features, CallerCancelsWhileRinging) {
  bind("102", kCalleePhone, "bob");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  ASSERT_EQ(legs.size(), 1u);
  deliver(responseTo(legs[0], 180, "Ringing", "bobtag"), kCalleePhone);
  // CANCEL for the authenticated INVITE (branch ...-auth, CSeq 2).
  std::string cancel =
      "CANCEL sip:102@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP "
      "192.0.2.21:5062;branch=z9hG4bKinv1-auth\r\n"
      "Max-Forwards: 70\r\nFrom: \"Alice\" <sip:101@pbx.test>;tag=calltag1\r\n"
      "To: <sip:102@pbx.test>\r\nCall-ID: call-1\r\nCSeq: 2 CANCEL\r\nContent-Length: 0\r\n\r\n";
  auto out = deliver(cancel, kCallerPhone);
  EXPECT_NE(findSent(out, "SIP/2.0 200 OK", &kCallerPhone), nullptr);
  EXPECT_NE(findSent(out, "SIP/2.0 487 Request Terminated", &kCallerPhone), nullptr);
  const Sent* c = findSent(out, "CANCEL sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(parse(*c).topVia()->branch, legs[0].topVia()->branch);  // RFC 3261 9.1
  // The phone answers 200 to the CANCEL and 487 to its INVITE.
  deliver(responseTo(legs[0], 487, "Request Terminated", "bobtag"), kCalleePhone);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::cancelled);
  EXPECT_EQ(records.records[0].hangupSide, "caller");
  EXPECT_EQ(b2bua->stats().active, 0u);
}

TEST_F(Features, CancelBeforeAnyProvisionalWaitsForOne) {
  bind("102", kCalleePhone, "bob");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  ASSERT_EQ(legs.size(), 1u);
  std::string cancel =
      "CANCEL sip:102@pbx.test SIP/2.0\r\nVia: SIP/2.0/UDP "
      "192.0.2.21:5062;branch=z9hG4bKinv1-auth\r\n"
      "Max-Forwards: 70\r\nFrom: \"Alice\" <sip:101@pbx.test>;tag=calltag1\r\n"
      "To: <sip:102@pbx.test>\r\nCall-ID: call-1\r\nCSeq: 2 CANCEL\r\nContent-Length: 0\r\n\r\n";
  auto out = deliver(cancel, kCallerPhone);
  EXPECT_EQ(findSent(out, "CANCEL ", &kCalleePhone), nullptr);  // RFC 3261 9.1
  auto later = deliver(responseTo(legs[0], 180, "Ringing", "bobtag"), kCalleePhone);
  EXPECT_NE(findSent(later, "CANCEL ", &kCalleePhone), nullptr);
  EXPECT_EQ(findSent(later, "SIP/2.0 180", &kCallerPhone), nullptr);  // the call is over
}

TEST_F(Features, TwoPhonesRingInParallelFirstAnswerWinsOtherIsCanceled) {
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  auto sent = authenticatedInvite(Invite{});
  auto lan = invitesTo(sent, kCalleePhone);
  auto wan = invitesTo(sent, kRemotePhone);
  ASSERT_EQ(lan.size(), 1u);
  ASSERT_EQ(wan.size(), 1u);
  EXPECT_EQ(lan[0].callId().value_or(""), wan[0].callId().value_or(""));
  EXPECT_NE(lan[0].topVia()->branch, wan[0].topVia()->branch);
  deliver(responseTo(lan[0], 180, "Ringing", "lantag"), kCalleePhone);
  deliver(responseTo(wan[0], 180, "Ringing", "wantag"), kRemotePhone);
  auto out = deliver(responseTo(wan[0], 200, "OK", "wantag", offerSdp("10.1.1.1", 6000),
                                "sip:bob-mobile@198.51.100.7:40123"),
                     kRemotePhone);
  EXPECT_NE(findSent(out, "SIP/2.0 200 OK", &kCallerPhone), nullptr);
  EXPECT_NE(findSent(out, "ACK ", &kRemotePhone), nullptr);
  EXPECT_NE(findSent(out, "CANCEL ", &kCalleePhone), nullptr);
  // The caller's SDP answer points at the relay on the caller's LAN address.
  sip::Message ok = parse(*findSent(out, "SIP/2.0 200 OK", &kCallerPhone));
  EXPECT_NE(std::string(ok.body()).find("c=IN IP4 192.0.2.10"), std::string::npos);
  // The losing phone's 487 changes nothing for the caller.
  auto late = deliver(responseTo(lan[0], 487, "Request Terminated", "lantag"), kCalleePhone);
  EXPECT_EQ(findSent(late, "SIP/2.0", &kCallerPhone), nullptr);
  EXPECT_EQ(records.records.size(), 0u);
}

TEST_F(Features, SecondPhoneAnsweringTooLateGetsAckAndBye) {
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  auto sent = authenticatedInvite(Invite{});
  auto lan = invitesTo(sent, kCalleePhone);
  auto wan = invitesTo(sent, kRemotePhone);
  deliver(responseTo(lan[0], 200, "OK", "lantag", offerSdp("192.0.2.22", 5000),
                     "sip:bob@192.0.2.22:5064"),
          kCalleePhone);
  auto out = deliver(responseTo(wan[0], 200, "OK", "wantag", offerSdp("10.1.1.1", 6000),
                                "sip:bob-mobile@198.51.100.7:40123"),
                     kRemotePhone);
  EXPECT_NE(findSent(out, "ACK ", &kRemotePhone), nullptr);
  EXPECT_NE(findSent(out, "BYE ", &kRemotePhone), nullptr);
  EXPECT_EQ(findSent(out, "SIP/2.0 200", &kCallerPhone), nullptr);
}

TEST_F(Features, BusyWithBusyForwardRingsTheForwardTarget) {
  bind("102", kCalleePhone, "bob");
  bind("103", kThirdPhone, "carol");
  directory.extensions["102"].forwardBusy = "103";
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  ASSERT_EQ(legs.size(), 1u);
  auto out = deliver(responseTo(legs[0], 486, "Busy Here", "bobtag"), kCalleePhone);
  EXPECT_EQ(findSent(out, "SIP/2.0 486", &kCallerPhone), nullptr);
  auto fwd = invitesTo(out, kThirdPhone);
  ASSERT_EQ(fwd.size(), 1u);
  EXPECT_EQ(fwd[0].to()->uri.user(), "103");
  auto answered = deliver(responseTo(fwd[0], 200, "OK", "caroltag", offerSdp("192.0.2.23", 7000),
                                     "sip:carol@192.0.2.23:5066"),
                          kThirdPhone);
  sip::Message ok = parse(*findSent(answered, "SIP/2.0 200 OK", &kCallerPhone));
  deliver(ackFor(ok, 2), kCallerPhone);
  deliver(inDialogRequest(
              "BYE", "sip:102@192.0.2.10:5060", "\"Alice\" <sip:101@pbx.test>;tag=calltag1",
              std::string(*ok.header(sip::HeaderId::kTo)), "call-1", 3, kCallerPhone.toString()),
          kCallerPhone);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].callee, "103");
  EXPECT_EQ(records.records[0].dialled, "102");
  EXPECT_EQ(records.records[0].forwardSteps, R"([{"from":"102","to":"103","why":"busy"}])");
}

TEST_F(Features, BusyWithoutForwardIs486ToTheCaller) {
  bind("102", kCalleePhone, "bob");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  auto out = deliver(responseTo(legs[0], 486, "Busy Here", "bobtag"), kCalleePhone);
  EXPECT_NE(findSent(out, "SIP/2.0 486 Busy Here", &kCallerPhone), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::busy);
}

TEST_F(Features, NoAnswerIs480AfterTheTimeout) {
  bind("102", kCalleePhone, "bob");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  deliver(responseTo(legs[0], 180, "Ringing", "bobtag"), kCalleePhone);
  const std::size_t before = udp.sent.size();
  advance(24s);
  for (std::size_t i = before; i < udp.sent.size(); ++i) {
    EXPECT_NE(udp.sent[i].wire.rfind("SIP/2.0 480", 0), 0u);
  }
  advance(2s);
  std::vector<Sent> after(udp.sent.begin() + static_cast<std::ptrdiff_t>(before), udp.sent.end());
  EXPECT_NE(findSent(after, "SIP/2.0 480 Temporarily Unavailable (no answer)", &kCallerPhone),
            nullptr);
  EXPECT_NE(findSent(after, "CANCEL ", &kCalleePhone), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::noAnswer);
}

TEST_F(Features, NoAnswerForwardAfterItsSeconds) {
  bind("102", kCalleePhone, "bob");
  bind("103", kThirdPhone, "carol");
  directory.extensions["102"].forwardNoAnswer = "103";
  directory.extensions["102"].forwardNoAnswerSeconds = 10;
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  deliver(responseTo(legs[0], 180, "Ringing", "bobtag"), kCalleePhone);
  const std::size_t before = udp.sent.size();
  advance(11s);
  std::vector<Sent> after(udp.sent.begin() + static_cast<std::ptrdiff_t>(before), udp.sent.end());
  EXPECT_NE(findSent(after, "CANCEL ", &kCalleePhone), nullptr);
  auto fwd = invitesTo(after, kThirdPhone);  // sent at 10 s, retransmitted at 10.5 s
  ASSERT_FALSE(fwd.empty());
  EXPECT_EQ(fwd.back().topVia()->branch, fwd.front().topVia()->branch);
  EXPECT_EQ(findSent(after, "SIP/2.0 480", &kCallerPhone), nullptr);
  // The canceled phone's 487 does not end the forwarded call.
  auto late = deliver(responseTo(legs[0], 487, "Request Terminated", "bobtag"), kCalleePhone);
  EXPECT_EQ(findSent(late, "SIP/2.0", &kCallerPhone), nullptr);
  auto answered = deliver(responseTo(fwd[0], 200, "OK", "caroltag", offerSdp("192.0.2.23", 7000),
                                     "sip:carol@192.0.2.23:5066"),
                          kThirdPhone);
  EXPECT_NE(findSent(answered, "SIP/2.0 200 OK", &kCallerPhone), nullptr);
}

TEST_F(Features, UnconditionalForwardRingsOnlyTheTarget) {
  bind("102", kCalleePhone, "bob");
  bind("103", kThirdPhone, "carol");
  directory.extensions["102"].forwardUnconditional = "103";
  auto sent = authenticatedInvite(Invite{});
  EXPECT_TRUE(invitesTo(sent, kCalleePhone).empty());
  EXPECT_EQ(invitesTo(sent, kThirdPhone).size(), 1u);
}

TEST_F(Features, ForwardLoopIs482) {
  bind("102", kCalleePhone, "bob");
  bind("103", kThirdPhone, "carol");
  directory.extensions["102"].forwardUnconditional = "103";
  directory.extensions["103"].forwardUnconditional = "102";
  auto sent = authenticatedInvite(Invite{});
  EXPECT_NE(findSent(sent, "SIP/2.0 482 Loop Detected"), nullptr);
}

TEST_F(Features, ForwardToAnOutsideNumberIsIgnored) {
  bind("102", kCalleePhone, "bob");
  directory.extensions["102"].forwardUnconditional = "0900123456";
  auto sent = authenticatedInvite(Invite{});
  EXPECT_EQ(invitesTo(sent, kCalleePhone).size(), 1u);
}

TEST_F(Features, RedirectIsNotFollowedByDefault) {
  bind("102", kCalleePhone, "bob");
  bind("103", kThirdPhone, "carol");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  auto out =
      deliver(responseTo(legs[0], 302, "Moved Temporarily", "bobtag", "", "sip:103@pbx.test"),
              kCalleePhone);
  EXPECT_NE(findSent(out, "SIP/2.0 480 Redirect Not Followed", &kCallerPhone), nullptr);
  EXPECT_TRUE(invitesTo(out, kThirdPhone).empty());
  // The caller never sees the 3xx (it could follow it to a premium number).
  EXPECT_EQ(findSent(out, "SIP/2.0 302"), nullptr);
}

class FollowRedirects : public Features {
 protected:
  FollowRedirects() {
    settings.followRedirectsInternal = true;
    b2bua = std::make_unique<B2bua>(
        B2bua::Services{endpoint, clock, [this] { return wallNow(); }, authenticator, credentials,
                        directory, registrar, addresses, media, records},
        settings);
    for (sip::Method m :
         {sip::Method::kInvite, sip::Method::kBye, sip::Method::kUpdate, sip::Method::kInfo}) {
      endpoint.setHandler(m, b2bua.get());
    }
  }
};

TEST_F(FollowRedirects, RedirectToAnInternalExtensionIsFollowed) {
  bind("102", kCalleePhone, "bob");
  bind("103", kThirdPhone, "carol");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  auto out =
      deliver(responseTo(legs[0], 302, "Moved Temporarily", "bobtag", "", "sip:103@pbx.test"),
              kCalleePhone);
  EXPECT_EQ(invitesTo(out, kThirdPhone).size(), 1u);
}

TEST_F(FollowRedirects, RedirectOutsideIsStillRefused) {
  bind("102", kCalleePhone, "bob");
  auto sent = authenticatedInvite(Invite{});
  auto legs = invitesTo(sent, kCalleePhone);
  auto out = deliver(
      responseTo(legs[0], 302, "Moved Temporarily", "bobtag", "", "sip:0900123456@premium.example"),
      kCalleePhone);
  EXPECT_NE(findSent(out, "SIP/2.0 480 Redirect Not Followed", &kCallerPhone), nullptr);
}

class InCall : public Features {
 protected:
  void SetUp() override {
    bind("102", kCalleePhone, "bob");
    auto sent = authenticatedInvite(Invite{});
    leg = std::move(invitesTo(sent, kCalleePhone).at(0));
    auto out = deliver(responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000),
                                  "sip:bob@192.0.2.22:5064"),
                       kCalleePhone);
    ok = parse(*findSent(out, "SIP/2.0 200 OK", &kCallerPhone));
    deliver(ackFor(ok, 2), kCallerPhone);
  }
  std::string calleeRequest(const std::string& method, std::uint32_t cseq,
                            const std::string& body) {
    return inDialogRequest(method, "sip:101@192.0.2.10:5060", "<sip:102@pbx.test>;tag=bobtag",
                           std::string(*leg.header(sip::HeaderId::kFrom)),
                           std::string(*leg.callId()), cseq, kCalleePhone.toString(), body);
  }
  sip::Message leg = sip::Message::response(0, "");
  sip::Message ok = sip::Message::response(0, "");
};

TEST_F(InCall, HoldFromCalleeIsRelayedWithSdpRewrittenAndAnswered) {
  std::string hold = offerSdp("192.0.2.22", 5000);
  hold.replace(hold.find("a=sendrecv"), 10, "a=sendonly");
  auto out = deliver(calleeRequest("INVITE", 2, hold), kCalleePhone);
  const Sent* reinvite = findSent(out, "INVITE sip:101@192.0.2.21:5062", &kCallerPhone);
  ASSERT_NE(reinvite, nullptr);
  sip::Message r = parse(*reinvite);
  EXPECT_NE(std::string(r.body()).find("a=sendonly"), std::string::npos);
  EXPECT_NE(std::string(r.body()).find("m=audio 40000 "), std::string::npos);
  EXPECT_EQ(r.callId().value_or(""), "call-1");
  EXPECT_EQ(r.to()->tag(), "calltag1");
  EXPECT_EQ(r.cseq()->number, 1u);
  std::string answer = offerSdp("192.0.2.21", 4000);
  answer.replace(answer.find("a=sendrecv"), 10, "a=recvonly");
  auto back = deliver(responseTo(r, 200, "OK", "calltag1", answer, "sip:101@192.0.2.21:5062"),
                      kCallerPhone);
  EXPECT_NE(findSent(back, "ACK sip:101@192.0.2.21:5062", &kCallerPhone), nullptr);
  const Sent* toCallee = findSent(back, "SIP/2.0 200 OK", &kCalleePhone);
  ASSERT_NE(toCallee, nullptr);
  sip::Message m = parse(*toCallee);
  EXPECT_NE(std::string(m.body()).find("a=recvonly"), std::string::npos);
  EXPECT_NE(std::string(m.body()).find("m=audio 40002 "), std::string::npos);
  // The relay saw the hold offer from the callee with the callee's address.
  bool sawHold = false;
  for (const auto& rw : media.rewrites) {
    sawHold |= rw.from == CallSide::kCallee && rw.sdp.find("a=sendonly") != std::string::npos &&
               rw.signalIp == "192.0.2.22";
  }
  EXPECT_TRUE(sawHold);
}

TEST_F(InCall, RetransmittedOkOfARelayedReinviteIsAckedAgain) {
  auto out = deliver(calleeRequest("INVITE", 2, offerSdp("192.0.2.22", 5002)), kCalleePhone);
  sip::Message r = parse(*findSent(out, "INVITE sip:101@192.0.2.21:5062", &kCallerPhone));
  const std::string ok =
      responseTo(r, 200, "OK", "calltag1", offerSdp("192.0.2.21", 4000), "sip:101@192.0.2.21:5062");
  auto first = deliver(ok, kCallerPhone);
  const Sent* ack = findSent(first, "ACK ", &kCallerPhone);
  ASSERT_NE(ack, nullptr);
  auto again = deliver(ok, kCallerPhone);  // the phone did not get our ACK
  const Sent* ack2 = findSent(again, "ACK ", &kCallerPhone);
  ASSERT_NE(ack2, nullptr);
  EXPECT_EQ(ack2->wire, ack->wire);
  EXPECT_EQ(findSent(again, "SIP/2.0 200", &kCalleePhone), nullptr);  // relayed once only
}

TEST_F(InCall, ReinviteGlareIs491) {
  deliver(calleeRequest("INVITE", 2, offerSdp("192.0.2.22", 5002)), kCalleePhone);
  auto out = deliver(calleeRequest("INVITE", 3, offerSdp("192.0.2.22", 5004)), kCalleePhone);
  EXPECT_NE(findSent(out, "SIP/2.0 491"), nullptr);
}

TEST_F(InCall, OutOfOrderCSeqIs500) {
  deliver(calleeRequest("INFO", 5, ""), kCalleePhone);
  auto out = deliver(calleeRequest("INFO", 4, ""), kCalleePhone);
  EXPECT_NE(findSent(out, "SIP/2.0 500 Out of order CSeq"), nullptr);
}

TEST_F(InCall, InfoIsPassedThroughWithItsBody) {
  std::string info = calleeRequest("INFO", 2, "");
  info.replace(info.find("Content-Length: 0"), 17,
               "Content-Type: application/dtmf-relay\r\nContent-Length: 24");
  info += "Signal=5\r\nDuration=160\r\n";
  auto out = deliver(info, kCalleePhone);
  const Sent* fwd = findSent(out, "INFO sip:101@192.0.2.21:5062", &kCallerPhone);
  ASSERT_NE(fwd, nullptr);
  sip::Message m = parse(*fwd);
  EXPECT_EQ(m.contentType().value_or(""), "application/dtmf-relay");
  EXPECT_EQ(m.body(), "Signal=5\r\nDuration=160\r\n");
  auto back = deliver(responseTo(m, 200, "OK", "calltag1"), kCallerPhone);
  EXPECT_NE(findSent(back, "SIP/2.0 200 OK", &kCalleePhone), nullptr);
}

TEST_F(InCall, UpdateFromCallerReachesCalleeAndItsErrorComesBack) {
  auto out = deliver(inDialogRequest("UPDATE", "sip:102@192.0.2.10:5060",
                                     "\"Alice\" <sip:101@pbx.test>;tag=calltag1",
                                     std::string(*ok.header(sip::HeaderId::kTo)), "call-1", 3,
                                     kCallerPhone.toString(), offerSdp("192.0.2.21", 4100)),
                     kCallerPhone);
  const Sent* fwd = findSent(out, "UPDATE sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(fwd, nullptr);
  auto back = deliver(responseTo(parse(*fwd), 488, "Not Acceptable Here", "bobtag"), kCalleePhone);
  EXPECT_NE(findSent(back, "SIP/2.0 488 Not Acceptable Here", &kCallerPhone), nullptr);
}

TEST_F(InCall, MediaTimeoutEndsBothLegs) {
  auto before = udp.sent.size();
  b2bua->onMediaEvent(MediaEvent{1, MediaEvent::Kind::kTimeout, "no RTP for 60 s"});
  std::vector<Sent> after(udp.sent.begin() + static_cast<std::ptrdiff_t>(before), udp.sent.end());
  EXPECT_NE(findSent(after, "BYE ", &kCallerPhone), nullptr);
  EXPECT_NE(findSent(after, "BYE ", &kCalleePhone), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].hangupSide, "pbx");
  EXPECT_EQ(records.records[0].hangupCause, "media timeout: no RTP for 60 s");
}

TEST_F(InCall, OneWayDiagnosisReachesTheCallRecord) {
  media.diagnosis = "the phone at 192.0.2.22 never sent media";
  deliver(calleeRequest("BYE", 2, ""), kCalleePhone);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].diagnosis.value_or(""), "the phone at 192.0.2.22 never sent media");
}

}  // namespace
}  // namespace duplex::call::test
