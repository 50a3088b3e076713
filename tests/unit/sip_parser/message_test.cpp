// Message model: parsing basics, header access and editing, building,
// cloning and serializing (pbx/sip/message.h).
#include "pbx/sip/message.h"

#include <gtest/gtest.h>

#include <string>

namespace duplex::sip {
namespace {

const char kRegister[] =
    "REGISTER sip:example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n"
    "Max-Forwards: 70\r\n"
    "To: \"Alice\" <sip:alice@example.com>\r\n"
    "From: \"Alice\" <sip:alice@example.com>;tag=1928301774\r\n"
    "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
    "CSeq: 314159 REGISTER\r\n"
    "Contact: <sip:alice@192.0.2.10:5062>;expires=3600, <sip:alice@198.51.100.7>;q=0.5\r\n"
    "Expires: 7200\r\n"
    "Authorization: Digest username=\"alice\", realm=\"example.com\", "
    "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"sip:example.com\", "
    "response=\"e6f99bf42e3e8d4b2d5c1a3b6a8f9e01\", algorithm=MD5, qop=auth, "
    "nc=00000001, cnonce=\"0a4f113b\"\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

Message parseOk(std::string text) {
  auto r = Message::parse(std::move(text));
  EXPECT_TRUE(r.ok()) << r.error().status << " " << r.error().reason;
  if (!r.ok()) return Message{};
  return std::move(r).value();
}

TEST(Message, TopViaFollowsEveryEditOfTheViaLinesAndSurvivesAMove) {
  Message m = parseOk(kRegister);
  ASSERT_TRUE(m.topVia());
  EXPECT_EQ(m.topVia()->host, "192.0.2.10");  // parsed once, then remembered
  m.prependHeader("Via", "SIP/2.0/UDP 203.0.113.9:5060;branch=z9hG4bKproxy");
  EXPECT_EQ(m.topVia()->host, "203.0.113.9");
  m.removeFirstHeader(HeaderId::kVia);
  EXPECT_EQ(m.topVia()->host, "192.0.2.10");
  m.setHeader("Via", "SIP/2.0/TCP 198.51.100.4;branch=z9hG4bKset");
  EXPECT_EQ(m.topVia()->transport, "TCP");
  Message moved = std::move(m);
  EXPECT_EQ(moved.topVia()->host, "198.51.100.4");
  EXPECT_EQ(moved.topVia()->branch, "z9hG4bKset");
  moved.removeHeader("Via");
  ASSERT_FALSE(moved.topVia());
  EXPECT_EQ(moved.topVia().error().reason, "Missing Via");
  EXPECT_FALSE(parseOk(kRegister).clone().topVia()->branch.empty());
}

TEST(Message, ParsesRegisterStartLineAndHeaders) {
  Message m = parseOk(kRegister);
  EXPECT_TRUE(m.isRequest());
  EXPECT_EQ(m.method(), Method::kRegister);
  EXPECT_EQ(m.methodToken(), "REGISTER");
  EXPECT_EQ(m.requestUriText(), "sip:example.com");
  EXPECT_EQ(m.requestUri().host(), "example.com");
  EXPECT_EQ(m.headers().size(), 10u);
  EXPECT_EQ(m.callId(), "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(m.header("call-id"), "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(m.header("i"), "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(m.header("X-Nothing"), std::nullopt);
  EXPECT_TRUE(m.body().empty());
}

TEST(Message, TypedViewsOfRegister) {
  Message m = parseOk(kRegister);
  auto via = m.topVia();
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->protocol, "SIP/2.0");
  EXPECT_EQ(via->transport, "UDP");
  EXPECT_EQ(via->host, "192.0.2.10");
  EXPECT_EQ(via->host_type, HostType::kIpv4);
  EXPECT_EQ(via->port, 5062);
  EXPECT_EQ(via->branch, "z9hG4bK776asdhds");
  EXPECT_TRUE(via->has_rport);
  EXPECT_EQ(via->rport, std::nullopt);
  EXPECT_TRUE(via->hasRfc3261Branch());

  auto from = m.from();
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->display_name, "Alice");
  EXPECT_TRUE(from->display_quoted);
  EXPECT_EQ(from->tag(), "1928301774");
  EXPECT_EQ(from->uri.user(), "alice");
  auto to = m.to();
  ASSERT_TRUE(to.ok());
  EXPECT_EQ(to->tag(), "");

  auto cseq = m.cseq();
  ASSERT_TRUE(cseq.ok());
  EXPECT_EQ(cseq->number, 314159u);
  EXPECT_EQ(cseq->method, "REGISTER");
  EXPECT_EQ(*m.maxForwards(), 70u);
  EXPECT_EQ(*m.expires(), 7200u);
  EXPECT_EQ(*m.contentLength(), 0u);

  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  EXPECT_FALSE(contacts->star);
  ASSERT_EQ(contacts->entries.size(), 2u);
  EXPECT_EQ(contacts->entries[0].address.uri.port(), 5062);
  EXPECT_EQ(contacts->entries[0].expires, 3600u);
  EXPECT_EQ(contacts->entries[1].address.uri.host(), "198.51.100.7");
  ASSERT_TRUE(contacts->entries[1].q.has_value());
  EXPECT_FLOAT_EQ(*contacts->entries[1].q, 0.5f);

  auto auths = m.authorizations();
  ASSERT_EQ(auths.size(), 1u);
  EXPECT_EQ(auths[0].scheme, "Digest");
  EXPECT_EQ(auths[0].param("username"), "alice");
  EXPECT_EQ(auths[0].param("NONCE"), "dcd98b7102dd2f0e8b11d0f600bfb0c093");
  EXPECT_EQ(auths[0].param("uri"), "sip:example.com");
  EXPECT_EQ(auths[0].param("algorithm"), "MD5");
  EXPECT_EQ(auths[0].param("nc"), "00000001");
  EXPECT_EQ(auths[0].param("cnonce"), "0a4f113b");
  EXPECT_EQ(auths[0].param("opaque"), std::nullopt);
}

TEST(Message, ParsesResponse) {
  Message m = parseOk(
      "SIP/2.0 180 Ringing\r\n"
      "v: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKx;received=192.0.2.1;rport=4000\r\n"
      "f: <sip:a@example.com>;tag=1\r\n"
      "t: <sip:b@example.com>;tag=2\r\n"
      "i: abc\r\n"
      "CSeq: 1 INVITE\r\n"
      "l: 0\r\n\r\n");
  EXPECT_TRUE(m.isResponse());
  EXPECT_EQ(m.statusCode(), 180);
  EXPECT_EQ(m.reasonPhrase(), "Ringing");
  auto via = m.topVia();
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->host, "2001:db8::1");
  EXPECT_EQ(via->host_type, HostType::kIpv6);
  EXPECT_EQ(via->port, 5070);
  EXPECT_EQ(via->received, "192.0.2.1");
  EXPECT_EQ(via->rport, 4000);
  EXPECT_EQ(m.cseq()->method, "INVITE");  // no method check on responses
  EXPECT_EQ(m.header(HeaderId::kContentLength), "0");
}

TEST(Message, HeaderValuesSplitListsOnly) {
  Message m = parseOk(
      "OPTIONS sip:b@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP "
      "b.example.com;branch=z9hG4bK2\r\n"
      "Via: SIP/2.0/UDP c.example.com;branch=z9hG4bK3\r\n"
      "From: \"Last, First\" <sip:a@example.com>;tag=1\r\n"
      "To: <sip:b@example.com>\r\n"
      "Call-ID: x\r\n"
      "CSeq: 2 OPTIONS\r\n"
      "Supported: replaces, , timer\r\n"
      "X-Custom: a, b\r\n"
      "x-custom: c\r\n"
      "\r\n");
  EXPECT_EQ(m.headerLineCount(HeaderId::kVia), 2u);
  auto vias = m.headerValues(HeaderId::kVia);
  ASSERT_EQ(vias.size(), 3u);
  EXPECT_EQ(vias[1], "SIP/2.0/UDP b.example.com;branch=z9hG4bK2");
  auto typed = m.vias();
  ASSERT_TRUE(typed.ok());
  ASSERT_EQ(typed->size(), 3u);
  EXPECT_EQ((*typed)[2].host, "c.example.com");
  EXPECT_EQ(m.headerValues(HeaderId::kFrom).size(), 1u);  // From is not a list
  auto custom = m.headerValues("X-CUSTOM");
  ASSERT_EQ(custom.size(), 2u);
  EXPECT_EQ(custom[0], "a, b");
  EXPECT_EQ(custom[1], "c");
  auto tags = m.optionTags(HeaderId::kSupported);
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[1], "timer");
}

