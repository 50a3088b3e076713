// Typed header views: Via, name-addr, CSeq, credentials, challenges, lists
// (RFC 3261 20, 25.1; RFC 3581).
#include "pbx/sip/headers.h"

#include <gtest/gtest.h>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

TEST(Via, AllKnownParameters) {
  auto v = Via::parse(
      "SIP/2.0/UDP proxy.example.com:5070;branch=z9hG4bKabc;received=192.0.2.4;rport=6000;"
      "maddr=224.2.0.1;ttl=16;x-custom=\"q\"");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->host, "proxy.example.com");
  EXPECT_EQ(v->port, 5070);
  EXPECT_EQ(v->branch, "z9hG4bKabc");
  EXPECT_EQ(v->received, "192.0.2.4");
  EXPECT_TRUE(v->has_rport);
  EXPECT_EQ(v->rport, 6000);
  EXPECT_EQ(v->maddr, "224.2.0.1");
  EXPECT_EQ(v->ttl, 16);
  ASSERT_EQ(v->params.size(), 6u);
  EXPECT_TRUE(v->params[5].quoted);
  EXPECT_EQ(v->params[5].value, "q");
}

TEST(Via, LwsAroundSeparators) {
  auto v = Via::parse("SIP / 2.0 / TCP host : 5060 ; branch = z9hG4bKx");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->protocol, "SIP/2.0");
  EXPECT_EQ(v->transport, "TCP");
  EXPECT_EQ(v->port, 5060);
  EXPECT_EQ(v->branch, "z9hG4bKx");
}

TEST(Via, Rejections) {
  for (const char* bad : {
           "SIP/2.0/UDP",                          // no sent-by
           "SIP/2.0 UDP host",                     // missing slash
           "SIP/2.0/UDPhost",                      // no LWS before sent-by
           "SIP/2.0/UDP host;",                    // empty parameter
           "SIP/2.0/UDP host;;branch=z9hG4bK1",    // RFC 4475 badinv01
           "SIP/2.0/UDP host:70000",               // port range
           "SIP/2.0/UDP host;rport=65536",         // rport range
           "SIP/2.0/UDP host;ttl=256",             // ttl range
           "SIP/2.0/UDP host;received=host.name",  // received is an address
           "SIP/2.0/UDP host;branch",              // branch needs a value
           "SIP/2.0/UDP 2001:db8::1",              // IPv6 needs brackets
       }) {
    EXPECT_EQ(Via::parse(bad).error(), (SipError{400, "Bad Via header"})) << bad;
  }
  EXPECT_FALSE(Via::parse("SIP/2.0/UDP host;branch=z9hG4bK").value().hasRfc3261Branch());
}

TEST(NameAddr, Forms) {
  auto a = NameAddr::parse("\"A \\\"B\\\"\" <sip:a@h>;tag=x;foo");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->display_name, "A \\\"B\\\"");
  EXPECT_TRUE(a->display_quoted);
  EXPECT_TRUE(a->angle_brackets);
  EXPECT_EQ(a->tag(), "x");
  EXPECT_EQ(a->param("FOO"), "");
  EXPECT_EQ(a->param("bar"), std::nullopt);

  auto b = NameAddr::parse("Alice Smith <sip:alice@h;transport=udp>");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->display_name, "Alice Smith");
  EXPECT_FALSE(b->display_quoted);
  EXPECT_EQ(b->uri.param("transport"), "udp");
  EXPECT_TRUE(b->params.empty());

  auto c = NameAddr::parse("sip:alice@h;transport=udp");  // addr-spec: header param
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->angle_brackets);
  EXPECT_FALSE(c->uri.hasParam("transport"));
  EXPECT_EQ(c->param("transport"), "udp");

  EXPECT_TRUE(NameAddr::parse("<urn:service:sos>").ok());
}

TEST(NameAddr, Rejections) {
  for (const char* bad :
       {"", "\"unterminated <sip:a@h>", "Bell, Alexander <sip:a@h>", "< sip:a@h >", "<sip:a@h",
        "sip:a@h?x=y", "\"A\" sip:a@h", "<sip:a@h>;", "<sip:a@h>;tag=\"open", "<sip:a@h> junk"}) {
    EXPECT_FALSE(NameAddr::parse(bad).ok()) << bad;
  }
}

TEST(CSeq, Values) {
  auto c = CSeq::parse("4294967295 REGISTER");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->number, 4294967295u);
  EXPECT_EQ(c->method, "REGISTER");
  EXPECT_EQ(CSeq::parse("0009\r\n  INVITE")->number, 9u);  // RFC 4475 wsinv
  for (const char* bad : {"4294967296 INVITE", "1", "INVITE", "1INVITE", "-1 INVITE", "1 INV ITE",
                          "1 INVITE;x", ""}) {
    EXPECT_EQ(CSeq::parse(bad).error(), (SipError{400, "Bad CSeq"})) << bad;
  }
}

TEST(Credentials, DigestParams) {
  auto c = Credentials::parse(
      "Digest username=\"bob\",realm=\"biloxi.com\" , nonce=\"n\\\"x\", uri=sip:bob@h, qop=auth,"
      " nc=00000001, opaque=\"\"");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->scheme, "Digest");
  EXPECT_EQ(c->param("username"), "bob");
  EXPECT_EQ(c->param("REALM"), "biloxi.com");
  EXPECT_EQ(c->param("nonce"), "n\\\"x");  // escapes kept
  EXPECT_EQ(c->param("uri"), "sip:bob@h");
  EXPECT_EQ(c->param("opaque"), "");
  EXPECT_EQ(c->param("cnonce"), std::nullopt);
  EXPECT_FALSE(Credentials::parse("Digest username=\"open").ok());
  EXPECT_FALSE(Credentials::parse("Digest a=b,,c=d").ok());
  EXPECT_FALSE(Credentials::parse("").ok());
  EXPECT_TRUE(Credentials::parse("Basic").ok());
}

