// Call control after the answer: an answered call keeps no copy of either
// INVITE (b2bua_internal.h), so every request it sends later is built from
// what it kept (the dialogs, the caller's CSeq and Call-ID, a fork's INVITE
// as sent while it rings). These tests read those requests as the phones
// get them: Request-URI, From/To with their tags, Call-ID, CSeq and Route.
#include "call_test_support.h"

namespace duplex::call::test {
namespace {

using namespace std::chrono_literals;

const std::string kCallerFrom = "\"Alice\" <sip:101@pbx.test>;tag=calltag1";

std::vector<std::string> routesOf(const sip::Message& m) {
  std::vector<std::string> out;
  for (std::string_view r : m.headerValues(sip::HeaderId::kRoute)) out.emplace_back(r);
  return out;
}

class HeldCall : public CallFixture {
 protected:
  // Caller 101 (behind an edge proxy that record-routes) calls 102 (phone
  // bob on the LAN, behind two record-routing proxies); bob rings and
  // answers, the caller ACKs. Keeps bob's INVITE, the ACK bob got and the
  // caller's 200.
  void answeredCall() {
    bind("102", kCalleePhone, "bob");
    Invite inv;
    inv.extra = "Record-Route: <sip:edge.example;lr>\r\n";
    auto sent = authenticatedInvite(inv);
    const Sent* leg = findSent(sent, "INVITE ", &kCalleePhone);
    ASSERT_NE(leg, nullptr);
    calleeInvite = parse(*leg);
    deliver(responseTo(calleeInvite, 180, "Ringing", "bobtag"), kCalleePhone);
    okFromBob = calleeOk(calleeInvite);
    auto answered = deliver(okFromBob, kCalleePhone);
    const Sent* ack = findSent(answered, "ACK ", &kCalleePhone);
    ASSERT_NE(ack, nullptr);
    ackToBob = *ack;
    const Sent* ok = findSent(answered, "SIP/2.0 200 OK", &kCallerPhone);
    ASSERT_NE(ok, nullptr);
    okToCaller = parse(*ok);
    deliver(inDialogRequest("ACK", "sip:102@192.0.2.10:5060", kCallerFrom, callerTo(), "call-1", 2,
                            kCallerPhone.toString()),
            kCallerPhone);
  }
  // bob's 200: two proxies record-routed it, its Contact is bob's phone.
  std::string calleeOk(const sip::Message& invite) {
    sip::Message r = sip::Message::responseTo(invite, 200, "OK", "bobtag");
    r.addHeader("Record-Route", "<sip:p2.example;lr>, <sip:p1.example;lr>");
    r.addHeader("Contact", "<sip:bob@192.0.2.22:5064>");
    r.setBody("application/sdp", offerSdp("192.0.2.22", 5000));
    return r.serialize();
  }
  std::string callerTo() const { return headerOf(okToCaller, sip::HeaderId::kTo); }
  // What bob's phone must see in every request of its dialog: its Contact
  // as Request-URI, the route set (Record-Route reversed, RFC 3261
  // 12.1.2), our From tag and its To tag, the Call-ID of its INVITE.
  void expectBobsDialog(const sip::Message& m, std::string_view method, std::uint32_t cseq) {
    EXPECT_EQ(m.methodToken(), method);
    EXPECT_EQ(m.requestUriText(), "sip:bob@192.0.2.22:5064");
    EXPECT_EQ(routesOf(m),
              (std::vector<std::string>{"<sip:p1.example;lr>", "<sip:p2.example;lr>"}));
    EXPECT_EQ(m.from()->uri.text(), calleeInvite.from()->uri.text());
    EXPECT_EQ(m.from()->tag(), calleeInvite.from()->tag());
    EXPECT_FALSE(m.from()->tag().empty());
    EXPECT_EQ(m.to()->uri.text(), calleeInvite.to()->uri.text());
    EXPECT_EQ(m.to()->tag(), "bobtag");
    EXPECT_EQ(m.callId(), calleeInvite.callId());
    ASSERT_TRUE(m.cseq().ok());
    EXPECT_EQ(m.cseq()->number, cseq);
    EXPECT_EQ(m.cseq()->method, method);
  }