TEST(Message, EditingHeaders) {
  Message m = parseOk(kRegister);
  m.prependHeader("Via", "SIP/2.0/UDP proxy.example.com;branch=z9hG4bKnew");
  EXPECT_EQ(m.headers().front().id, HeaderId::kVia);
  EXPECT_EQ(m.topVia()->host, "proxy.example.com");
  m.removeFirstHeader(HeaderId::kVia);
  EXPECT_EQ(m.topVia()->host, "192.0.2.10");

  m.addHeader("X-Test", "one");
  m.addHeader("x-test", "two");
  EXPECT_EQ(m.headers().back().name, "x-test");
  m.setHeader("X-TEST", "three");
  EXPECT_EQ(m.headerValues("X-Test"), std::vector<std::string_view>{"three"});
  EXPECT_EQ(m.removeHeader("x-test"), 1u);
  EXPECT_EQ(m.header("X-Test"), std::nullopt);

  m.setHeader("Expires", "60");
  EXPECT_EQ(*m.expires(), 60u);
  m.addHeader("l", "5");  // compact form recognised; canonical name stored
  EXPECT_EQ(m.headerLineCount(HeaderId::kContentLength), 2u);
  EXPECT_EQ(m.headers().back().name, "Content-Length");
  EXPECT_EQ(m.removeHeader("Content-Length"), 2u);
}

