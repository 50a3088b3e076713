// Call control before the answer, as the phones see it: the caller's offer
// rewritten per fork, reliable provisionals and PRACK (RFC 3262) relayed
// with their own RSeq, the late offer (INVITE without SDP: offer in the 2xx,
// answer in the ACK), and UPDATE / INFO inside the early dialogs.
#include "call_test_support.h"

namespace duplex::call::test {
namespace {

using namespace std::chrono_literals;

const std::string kCallerFrom = "\"Alice\" <sip:101@pbx.test>;tag=calltag1";

std::string withHeaders(std::string text, const std::string& lines) {
  const std::size_t at = text.find("Content-Length:");
  text.insert(at, lines);
  return text;
}

class EarlyDialog : public CallFixture {
 protected:
  // Caller 101 calls 102 (phone bob on the LAN) with `extra` header lines;
  // returns the INVITE bob's phone got.
  sip::Message ring(const std::string& extra = "", bool withSdp = true) {
    bind("102", kCalleePhone, "bob");
    Invite inv;
    inv.extra = extra;
    inv.withSdp = withSdp;
    auto sent = authenticatedInvite(inv);
    const Sent* leg = findSent(sent, "INVITE ", &kCalleePhone);
    EXPECT_NE(leg, nullptr);
    return leg ? parse(*leg) : sip::Message::response(0, "none");
  }
  // A reliable 1xx from bob (Require: 100rel, RSeq).
  std::string reliable(const sip::Message& invite, int status, const std::string& reason,
                       std::uint32_t rseq, const std::string& body = "") {
    return withHeaders(
        responseTo(invite, status, reason, "bobtag", body, "sip:bob@192.0.2.22:5064"),
        "Require: 100rel\r\nRSeq: " + std::to_string(rseq) + "\r\n");
  }
  // A request from the caller inside dialog A (To tag from `toCaller`).
  std::string fromCaller(const std::string& method, const sip::Message& toCaller,
                         std::uint32_t cseq, const std::string& body = "",
                         const std::string& extra = "") {
    std::string t = inDialogRequest(method, "sip:102@192.0.2.10:5060", kCallerFrom,
                                    std::string(*toCaller.header(sip::HeaderId::kTo)), "call-1",
                                    cseq, kCallerPhone.toString(), body);
    return extra.empty() ? t : withHeaders(t, extra);
  }
  // A new B2BUA with the current `settings`.
  void restart() {
    b2bua = std::make_unique<B2bua>(
        B2bua::Services{endpoint, clock, [this] { return wallNow(); }, authenticator, credentials,
                        directory, registrar, addresses, media, records},
        settings);
    for (sip::Method m : {sip::Method::kInvite, sip::Method::kBye, sip::Method::kUpdate,
                          sip::Method::kInfo, sip::Method::kPrack}) {
      endpoint.setHandler(m, b2bua.get());
    }
  }
  std::size_t count(const std::string& startLine, const sip::Endpoint& to, std::size_t from = 0) {
    std::size_t n = 0;
    for (std::size_t i = from; i < udp.sent.size(); ++i) {
      n += udp.sent[i].wire.rfind(startLine, 0) == 0 && udp.sent[i].to.endpoint == to;
    }
    return n;
  }
};

// ------------------------------------------------------------ per-fork offer

TEST_F(EarlyDialog, EachForkGetsTheRelayAddressItsBindingCanReach) {
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  auto sent = authenticatedInvite(Invite{});
  const Sent* lan = findSent(sent, "INVITE ", &kCalleePhone);
  const Sent* wan = findSent(sent, "INVITE ", &kRemotePhone);
  ASSERT_NE(lan, nullptr);
  ASSERT_NE(wan, nullptr);
  const std::string lanSdp(parse(*lan).body());
  const std::string wanSdp(parse(*wan).body());
  EXPECT_NE(lanSdp.find("c=IN IP4 192.0.2.10\r\n"), std::string::npos) << lanSdp;
  EXPECT_NE(wanSdp.find("c=IN IP4 203.0.113.1\r\n"), std::string::npos) << wanSdp;
  // Same relay port toward the callee side for both; codecs untouched.
  EXPECT_NE(lanSdp.find("m=audio 40002 RTP/AVP 0 8"), std::string::npos);
  EXPECT_NE(wanSdp.find("m=audio 40002 RTP/AVP 0 8"), std::string::npos);
  // One rewrite per address, each from the caller's own offer.
  ASSERT_EQ(media.rewrites.size(), 2u);
  for (const auto& r : media.rewrites) {
    EXPECT_EQ(r.from, CallSide::kCaller);
    EXPECT_NE(r.sdp.find("c=IN IP4 192.0.2.21"), std::string::npos);
  }
}

TEST_F(EarlyDialog, ForksOnTheSameAddressShareOneRewrite) {
  bind("102", kCalleePhone, "bob");
  bind("102", sip::Endpoint{"192.0.2.30", 5070}, "bob-desk");
  auto sent = authenticatedInvite(Invite{});
  EXPECT_EQ(count("INVITE ", kCalleePhone), 1u);
  EXPECT_EQ(count("INVITE ", sip::Endpoint{"192.0.2.30", 5070}), 1u);
  EXPECT_EQ(media.rewrites.size(), 1u);
}

// ------------------------------------------------------------------- 100rel

TEST_F(EarlyDialog, HundredRelIsOfferedToTheCalleeOnlyWhenTheCallerSupportsIt) {
  sip::Message leg = ring("Supported: 100rel, timer\r\n");
  EXPECT_NE(headerOf(leg, "Supported").find("100rel"), std::string::npos);
  EXPECT_NE(headerOf(leg, "Allow").find("PRACK"), std::string::npos);
}

TEST_F(EarlyDialog, WithoutCallerSupportNoHundredRelAndProvisionalsStayUnreliable) {
  sip::Message leg = ring();
  EXPECT_EQ(headerOf(leg, "Supported"), "<absent>");
  auto sent = deliver(responseTo(leg, 180, "Ringing", "bobtag"), kCalleePhone);
  const Sent* r = findSent(sent, "SIP/2.0 180", &kCallerPhone);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(headerOf(parse(*r), "RSeq"), "<absent>");
  EXPECT_EQ(headerOf(parse(*r), "Require"), "<absent>");
}

TEST_F(EarlyDialog, ReliableEarlyMediaIsRelayedWithOwnRSeqAndPrackGoesToTheCallee) {
  sip::Message leg = ring("Supported: 100rel\r\n");
  auto sent = deliver(reliable(leg, 183, "Session Progress", 77, offerSdp("192.0.2.22", 5000)),
                      kCalleePhone);
  const Sent* p = findSent(sent, "SIP/2.0 183", &kCallerPhone);
  ASSERT_NE(p, nullptr);
  sip::Message toCaller = parse(*p);
  EXPECT_EQ(headerOf(toCaller, "Require"), "100rel");
  const std::string rseq = headerOf(toCaller, "RSeq");
  ASSERT_NE(rseq, "<absent>");
  // Its SDP is rewritten toward the caller like any other.
  EXPECT_NE(std::string(toCaller.body()).find("m=audio 40000 "), std::string::npos);
  EXPECT_NE(std::string(toCaller.body()).find("c=IN IP4 192.0.2.10"), std::string::npos);

  // Until the PRACK the PBX retransmits it (T1, 2*T1, ...), same RSeq; the
  // callee's own retransmission (same RSeq 77) is not relayed again.
  const std::size_t mark = udp.sent.size();
  deliver(reliable(leg, 183, "Session Progress", 77, offerSdp("192.0.2.22", 5000)), kCalleePhone);
  EXPECT_EQ(count("SIP/2.0 183", kCallerPhone, mark), 0u);
  advance(500ms);
  ASSERT_EQ(count("SIP/2.0 183", kCallerPhone, mark), 1u);
  EXPECT_EQ(headerOf(parse(udp.sent.back()), "RSeq"), rseq);
  advance(1000ms);
  EXPECT_EQ(count("SIP/2.0 183", kCallerPhone, mark), 2u);

  // The caller's PRACK goes on to bob's early dialog, RAck mapped.
  auto pr = deliver(fromCaller("PRACK", toCaller, 3, "", "RAck: " + rseq + " 2 INVITE\r\n"),
                    kCallerPhone);
  const Sent* prack = findSent(pr, "PRACK sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(prack, nullptr);
  sip::Message toCallee = parse(*prack);
  EXPECT_EQ(headerOf(toCallee, "RAck"), "77 1 INVITE");
  EXPECT_EQ(toCallee.to()->tag(), "bobtag");
  EXPECT_EQ(toCallee.callId().value_or(""), leg.callId().value_or(""));
  // bob's 200 for the PRACK reaches the caller.
  auto ok = deliver(responseTo(toCallee, 200, "OK", "bobtag"), kCalleePhone);
  const Sent* okPrack = findSent(ok, "SIP/2.0 200", &kCallerPhone);
  ASSERT_NE(okPrack, nullptr);
  EXPECT_EQ(parse(*okPrack).cseq()->method, "PRACK");
  // No more retransmissions.
  const std::size_t acked = udp.sent.size();
  advance(10s);
  EXPECT_EQ(count("SIP/2.0 183", kCallerPhone, acked), 0u);

  // The offer/answer completed in the 183: bob's 200 may come without SDP.
  auto answer =
      deliver(responseTo(leg, 200, "OK", "bobtag", "", "sip:bob@192.0.2.22:5064"), kCalleePhone);
  const Sent* final200 = findSent(answer, "SIP/2.0 200", &kCallerPhone);
  ASSERT_NE(final200, nullptr);
  EXPECT_TRUE(parse(*final200).body().empty());
  EXPECT_NE(findSent(answer, "ACK sip:bob@192.0.2.22:5064", &kCalleePhone), nullptr);
  EXPECT_EQ(findSent(answer, "BYE ", &kCalleePhone), nullptr);
  EXPECT_EQ(b2bua->stats().answered, 1u);
}

TEST_F(EarlyDialog, CallerRequiringHundredRelGetsReliableRingingPrackedByThePbx) {
  sip::Message leg = ring("Require: 100rel\r\n");
  auto sent = deliver(responseTo(leg, 180, "Ringing", "bobtag"), kCalleePhone);  // unreliable
  const Sent* r = findSent(sent, "SIP/2.0 180", &kCallerPhone);
  ASSERT_NE(r, nullptr);
  sip::Message toCaller = parse(*r);
  EXPECT_EQ(headerOf(toCaller, "Require"), "100rel");
  auto pr = deliver(
      fromCaller("PRACK", toCaller, 3, "", "RAck: " + headerOf(toCaller, "RSeq") + " 2 INVITE\r\n"),
      kCallerPhone);
  EXPECT_NE(findSent(pr, "SIP/2.0 200 OK", &kCallerPhone), nullptr);
  EXPECT_EQ(findSent(pr, "PRACK ", &kCalleePhone), nullptr);  // bob's was not reliable
}

TEST_F(EarlyDialog, PrackForAnUnknownRSeqIs481) {
  sip::Message leg = ring("Supported: 100rel\r\n");
  auto sent = deliver(reliable(leg, 180, "Ringing", 5), kCalleePhone);
  sip::Message toCaller = parse(*findSent(sent, "SIP/2.0 180", &kCallerPhone));
  const std::uint32_t rseq = static_cast<std::uint32_t>(std::stoul(headerOf(toCaller, "RSeq")));
  auto pr = deliver(
      fromCaller("PRACK", toCaller, 3, "", "RAck: " + std::to_string(rseq + 9) + " 2 INVITE\r\n"),
      kCallerPhone);
  EXPECT_NE(findSent(pr, "SIP/2.0 481 No Matching Reliable Provisional Response"), nullptr);
  EXPECT_EQ(findSent(pr, "PRACK ", &kCalleePhone), nullptr);
  auto bad = deliver(fromCaller("PRACK", toCaller, 4, "", "RAck: x y\r\n"), kCallerPhone);
  EXPECT_NE(findSent(bad, "SIP/2.0 400 Bad RAck"), nullptr);
}

TEST_F(EarlyDialog, SecondReliableProvisionalWaitsForThePrackOfTheFirst) {
  sip::Message leg = ring("Supported: 100rel\r\n");
  auto first = deliver(reliable(leg, 180, "Ringing", 5), kCalleePhone);
  sip::Message r1 = parse(*findSent(first, "SIP/2.0 180", &kCallerPhone));
  auto second = deliver(reliable(leg, 183, "Session Progress", 6, offerSdp("192.0.2.22", 5000)),
                        kCalleePhone);
  EXPECT_EQ(findSent(second, "SIP/2.0 183", &kCallerPhone), nullptr);  // RFC 3262 3
  auto pr =
      deliver(fromCaller("PRACK", r1, 3, "", "RAck: " + headerOf(r1, "RSeq") + " 2 INVITE\r\n"),
              kCallerPhone);
  const Sent* next = findSent(pr, "SIP/2.0 183", &kCallerPhone);
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(std::stoul(headerOf(parse(*next), "RSeq")), std::stoul(headerOf(r1, "RSeq")) + 1);
  EXPECT_NE(findSent(pr, "PRACK ", &kCalleePhone), nullptr);
}

TEST_F(EarlyDialog, NoPrackWithin64T1FailsTheCallWith5xxAndCancelsTheCallee) {
  settings.noAnswerTimeout = 60s;  // longer than 64*T1 = 32 s
  restart();
  sip::Message leg = ring("Supported: 100rel\r\n");
  deliver(reliable(leg, 180, "Ringing", 5), kCalleePhone);
  const std::size_t mark = udp.sent.size();
  advance(33s);
  EXPECT_GE(count("SIP/2.0 500 Reliable Provisional Response Not Acknowledged", kCallerPhone, mark),
            1u);
  advance(1s);
  EXPECT_EQ(count("SIP/2.0 18", kCallerPhone, mark), 6u);  // at 0.5, 1.5, 3.5, 7.5, 15.5, 31.5 s
  EXPECT_GE(count("CANCEL ", kCalleePhone, mark), 1u);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].disposition, db::Disposition::failed);
}

TEST_F(EarlyDialog, ReliableProvisionalFromCalleeWhenCallerCannotIsPrackedByThePbx) {
  sip::Message leg = ring();  // no 100rel from the caller
  auto sent = deliver(reliable(leg, 180, "Ringing", 9), kCalleePhone);
  const Sent* prack = findSent(sent, "PRACK sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(prack, nullptr);
  EXPECT_EQ(headerOf(parse(*prack), "RAck"), "9 1 INVITE");
  const Sent* r = findSent(sent, "SIP/2.0 180", &kCallerPhone);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(headerOf(parse(*r), "RSeq"), "<absent>");
}

// --------------------------------------------------------------- late offer

TEST_F(EarlyDialog, LateOfferOfferInTheCalleesOkAnswerInTheCallersAck) {
  sip::Message leg = ring("", /*withSdp=*/false);
  EXPECT_TRUE(leg.body().empty());
  EXPECT_EQ(headerOf(leg, "Content-Length"), "0");
  EXPECT_EQ(headerOf(leg, "Content-Type"), "<absent>");
  auto sent = deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  const Sent* ok = findSent(sent, "SIP/2.0 200", &kCallerPhone);
  ASSERT_NE(ok, nullptr);
  sip::Message toCaller = parse(*ok);
  // bob's offer, rewritten toward the caller.
  EXPECT_NE(std::string(toCaller.body()).find("m=audio 40000 RTP/AVP 0 8"), std::string::npos);
  EXPECT_NE(std::string(toCaller.body()).find("c=IN IP4 192.0.2.10"), std::string::npos);
  // bob's 200 is not ACKed yet: its ACK must carry the answer.
  EXPECT_EQ(findSent(sent, "ACK ", &kCalleePhone), nullptr);
  // bob retransmits its 200: still no ACK.
  auto again = deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  EXPECT_EQ(findSent(again, "ACK ", &kCalleePhone), nullptr);

  auto acked = deliver(fromCaller("ACK", toCaller, 2, offerSdp("192.0.2.21", 4000)), kCallerPhone);
  const Sent* ack = findSent(acked, "ACK sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(ack, nullptr);
  const std::string answer(parse(*ack).body());
  EXPECT_NE(answer.find("m=audio 40002 "), std::string::npos) << answer;
  EXPECT_NE(answer.find("c=IN IP4 192.0.2.10"), std::string::npos) << answer;
  ASSERT_EQ(media.rewrites.size(), 2u);
  EXPECT_EQ(media.rewrites[0].from, CallSide::kCallee);
  EXPECT_EQ(media.rewrites[1].from, CallSide::kCaller);
  // A retransmitted 200 from bob now gets the same ACK, answer included.
  auto third = deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  const Sent* reack = findSent(third, "ACK ", &kCalleePhone);
  ASSERT_NE(reack, nullptr);
  EXPECT_EQ(std::string(parse(*reack).body()), answer);
  EXPECT_EQ(b2bua->stats().active, 1u);
  EXPECT_TRUE(records.records.empty());
}

TEST_F(EarlyDialog, LateOfferAckWithoutAnswerEndsTheCallOnBothSides) {
  sip::Message leg = ring("", false);
  auto sent = deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  sip::Message toCaller = parse(*findSent(sent, "SIP/2.0 200", &kCallerPhone));
  auto acked = deliver(fromCaller("ACK", toCaller, 2), kCallerPhone);
  const Sent* ack = findSent(acked, "ACK sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(ack, nullptr);
  EXPECT_NE(findSent(acked, "BYE sip:bob@192.0.2.22:5064", &kCalleePhone), nullptr);
  EXPECT_NE(findSent(acked, "BYE sip:101@192.0.2.21:5062", &kCallerPhone), nullptr);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].hangupSide, "pbx");
  EXPECT_EQ(records.records[0].hangupCause, "late offer: the caller's ACK carried no SDP answer");
  EXPECT_EQ(records.records[0].disposition, db::Disposition::failed);
}

TEST_F(EarlyDialog, LateOfferWithoutAnyAckTimesOutWithAckAndByeToBoth) {
  sip::Message leg = ring("", false);
  deliver(
      responseTo(leg, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  const std::size_t mark = udp.sent.size();
  advance(31s);
  EXPECT_EQ(count("ACK ", kCalleePhone, mark), 0u);
  EXPECT_TRUE(records.records.empty());
  advance(2s);  // 64*T1 = 32 s
  EXPECT_EQ(count("ACK sip:bob@192.0.2.22:5064", kCalleePhone, mark), 1u);
  EXPECT_GE(count("BYE sip:bob@192.0.2.22:5064", kCalleePhone, mark), 1u);
  EXPECT_GE(count("BYE sip:101@192.0.2.21:5062", kCallerPhone, mark), 1u);
  ASSERT_EQ(records.records.size(), 1u);
  EXPECT_EQ(records.records[0].hangupCause, "late offer: no ACK from the caller");
}

TEST_F(EarlyDialog, LateOfferWithReliableProvisionalOfferAndPrackAnswer) {
  sip::Message leg = ring("Supported: 100rel\r\n", false);
  auto sent = deliver(reliable(leg, 183, "Session Progress", 3, offerSdp("192.0.2.22", 5000)),
                      kCalleePhone);
  sip::Message toCaller = parse(*findSent(sent, "SIP/2.0 183", &kCallerPhone));
  EXPECT_NE(std::string(toCaller.body()).find("m=audio 40000 "), std::string::npos);
  auto pr = deliver(fromCaller("PRACK", toCaller, 3, offerSdp("192.0.2.21", 4000),
                               "RAck: " + headerOf(toCaller, "RSeq") + " 2 INVITE\r\n"),
                    kCallerPhone);
  const Sent* prack = findSent(pr, "PRACK ", &kCalleePhone);
  ASSERT_NE(prack, nullptr);
  EXPECT_NE(std::string(parse(*prack).body()).find("m=audio 40002 "), std::string::npos);
  deliver(responseTo(parse(*prack), 200, "OK", "bobtag"), kCalleePhone);
  // Offer and answer are done: the 200 without SDP is ACKed at once.
  auto answer =
      deliver(responseTo(leg, 200, "OK", "bobtag", "", "sip:bob@192.0.2.22:5064"), kCalleePhone);
  EXPECT_NE(findSent(answer, "SIP/2.0 200", &kCallerPhone), nullptr);
  EXPECT_NE(findSent(answer, "ACK ", &kCalleePhone), nullptr);
  EXPECT_EQ(findSent(answer, "BYE ", &kCalleePhone), nullptr);
}

// ----------------------------------------------------- early UPDATE and INFO

TEST_F(EarlyDialog, CallersEarlyUpdateGoesToTheRingingCalleeWithSdpRewritten) {
  sip::Message leg = ring();
  auto ringing = deliver(responseTo(leg, 183, "Session Progress", "bobtag",
                                    offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
                         kCalleePhone);
  sip::Message toCaller = parse(*findSent(ringing, "SIP/2.0 183", &kCallerPhone));
  auto sent =
      deliver(fromCaller("UPDATE", toCaller, 3, offerSdp("192.0.2.21", 4100)), kCallerPhone);
  const Sent* update = findSent(sent, "UPDATE sip:bob@192.0.2.22:5064", &kCalleePhone);
  ASSERT_NE(update, nullptr);
  sip::Message u = parse(*update);
  EXPECT_EQ(u.to()->tag(), "bobtag");
  EXPECT_NE(std::string(u.body()).find("m=audio 40002 "), std::string::npos);
  EXPECT_EQ(media.rewrites.back().from, CallSide::kCaller);
  EXPECT_NE(media.rewrites.back().sdp.find("m=audio 4100 "),
            std::string::npos);  // the relay learns it
  auto answered = deliver(
      responseTo(u, 200, "OK", "bobtag", offerSdp("192.0.2.22", 5100), "sip:bob@192.0.2.22:5064"),
      kCalleePhone);
  const Sent* ok = findSent(answered, "SIP/2.0 200", &kCallerPhone);
  ASSERT_NE(ok, nullptr);
  sip::Message okMsg = parse(*ok);
  EXPECT_EQ(okMsg.cseq()->method, "UPDATE");
  EXPECT_NE(std::string(okMsg.body()).find("m=audio 40000 "), std::string::npos);
  EXPECT_EQ(media.rewrites.back().from, CallSide::kCallee);
  EXPECT_NE(media.rewrites.back().sdp.find("m=audio 5100"), std::string::npos);
}

TEST_F(EarlyDialog, CalleesEarlyInfoReachesTheCallerAndItsAnswerComesBack) {
  sip::Message leg = ring();
  auto ringing = deliver(responseTo(leg, 180, "Ringing", "bobtag", "", "sip:bob@192.0.2.22:5064"),
                         kCalleePhone);
  ASSERT_NE(findSent(ringing, "SIP/2.0 180", &kCallerPhone), nullptr);
  std::string info =
      inDialogRequest("INFO", "sip:101@192.0.2.10:5060", "<sip:102@pbx.test>;tag=bobtag",
                      std::string(*leg.header(sip::HeaderId::kFrom)), std::string(*leg.callId()), 1,
                      kCalleePhone.toString());
  info = withHeaders(info, "Info-Package: dtmf\r\n");
  auto sent = deliver(info, kCalleePhone);
  const Sent* out = findSent(sent, "INFO sip:101@192.0.2.21:5062", &kCallerPhone);
  ASSERT_NE(out, nullptr);
  sip::Message m = parse(*out);
  EXPECT_EQ(m.callId().value_or(""), "call-1");
  EXPECT_EQ(m.to()->tag(), "calltag1");
  EXPECT_EQ(headerOf(m, "Info-Package"), "dtmf");
  auto back = deliver(responseTo(m, 200, "OK", "calltag1"), kCallerPhone);
  const Sent* ok = findSent(back, "SIP/2.0 200", &kCalleePhone);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(parse(*ok).cseq()->method, "INFO");
}

TEST_F(EarlyDialog, WithTwoRingingForksTheCallersInfoGoesToTheOneWhoseDialogItIsIn) {
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  auto sent = authenticatedInvite(Invite{});
  sip::Message lan = parse(*findSent(sent, "INVITE ", &kCalleePhone));
  sip::Message wan = parse(*findSent(sent, "INVITE ", &kRemotePhone));
  deliver(responseTo(lan, 180, "Ringing", "bobtag", "", "sip:bob@192.0.2.22:5064"), kCalleePhone);
  auto r = deliver(responseTo(wan, 183, "Session Progress", "mobtag",
                              offerSdp("198.51.100.7", 6000), "sip:bob-mobile@198.51.100.7:40123"),
                   kRemotePhone);
  sip::Message toCaller = parse(*findSent(r, "SIP/2.0 183", &kCallerPhone));
  auto info = deliver(fromCaller("INFO", toCaller, 3), kCallerPhone);
  const Sent* out = findSent(info, "INFO ", &kRemotePhone);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(parse(*out).to()->tag(), "mobtag");
  EXPECT_EQ(parse(*out).topVia()->host, "203.0.113.1");  // that fork's address choice
  EXPECT_EQ(findSent(info, "INFO ", &kCalleePhone), nullptr);
}

TEST_F(EarlyDialog, CalleesEarlyUpdateReachesTheCallerAndGlareGets491) {
  sip::Message leg = ring();
  auto ringing = deliver(responseTo(leg, 183, "Session Progress", "bobtag",
                                    offerSdp("192.0.2.22", 5000), "sip:bob@192.0.2.22:5064"),
                         kCalleePhone);
  sip::Message toCaller = parse(*findSent(ringing, "SIP/2.0 183", &kCallerPhone));
  std::string update =
      inDialogRequest("UPDATE", "sip:101@192.0.2.10:5060", "<sip:102@pbx.test>;tag=bobtag",
                      std::string(*leg.header(sip::HeaderId::kFrom)), std::string(*leg.callId()), 1,
                      kCalleePhone.toString(), offerSdp("192.0.2.22", 5200));
  auto sent = deliver(update, kCalleePhone);
  const Sent* out = findSent(sent, "UPDATE sip:101@192.0.2.21:5062", &kCallerPhone);
  ASSERT_NE(out, nullptr);
  sip::Message u = parse(*out);
  EXPECT_EQ(u.to()->tag(), "calltag1");
  EXPECT_EQ(u.from()->tag(), toCaller.to()->tag());
  EXPECT_NE(std::string(u.body()).find("m=audio 40000 "), std::string::npos);
  EXPECT_NE(std::string(u.body()).find("c=IN IP4 192.0.2.10"), std::string::npos);
  EXPECT_NE(media.rewrites.back().sdp.find("m=audio 5200 "), std::string::npos);
  // The caller's own UPDATE while this one is pending: glare (RFC 3311 5.2).
  auto glare =
      deliver(fromCaller("UPDATE", toCaller, 3, offerSdp("192.0.2.21", 4100)), kCallerPhone);
  EXPECT_NE(findSent(glare, "SIP/2.0 491", &kCallerPhone), nullptr);
  EXPECT_EQ(findSent(glare, "UPDATE ", &kCalleePhone), nullptr);
  // The caller answers: its SDP rewritten toward bob.
  auto back = deliver(
      responseTo(u, 200, "OK", "calltag1", offerSdp("192.0.2.21", 4000), "sip:101@192.0.2.21:5062"),
      kCallerPhone);
  const Sent* ok = findSent(back, "SIP/2.0 200", &kCalleePhone);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(parse(*ok).cseq()->method, "UPDATE");
  EXPECT_NE(std::string(parse(*ok).body()).find("m=audio 40002 "), std::string::npos);
  EXPECT_NE(headerOf(parse(*ok), "Contact").find("192.0.2.10"), std::string::npos);
}

TEST_F(EarlyDialog, ReliableProvisionalsOfTwoForksAreNumberedInTurnAndPrackedToTheirOwnFork) {
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  Invite inv;
  inv.extra = "Supported: 100rel\r\n";
  auto sent = authenticatedInvite(inv);
  sip::Message lan = parse(*findSent(sent, "INVITE ", &kCalleePhone));
  sip::Message wan = parse(*findSent(sent, "INVITE ", &kRemotePhone));
  auto a = deliver(reliable(lan, 180, "Ringing", 100), kCalleePhone);
  sip::Message r1 = parse(*findSent(a, "SIP/2.0 180", &kCallerPhone));
  auto b = deliver(
      withHeaders(responseTo(wan, 183, "Session Progress", "mobtag", offerSdp("198.51.100.7", 6000),
                             "sip:bob-mobile@198.51.100.7:40123"),
                  "Require: 100rel\r\nRSeq: 900\r\n"),
      kRemotePhone);
  EXPECT_EQ(findSent(b, "SIP/2.0 183", &kCallerPhone), nullptr);  // waits for the first PRACK
  auto p1 =
      deliver(fromCaller("PRACK", r1, 3, "", "RAck: " + headerOf(r1, "RSeq") + " 2 INVITE\r\n"),
              kCallerPhone);
  const Sent* toLan = findSent(p1, "PRACK ", &kCalleePhone);
  ASSERT_NE(toLan, nullptr);
  EXPECT_EQ(headerOf(parse(*toLan), "RAck"), "100 1 INVITE");
  EXPECT_EQ(findSent(p1, "PRACK ", &kRemotePhone), nullptr);
  const Sent* r2s = findSent(p1, "SIP/2.0 183", &kCallerPhone);
  ASSERT_NE(r2s, nullptr);
  sip::Message r2 = parse(*r2s);
  EXPECT_EQ(std::stoul(headerOf(r2, "RSeq")), std::stoul(headerOf(r1, "RSeq")) + 1);
  auto p2 =
      deliver(fromCaller("PRACK", r2, 4, "", "RAck: " + headerOf(r2, "RSeq") + " 2 INVITE\r\n"),
              kCallerPhone);
  const Sent* toWan = findSent(p2, "PRACK sip:bob-mobile@198.51.100.7:40123", &kRemotePhone);
  ASSERT_NE(toWan, nullptr);
  EXPECT_EQ(headerOf(parse(*toWan), "RAck"), "900 1 INVITE");
  EXPECT_EQ(parse(*toWan).to()->tag(), "mobtag");
  EXPECT_EQ(parse(*toWan).topVia()->host, "203.0.113.1");
}

TEST_F(EarlyDialog, UpdateBeforeAnyCalleeDialogIs491) {
  sip::Message leg = ring();
  auto r = deliver(responseTo(leg, 180, "Ringing", ""), kCalleePhone);  // no To tag
  sip::Message toCaller = parse(*findSent(r, "SIP/2.0 180", &kCallerPhone));
  auto sent =
      deliver(fromCaller("UPDATE", toCaller, 3, offerSdp("192.0.2.21", 4100)), kCallerPhone);
  EXPECT_NE(findSent(sent, "SIP/2.0 491", &kCallerPhone), nullptr);
  EXPECT_EQ(findSent(sent, "UPDATE ", &kCalleePhone), nullptr);
}

}  // namespace
}  // namespace duplex::call::test