  sip::Message calleeInvite = sip::Message::response(0, "none");
  std::string okFromBob;
  Sent ackToBob;
  sip::Message okToCaller = sip::Message::response(0, "none");
};

TEST_F(HeldCall, AckReinviteAndByeTowardTheCalleeCarryItsDialog) {
  answeredCall();
  // RFC 3261 13.2.2.4: the ACK for bob's 2xx carries its INVITE's CSeq.
  expectBobsDialog(parse(ackToBob), "ACK", calleeInvite.cseq()->number);

  // The caller puts bob on hold: a re-INVITE in bob's dialog, next CSeq.
  auto hold = deliver(
      inDialogRequest("INVITE", "sip:102@192.0.2.10:5060", kCallerFrom, callerTo(), "call-1", 3,
                      kCallerPhone.toString(), offerSdp("192.0.2.21", 4000) + "a=sendonly\r\n"),
      kCallerPhone);
  const Sent* reinvite = findSent(hold, "INVITE ", &kCalleePhone);
  ASSERT_NE(reinvite, nullptr);
  sip::Message toBob = parse(*reinvite);
  expectBobsDialog(toBob, "INVITE", calleeInvite.cseq()->number + 1);
  auto answered = deliver(responseTo(toBob, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000),
                                     "sip:bob@192.0.2.22:5064"),
                          kCalleePhone);
  const Sent* ack = findSent(answered, "ACK ", &kCalleePhone);
  ASSERT_NE(ack, nullptr);
  expectBobsDialog(parse(*ack), "ACK", calleeInvite.cseq()->number + 1);
  ASSERT_NE(findSent(answered, "SIP/2.0 200 OK", &kCallerPhone), nullptr);

  // The caller hangs up: bob's BYE, the CSeq after the re-INVITE.
  auto bye = deliver(inDialogRequest("BYE", "sip:102@192.0.2.10:5060", kCallerFrom, callerTo(),
                                     "call-1", 4, kCallerPhone.toString()),
                     kCallerPhone);
  const Sent* byeToBob = findSent(bye, "BYE ", &kCalleePhone);
  ASSERT_NE(byeToBob, nullptr);
  expectBobsDialog(parse(*byeToBob), "BYE", calleeInvite.cseq()->number + 2);
}

TEST_F(HeldCall, RetransmittedOkOfTheCalleeGetsTheSameAckAgain) {
  answeredCall();
  advance(2s);
  auto again = deliver(okFromBob, kCalleePhone);
  const Sent* ack = findSent(again, "ACK ", &kCalleePhone);
  ASSERT_NE(ack, nullptr);
  EXPECT_EQ(ack->wire, ackToBob.wire);
  // Nothing new for the caller: its 2xx was ACKed.
  EXPECT_EQ(findSent(again, "SIP/2.0", &kCallerPhone), nullptr);
}

TEST_F(HeldCall, ByeTowardTheCallerCarriesItsDialog) {
  answeredCall();
  auto sent =
      deliver(inDialogRequest("BYE", "sip:101@192.0.2.10:5060", "<sip:102@pbx.test>;tag=bobtag",
                              headerOf(calleeInvite, sip::HeaderId::kFrom),
                              std::string(*calleeInvite.callId()), 1, kCalleePhone.toString()),
              kCalleePhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 200 OK", &kCalleePhone), nullptr);
  const Sent* bye = findSent(sent, "BYE ", &kCallerPhone);
  ASSERT_NE(bye, nullptr);
  sip::Message m = parse(*bye);
  // RFC 3261 12.1.1 / 12.2.1.1: the caller's Contact, its Record-Route in
  // order, From its To with our tag, To its From, its Call-ID.
  EXPECT_EQ(m.requestUriText(), "sip:101@192.0.2.21:5062");
  EXPECT_EQ(routesOf(m), std::vector<std::string>{"<sip:edge.example;lr>"});
  EXPECT_EQ(m.from()->uri.text(), "sip:102@pbx.test");
  EXPECT_EQ(m.from()->tag(), okToCaller.to()->tag());
  EXPECT_EQ(m.to()->uri.text(), "sip:101@pbx.test");
  EXPECT_EQ(m.to()->tag(), "calltag1");
  EXPECT_EQ(m.callId().value_or(""), "call-1");
  EXPECT_EQ(m.cseq()->method, "BYE");
}

TEST_F(HeldCall, StatusAndCallRecordNameTheCallersCallId) {
  answeredCall();
  auto calls = b2bua->activeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].state, "answered");
  ASSERT_EQ(calls[0].legs.size(), 2u);
  EXPECT_EQ(calls[0].legs[0].callId, "call-1");
  EXPECT_EQ(calls[0].legs[1].callId, std::string(*calleeInvite.callId()));
  EXPECT_EQ(calls[0].legs[1].peer, kCalleePhone.toString());
  deliver(inDialogRequest("BYE", "sip:102@192.0.2.10:5060", kCallerFrom, callerTo(), "call-1", 3,
                          kCallerPhone.toString()),
          kCallerPhone);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].callId, "call-1");
  EXPECT_TRUE(b2bua->activeCalls().empty());
}

