// Message::parse framing and start-line rules (RFC 3261 7, 7.5, 18.3) beyond
// the RFC 4475 corpus.
#include <gtest/gtest.h>

#include <string>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

const std::string kHeaders =
    "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
    "From: <sip:a@h>;tag=1\r\n"
    "To: <sip:b@h>\r\n"
    "Call-ID: c@h\r\n";

SipError errorOf(const std::string& text) {
  auto r = Message::parse(text);
  return r.ok() ? SipError{0, "parsed"} : r.error();
}

TEST(Parser, LeadingCrlfIgnored) {  // RFC 3261 7.5
  auto m =
      Message::parse("\r\n\r\nOPTIONS sip:b@h SIP/2.0\r\n" + kHeaders + "CSeq: 1 OPTIONS\r\n\r\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->method(), Method::kOptions);
}

TEST(Parser, BareLfLinesTolerated) {
  auto m = Message::parse(
      "OPTIONS sip:b@h SIP/2.0\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n"
      "To: <sip:b@h>\nCall-ID: c\nCSeq: 1 OPTIONS\nContent-Length: 2\n\nhi");
  ASSERT_TRUE(m.ok()) << m.error().reason;
  EXPECT_EQ(m->body(), "hi");
  EXPECT_EQ(m->header(HeaderId::kCallId), "c");
}

TEST(Parser, FoldedValuesKeptAsReceived) {
  auto m = Message::parse("OPTIONS sip:b@h SIP/2.0\r\n" + kHeaders +
                          "CSeq: 1\r\n\tOPTIONS\r\nSubject: one\r\n two  \r\n\r\n");
  ASSERT_TRUE(m.ok()) << m.error().reason;
  EXPECT_EQ(m->header(HeaderId::kSubject), "one\r\n two");
  EXPECT_EQ(m->cseq()->method, "OPTIONS");
}

TEST(Parser, HeaderLineErrors) {
  const std::string start = "OPTIONS sip:b@h SIP/2.0\r\n";
  EXPECT_EQ(errorOf(start + " folded: x\r\n" + kHeaders + "CSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Bad header folding"}));
  EXPECT_EQ(errorOf(start + kHeaders + "NoColon\r\nCSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Malformed header line"}));
  EXPECT_EQ(errorOf(start + kHeaders + ": empty name\r\nCSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Malformed header line"}));
  EXPECT_EQ(errorOf(start + kHeaders + "Bad Name: x\r\nCSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Malformed header line"}));
  EXPECT_EQ(errorOf(start + kHeaders + "Call-ID: d@h\r\nCSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Multiple Call-ID headers"}));
  EXPECT_EQ(
      errorOf(start + kHeaders + "CSeq: 1 OPTIONS\r\nMax-Forwards: 1\r\nMax-Forwards: 1\r\n\r\n"),
      (SipError{400, "Multiple Max-Forwards headers"}));
  EXPECT_EQ(errorOf(start + kHeaders + "\r\n"), (SipError{400, "Missing CSeq"}));
  EXPECT_EQ(errorOf(start + "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Missing From"}));
  EXPECT_EQ(errorOf(start + kHeaders.substr(kHeaders.find("From")) + "CSeq: 1 OPTIONS\r\n\r\n"),
            (SipError{400, "Missing Via"}));
}

TEST(Parser, ContentLengthFraming) {
  const std::string head = "MESSAGE sip:b@h SIP/2.0\r\n" + kHeaders + "CSeq: 1 MESSAGE\r\n";
  auto cut = Message::parse(head + "Content-Length: 3\r\n\r\nabcdef");  // UDP: extra cut
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->body(), "abc");
  auto same = Message::parse(head + "l: 3\r\nContent-Length: 003\r\n\r\nabc");
  ASSERT_TRUE(same.ok());  // duplicates with the same value are harmless
  EXPECT_EQ(same->body(), "abc");
  EXPECT_EQ(errorOf(head + "Content-Length: 7\r\n\r\nabc"), (SipError{400, "Bad Content-Length"}));
  EXPECT_EQ(errorOf(head + "Content-Length: 3 4\r\n\r\nabc"),
            (SipError{400, "Bad Content-Length"}));
  EXPECT_EQ(errorOf(head + "Content-Length:\r\n\r\n"), (SipError{400, "Bad Content-Length"}));
  EXPECT_EQ(errorOf(head + "Content-Length: 1\r\nl: 2\r\n\r\nab"),
            (SipError{400, "Multiple Content-Length values"}));
  auto open = Message::parse(head + "Content-Length: 0\r\n");  // no empty line
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->body().empty());
}

TEST(Parser, RequestLineErrors) {
  const std::string rest = kHeaders + "CSeq: 1 OPTIONS\r\n\r\n";
  EXPECT_EQ(errorOf("OPTIONS sip:b@h SIP/3.0\r\n" + rest),
            (SipError{505, "Version Not Supported"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h SIP/2.00\r\n" + rest),
            (SipError{505, "Version Not Supported"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h SIP/2\r\n" + rest), (SipError{400, "Bad SIP version"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h HTTP/1.1\r\n" + rest), (SipError{400, "Bad SIP version"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h\r\n" + rest), (SipError{400, "Bad Request-Line"}));
  EXPECT_EQ(errorOf("OPT<ONS sip:b@h SIP/2.0\r\n" + rest), (SipError{400, "Bad method"}));
  EXPECT_EQ(errorOf("OPTIONS  sip:b@h SIP/2.0\r\n" + rest),
            (SipError{400, "Extra spaces in Request-Line"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h?Route=x SIP/2.0\r\n" + rest),
            (SipError{400, "Headers not allowed in Request-URI"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h:99999 SIP/2.0\r\n" + rest),
            (SipError{400, "Bad Request-URI"}));
  EXPECT_EQ(errorOf(""), (SipError{400, "Incomplete message"}));
  EXPECT_EQ(errorOf("\r\n\r\n"), (SipError{400, "Incomplete message"}));
  EXPECT_EQ(errorOf("OPTIONS sip:b@h SIP/2.0"), (SipError{400, "Incomplete message"}));
  auto lower = Message::parse("OPTIONS sip:b@h sip/2.0\r\n" + rest);  // ABNF literals are
  EXPECT_TRUE(lower.ok());                                            // case-insensitive
}

TEST(Parser, StatusLines) {
  const std::string rest = kHeaders + "CSeq: 1 INVITE\r\n\r\n";
  auto ok = Message::parse("SIP/2.0 183 Session Progress\r\n" + rest);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->reasonPhrase(), "Session Progress");
  auto bare = Message::parse("SIP/2.0 100\r\n" + rest);  // no SP, no reason: tolerated
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->statusCode(), 100);
  EXPECT_EQ(bare->reasonPhrase(), "");
  EXPECT_EQ(errorOf("SIP/2.0 1000 X\r\n" + rest), (SipError{400, "Bad status code"}));
  EXPECT_EQ(errorOf("SIP/2.0 099 X\r\n" + rest), (SipError{400, "Bad status code"}));
  EXPECT_EQ(errorOf("SIP/2.0 7xx X\r\n" + rest), (SipError{400, "Bad status code"}));
  EXPECT_EQ(errorOf("SIP/2.0\r\n" + rest), (SipError{400, "Bad Status-Line"}));
  EXPECT_EQ(errorOf("SIP/3.0 200 OK\r\n" + rest), (SipError{505, "Version Not Supported"}));
}

}  // namespace
}  // namespace duplex::sip