TEST(Message, SetBodyKeepsContentLengthRight) {
  Message m = Message::request(Method::kInvite, "sip:bob@example.com");
  m.setBody("application/sdp", "v=0\r\n");
  EXPECT_EQ(m.header(HeaderId::kContentType), "application/sdp");
  EXPECT_EQ(m.header(HeaderId::kContentLength), "5");
  EXPECT_EQ(m.body(), "v=0\r\n");
  m.setBody("application/sdp", "");
  EXPECT_EQ(m.header(HeaderId::kContentLength), "0");
  EXPECT_EQ(m.headerLineCount(HeaderId::kContentLength), 1u);
}

TEST(Message, BuildsRequestAndSerializes) {
  Message m = Message::request(Method::kOptions, "sip:bob@example.com;transport=tcp");
  EXPECT_EQ(m.method(), Method::kOptions);
  EXPECT_EQ(m.requestUri().param("transport"), "tcp");
  m.addHeader("Via", "SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKabc");
  m.addHeader("From", "<sip:a@example.com>;tag=9");
  m.addHeader("To", "<sip:bob@example.com>");
  m.addHeader("Call-ID", "id1");
  m.addHeader("CSeq", "1 OPTIONS");
  m.setBody("text/plain", "hi");
  const std::string wire = m.serialize();
  EXPECT_EQ(wire,
            "OPTIONS sip:bob@example.com;transport=tcp SIP/2.0\r\n"
            "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKabc\r\n"
            "From: <sip:a@example.com>;tag=9\r\n"
            "To: <sip:bob@example.com>\r\n"
            "Call-ID: id1\r\n"
            "CSeq: 1 OPTIONS\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 2\r\n"
            "\r\n"
            "hi");
  Message back = parseOk(wire);
  EXPECT_EQ(back.body(), "hi");
  EXPECT_EQ(back.cseq()->number, 1u);
}