TEST_F(HeldCall, PrackThatCrossedTheAnswerIsStillMatchedToTheCallersInvite) {
  // The caller requires 100rel: bob's 180 goes to it reliably; bob answers
  // before the caller's PRACK, which then comes for the INVITE (CSeq 2).
  bind("102", kCalleePhone, "bob");
  Invite inv;
  inv.extra = "Require: 100rel\r\n";
  auto sent = authenticatedInvite(inv);
  sip::Message leg = parse(*findSent(sent, "INVITE ", &kCalleePhone));
  auto ringing = deliver(responseTo(leg, 180, "Ringing", "bobtag"), kCalleePhone);
  const Sent* r180 = findSent(ringing, "SIP/2.0 180", &kCallerPhone);
  ASSERT_NE(r180, nullptr);
  sip::Message toCaller = parse(*r180);
  const std::string rseq(*toCaller.header("RSeq"));
  deliver(calleeOk(leg), kCalleePhone);
  const std::string to = headerOf(toCaller, sip::HeaderId::kTo);
  auto prack = [&](std::uint32_t cseq, const std::string& rack) {
    std::string t = inDialogRequest("PRACK", "sip:102@192.0.2.10:5060", kCallerFrom, to, "call-1",
                                    cseq, kCallerPhone.toString());
    return deliver(t.insert(t.find("Content-Length"), "RAck: " + rack + "\r\n"), kCallerPhone);
  };
  // RFC 3262 3: the RAck names the INVITE by its CSeq number.
  EXPECT_NE(findSent(prack(3, rseq + " 2 INVITE"), "SIP/2.0 200 OK", &kCallerPhone), nullptr);
  EXPECT_NE(findSent(prack(4, rseq + " 1 INVITE"), "SIP/2.0 481", &kCallerPhone), nullptr);
}

TEST_F(HeldCall, LosingForkIsCanceledWithItsOwnInviteAndALateAnswerGetsAckAndBye) {
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  auto sent = authenticatedInvite(Invite{});
  const Sent* lanSent = findSent(sent, "INVITE ", &kCalleePhone);
  const Sent* wanSent = findSent(sent, "INVITE ", &kRemotePhone);
  ASSERT_NE(lanSent, nullptr);
  ASSERT_NE(wanSent, nullptr);
  sip::Message lan = parse(*lanSent);
  sip::Message wan = parse(*wanSent);
  deliver(responseTo(lan, 180, "Ringing", "lantag"), kCalleePhone);
  deliver(responseTo(wan, 180, "Ringing", "wantag"), kRemotePhone);
  auto out = deliver(calleeOk(lan), kCalleePhone);
  // RFC 3261 9.1: the CANCEL repeats the INVITE's Request-URI, top Via,
  // From, To, Call-ID and CSeq number.
  const Sent* cancelSent = findSent(out, "CANCEL ", &kRemotePhone);
  ASSERT_NE(cancelSent, nullptr);
  sip::Message cancel = parse(*cancelSent);
  EXPECT_EQ(cancel.requestUriText(), wan.requestUriText());
  EXPECT_EQ(headerOf(cancel, sip::HeaderId::kVia), headerOf(wan, sip::HeaderId::kVia));
  EXPECT_EQ(headerOf(cancel, sip::HeaderId::kFrom), headerOf(wan, sip::HeaderId::kFrom));
  EXPECT_EQ(headerOf(cancel, sip::HeaderId::kTo), headerOf(wan, sip::HeaderId::kTo));
  EXPECT_EQ(cancel.callId(), wan.callId());
  EXPECT_EQ(headerOf(cancel, sip::HeaderId::kCSeq), "1 CANCEL");

  // The mobile answered before the CANCEL reached it: ACK and BYE in its
  // own dialog (its To tag), not in the winner's.
  sip::Message late = sip::Message::responseTo(wan, 200, "OK", "wantag");
  late.addHeader("Contact", "<sip:bob-mobile@198.51.100.7:40123>");
  late.setBody("application/sdp", offerSdp("10.1.1.1", 6000));
  auto after = deliver(late.serialize(), kRemotePhone);
  const Sent* ack = findSent(after, "ACK sip:bob-mobile@198.51.100.7:40123", &kRemotePhone);
  const Sent* bye = findSent(after, "BYE sip:bob-mobile@198.51.100.7:40123", &kRemotePhone);
  ASSERT_NE(ack, nullptr);
  ASSERT_NE(bye, nullptr);
  for (const Sent* s : {ack, bye}) {
    sip::Message m = parse(*s);
    EXPECT_EQ(m.to()->tag(), "wantag");
    EXPECT_EQ(m.from()->tag(), wan.from()->tag());
    EXPECT_EQ(m.callId(), wan.callId());
  }
  EXPECT_EQ(parse(*ack).cseq()->number, wan.cseq()->number);
  EXPECT_EQ(findSent(after, "SIP/2.0", &kCallerPhone), nullptr);
  EXPECT_EQ(findSent(after, "BYE ", &kCalleePhone), nullptr);
  EXPECT_EQ(b2bua->stats().active, 1u);
}

}  // namespace
}  // namespace duplex::call::test