TEST(Challenge, WwwAuthenticateFromMessage) {
  auto m = Message::parse(
      "SIP/2.0 401 Unauthorized\r\n"
      "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:a@h>;tag=1\r\nTo: <sip:a@h>;tag=2\r\nCall-ID: c\r\nCSeq: 1 REGISTER\r\n"
      "WWW-Authenticate: Digest realm=\"h\", nonce=\"abc\", algorithm=SHA-256, qop=\"auth\"\r\n"
      "WWW-Authenticate: Digest realm=\"h\", nonce=\"def\", algorithm=MD5\r\n"
      "Proxy-Authenticate: Digest realm=\"p\", nonce=\"1\"\r\n"
      "\r\n");
  ASSERT_TRUE(m.ok());
  auto www = m->wwwAuthenticates();
  ASSERT_EQ(www.size(), 2u);
  EXPECT_EQ(www[0].param("algorithm"), "SHA-256");
  EXPECT_EQ(www[0].param("qop"), "auth");
  EXPECT_EQ(www[1].param("nonce"), "def");
  ASSERT_EQ(m->proxyAuthenticates().size(), 1u);
  EXPECT_EQ(m->proxyAuthenticates()[0].param("realm"), "p");
}

TEST(HeaderList, SplitOutsideQuotesAndBrackets) {
  auto parts = splitHeaderList(" \"a,b\" <sip:x@h;p=1,2>;q=0.1 , <sip:y@h> ,, z ");
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0], "\"a,b\" <sip:x@h;p=1,2>;q=0.1");
  EXPECT_EQ(parts[1], "<sip:y@h>");
  EXPECT_EQ(parts[2], "");
  EXPECT_EQ(parts[3], "z");
  EXPECT_EQ(splitHeaderList("\"a\\\",b\""), std::vector<std::string_view>{"\"a\\\",b\""});
}

// Views that need a message around them.
Message parse(const std::string& extra) {
  auto m = Message::parse(
      "OPTIONS sip:b@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
      "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\n" +
      extra + "\r\n");
  EXPECT_TRUE(m.ok()) << m.error().reason;
  return m.ok() ? std::move(m).value() : Message{};
}

TEST(MessageViews, ContactStarAndQValues) {
  auto star = parse("Contact: *\r\nExpires: 0\r\n").contacts();
  ASSERT_TRUE(star.ok());
  EXPECT_TRUE(star->star);
  EXPECT_TRUE(star->entries.empty());
  EXPECT_FALSE(parse("Contact: *, <sip:a@h>\r\n").contacts().ok());
  EXPECT_EQ(parse("Contact: <sip:a@h>;q=1.01\r\n").contacts().error(),
            (SipError{400, "Bad Contact q"}));
  EXPECT_FLOAT_EQ(*parse("Contact: <sip:a@h>;q=0.125\r\n").contacts()->entries[0].q, 0.125f);
  EXPECT_FLOAT_EQ(*parse("Contact: <sip:a@h>;q=1\r\n").contacts()->entries[0].q, 1.0f);
  EXPECT_EQ(parse("Contact: <sip:a@h>;expires=4294967296\r\n").contacts().error(),
            (SipError{400, "Bad Contact expires"}));
  auto none = parse("").contacts();
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->entries.empty());
}

TEST(MessageViews, RoutesNeedBrackets) {
  const Message m = parse("Route: <sip:p1@h;lr>, <sip:p2@h;lr>\r\nRoute: <sip:p3@h>\r\n");
  auto r = m.routes();  // views into m: m must outlive r
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].uri.user(), "p3");
  EXPECT_EQ(parse("Record-Route: sip:p1@h;lr\r\n").recordRoutes().error(),
            (SipError{400, "Bad Record-Route header"}));
}

TEST(MessageViews, NumbersAndDate) {
  EXPECT_EQ(*parse("Max-Forwards: 255\r\n").maxForwards(), 255u);
  EXPECT_EQ(parse("Max-Forwards: 256\r\n").maxForwards().error(),
            (SipError{400, "Bad Max-Forwards"}));
  EXPECT_EQ(parse("Max-Forwards: -1\r\n").maxForwards().error(),
            (SipError{400, "Bad Max-Forwards"}));
  EXPECT_EQ(*parse("Expires: 4294967295\r\n").expires(), 4294967295u);
  EXPECT_FALSE(parse("Expires: 4294967296\r\n").expires().ok());
  EXPECT_EQ(*parse("").date(), std::nullopt);
  EXPECT_EQ(*parse("Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n").date(),
            "Sat, 13 Nov 2010 23:29:00 GMT");
  for (const char* bad : {"Sat, 13 Nov 2010 23:29:00 EST", "Sat, 13 Nov 2010 24:29:00 GMT",
                          "Xyz, 13 Nov 2010 23:29:00 GMT", "Sat, 13 Foo 2010 23:29:00 GMT",
                          "Sat, 00 Nov 2010 23:29:00 GMT", "13 Nov 2010 23:29:00 GMT"}) {
    EXPECT_EQ(parse(std::string("Date: ") + bad + "\r\n").date().error(),
              (SipError{400, "Bad Date"}))
        << bad;
  }
}

}  // namespace
}  // namespace duplex::sip
