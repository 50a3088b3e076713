// SIP dialogs (RFC 3261 12): what a UAS and a UAC dialog remember from the
// INVITE and its responses, and the in-dialog requests built from them.
#include <gtest/gtest.h>

#include "pbx/sip/dialog.h"

namespace duplex::sip {
namespace {

Message parse(const std::string& text) {
  auto m = Message::parse(text);
  EXPECT_TRUE(m) << text;
  return std::move(m).value();
}

const std::string kInvite =
    "INVITE sip:102@pbx.test SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.21:5062;branch=z9hG4bKa\r\n"
    "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice\" <sip:101@pbx.test>;tag=alice1\r\n"
    "To: <sip:102@pbx.test>\r\n"
    "Call-ID: dlg-1\r\n"
    "CSeq: 7 INVITE\r\n"
    "Contact: <sip:101@192.0.2.21:5062>\r\n"
    "Content-Length: 0\r\n\r\n";

TEST(DialogUas, RemembersTheCallersTagTargetRouteSetAndCSeq) {
  auto d = Dialog::fromIncomingInvite(parse(kInvite), "pbx1", "sip:192.0.2.10:5060");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->callId(), "dlg-1");
  EXPECT_EQ(d->remoteTag(), "alice1");
  EXPECT_EQ(d->localTag(), "pbx1");
  EXPECT_EQ(d->remoteTarget(), "sip:101@192.0.2.21:5062");
  ASSERT_EQ(d->routeSet().size(), 2u);  // RFC 3261 12.1.1: in order
  EXPECT_EQ(d->routeSet()[0], "<sip:p1.example;lr>");
  EXPECT_EQ(d->remoteCSeq(), 7u);
}

TEST(DialogUas, ByeGoesToTheContactWithTagsSwappedAndRoutes) {
  auto d = Dialog::fromIncomingInvite(parse(kInvite), "pbx1", "sip:192.0.2.10:5060");
  ASSERT_TRUE(d);
  Message bye = d->makeRequest(Method::kBye, "UDP", "192.0.2.10:5060", "z9hG4bKbye");
  EXPECT_EQ(bye.requestUriText(), "sip:101@192.0.2.21:5062");
  EXPECT_EQ(bye.from()->tag(), "pbx1");
  EXPECT_EQ(bye.to()->tag(), "alice1");
  EXPECT_EQ(bye.to()->display_name, "Alice");
  EXPECT_EQ(bye.callId().value_or(""), "dlg-1");
  EXPECT_EQ(bye.cseq()->number, 1u);
  EXPECT_EQ(bye.headerValues(HeaderId::kRoute).size(), 2u);
  EXPECT_EQ(bye.topVia()->branch, "z9hG4bKbye");
  EXPECT_TRUE(bye.topVia()->has_rport);
  Message info = d->makeRequest(Method::kInfo, "UDP", "192.0.2.10:5060", "z9hG4bKinfo");
  EXPECT_EQ(info.cseq()->number, 2u);  // our own CSeq space, increasing
}

TEST(DialogUas, InDialogCSeqMustIncrease) {
  auto d = Dialog::fromIncomingInvite(parse(kInvite), "pbx1", "sip:192.0.2.10:5060");
  ASSERT_TRUE(d);
  std::string bye = kInvite;
  bye.replace(bye.find("CSeq: 7 INVITE"), 14, "CSeq: 7 BYE");
  bye.replace(0, 6, "BYE");
  auto same = d->checkRemoteCSeq(parse(bye));
  ASSERT_TRUE(same.has_value());
  EXPECT_EQ(same->status, 500);
  bye.replace(bye.find("CSeq: 7 BYE"), 11, "CSeq: 8 BYE");
  EXPECT_FALSE(d->checkRemoteCSeq(parse(bye)).has_value());
  EXPECT_EQ(d->remoteCSeq(), 8u);
}

TEST(DialogUas, InviteWithoutFromTagOrContactCannotMakeADialog) {
  std::string noTag = kInvite;
  noTag.replace(noTag.find(";tag=alice1"), 11, "");
  EXPECT_FALSE(Dialog::fromIncomingInvite(parse(noTag), "t", "sip:x"));
  std::string noContact = kInvite;
  noContact.erase(noContact.find("Contact:"),
                  std::string("Contact: <sip:101@192.0.2.21:5062>\r\n").size());
  auto d = Dialog::fromIncomingInvite(parse(noContact), "t", "sip:x");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().reason, "Missing Contact");
}

TEST(DialogUac, ResponseWithTagConfirmsAndReversesRecordRoute) {
  Message invite = parse(
      "INVITE sip:bob@192.0.2.22:5064 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKb\r\n"
      "Max-Forwards: 70\r\n"
      "From: <sip:101@192.0.2.10>;tag=pbxb\r\n"
      "To: <sip:102@192.0.2.10>\r\n"
      "Call-ID: leg-b\r\n"
      "CSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n");
  auto d = Dialog::fromOutgoingInvite(invite, "sip:192.0.2.10:5060");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->state(), Dialog::State::kEarly);
  Message ok = parse(
      "SIP/2.0 200 OK\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKb\r\n"
      "Record-Route: <sip:p1.example;lr>, <sip:p2.example;lr>\r\n"
      "From: <sip:101@192.0.2.10>;tag=pbxb\r\n"
      "To: <sip:102@192.0.2.10>;tag=bob9\r\n"
      "Call-ID: leg-b\r\n"
      "CSeq: 1 INVITE\r\n"
      "Contact: <sip:bob@198.51.100.7:40000>\r\n"
      "Content-Length: 0\r\n\r\n");
  EXPECT_FALSE(d->onResponse(ok).has_value());
  EXPECT_EQ(d->state(), Dialog::State::kConfirmed);
  EXPECT_EQ(d->remoteTag(), "bob9");
  EXPECT_EQ(d->remoteTarget(), "sip:bob@198.51.100.7:40000");
  ASSERT_EQ(d->routeSet().size(), 2u);
  EXPECT_EQ(d->routeSet()[0], "<sip:p2.example;lr>");  // RFC 3261 12.1.2: reversed
  Message ack = d->makeRequest(Method::kAck, "UDP", "192.0.2.10:5060", "z9hG4bKack", 1);
  EXPECT_EQ(ack.cseq()->number, 1u);  // the INVITE's number (RFC 3261 13.2.2.4)
  EXPECT_EQ(ack.cseq()->method, "ACK");
  EXPECT_EQ(ack.requestUriText(), "sip:bob@198.51.100.7:40000");
  Message bye = d->makeRequest(Method::kBye, "UDP", "192.0.2.10:5060", "z9hG4bKbye");
  EXPECT_EQ(bye.cseq()->number, 2u);
  EXPECT_TRUE(d->matches(ok));
}

TEST(DialogUac, ResponseWithoutToTagIsRefused) {
  Message invite = parse(
      "INVITE sip:bob@192.0.2.22 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKc\r\n"
      "From: <sip:a@x>;tag=t\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n");
  auto d = Dialog::fromOutgoingInvite(invite, "sip:x");
  ASSERT_TRUE(d);
  Message ok = parse(
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKc\r\n"
      "From: <sip:a@x>;tag=t\r\nTo: <sip:b@x>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
      "Content-Length: 0\r\n\r\n");
  auto error = d->onResponse(ok);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->reason, "Missing To tag");
}

}  // namespace
}  // namespace duplex::sip