TEST(Message, UnknownMethodTokenIsKept) {
  Message m = Message::request("NEWMETHOD", "sip:x@example.com");
  EXPECT_EQ(m.method(), Method::kUnknown);
  EXPECT_EQ(m.methodToken(), "NEWMETHOD");
  EXPECT_EQ(methodFromName("invite"), Method::kUnknown);
  EXPECT_EQ(methodFromName("INVITE"), Method::kInvite);
  EXPECT_EQ(methodName(Method::kPublish), "PUBLISH");
}

TEST(Message, ResponseToCopiesDialogHeadersAndAddsToTag) {
  Message req = parseOk(kRegister);
  Message resp = Message::responseTo(req, 200, "OK", "as8d7f");
  EXPECT_TRUE(resp.isResponse());
  EXPECT_EQ(resp.statusCode(), 200);
  EXPECT_EQ(resp.topVia()->branch, "z9hG4bK776asdhds");
  EXPECT_EQ(resp.to()->tag(), "as8d7f");
  EXPECT_EQ(resp.from()->tag(), "1928301774");
  EXPECT_EQ(resp.callId(), req.callId());
  EXPECT_EQ(resp.cseq()->number, 314159u);
  EXPECT_EQ(resp.header(HeaderId::kContentLength), "0");
  EXPECT_EQ(resp.header(HeaderId::kContact), std::nullopt);
  const std::string wire = resp.serialize();
  EXPECT_EQ(wire.substr(0, 17), "SIP/2.0 200 OK\r\nV");
  auto again = Message::parse(wire);
  ASSERT_TRUE(again.ok()) << again.error().reason;

  Message tagged = Message::responseTo(resp, 200, "OK", "other");  // To has a tag already
  EXPECT_EQ(tagged.to()->tag(), "as8d7f");
}

TEST(Message, ResponseOutlivesRequest) {
  Message resp;
  {
    Message req = parseOk(kRegister);
    resp = Message::responseTo(req, 100, "Trying");
  }
  EXPECT_EQ(resp.callId(), "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(resp.to()->tag(), "");
}

TEST(Message, CloneIsIndependentAndMovesKeepViews) {
  auto original = std::make_unique<Message>(parseOk(kRegister));
  original->addHeader("X-Added", "value");
  original->setRequestUri("sip:other.example.com");
  Message copy = original->clone();
  original.reset();
  EXPECT_EQ(copy.callId(), "a84b4c76e66710@pc33.example.com");
  EXPECT_EQ(copy.header("X-Added"), "value");
  EXPECT_EQ(copy.requestUri().host(), "other.example.com");
  EXPECT_EQ(copy.topVia()->branch, "z9hG4bK776asdhds");
  Message moved = std::move(copy);
  EXPECT_EQ(moved.header("X-Added"), "value");
  EXPECT_EQ(moved.requestUriText(), "sip:other.example.com");
}

TEST(Message, HeaderNameTable) {
  EXPECT_EQ(headerIdFromName("v"), HeaderId::kVia);
  EXPECT_EQ(headerIdFromName("V"), HeaderId::kVia);
  EXPECT_EQ(headerIdFromName("www-authenticate"), HeaderId::kWwwAuthenticate);
  EXPECT_EQ(headerIdFromName("Proxy-Authorization"), HeaderId::kProxyAuthorization);
  EXPECT_EQ(headerIdFromName("C%6Fntact"), HeaderId::kOther);
  EXPECT_EQ(headerIdFromName("k"), HeaderId::kSupported);
  EXPECT_EQ(headerIdFromName("q"), HeaderId::kOther);
  EXPECT_EQ(canonicalHeaderName(HeaderId::kCallId), "Call-ID");
  EXPECT_TRUE(isListHeader(HeaderId::kContact));
  EXPECT_FALSE(isListHeader(HeaderId::kAuthorization));
  for (int i = 1; i < static_cast<int>(HeaderId::kCount_); ++i) {
    const auto id = static_cast<HeaderId>(i);
    EXPECT_EQ(headerIdFromName(canonicalHeaderName(id)), id) << canonicalHeaderName(id);
  }
}

}  // namespace
}  // namespace duplex::sip
