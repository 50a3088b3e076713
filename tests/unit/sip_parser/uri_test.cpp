// Uri::parse and the escape helpers (RFC 3261 19.1, 25.1; RFC 5118).
#include "pbx/sip/uri.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "pbx/sip/parse_host.h"

namespace duplex::sip {
namespace {

TEST(Uri, FullSipUri) {
  auto u = Uri::parse("sips:alice:secret@atlanta.example.com:5061;transport=tcp;lr?subject=x&h=");
  ASSERT_TRUE(u.ok()) << u.error().reason;
  EXPECT_EQ(u->scheme(), UriScheme::kSips);
  EXPECT_TRUE(u->isSip());
  EXPECT_TRUE(u->hasUser());
  EXPECT_EQ(u->user(), "alice");
  EXPECT_EQ(u->password(), "secret");
  EXPECT_EQ(u->host(), "atlanta.example.com");
  EXPECT_EQ(u->hostType(), HostType::kName);
  EXPECT_EQ(u->port(), 5061);
  ASSERT_EQ(u->params().size(), 2u);
  EXPECT_EQ(u->param("TRANSPORT"), "tcp");
  EXPECT_TRUE(u->hasParam("lr"));
  EXPECT_FALSE(u->params()[1].has_value);
  ASSERT_EQ(u->headers().size(), 2u);
  EXPECT_EQ(u->headers()[0].name, "subject");
  EXPECT_EQ(u->headers()[1].value, "");
}

TEST(Uri, HostForms) {
  EXPECT_EQ(Uri::parse("sip:192.0.2.1")->hostType(), HostType::kIpv4);
  EXPECT_EQ(Uri::parse("sip:[::1]:5060")->host(), "::1");
  EXPECT_EQ(Uri::parse("sip:[::1]:5060")->port(), 5060);
  EXPECT_EQ(Uri::parse("sip:[2001:db8::192.0.2.1]")->hostType(), HostType::kIpv6);
  EXPECT_EQ(Uri::parse("sip:example.com.")->hostType(), HostType::kName);
  EXPECT_EQ(Uri::parse("SIP:Example.COM")->scheme(), UriScheme::kSip);
  EXPECT_FALSE(Uri::parse("sip:user@").ok());
  EXPECT_FALSE(Uri::parse("sip:1.2.3.256").ok());
  EXPECT_FALSE(Uri::parse("sip:1.2.3").ok());
  EXPECT_FALSE(Uri::parse("sip:-bad.example.com").ok());
  EXPECT_FALSE(Uri::parse("sip:bad-.example.com").ok());
  EXPECT_FALSE(Uri::parse("sip:a..b").ok());
  EXPECT_FALSE(Uri::parse("sip:[2001:db8::1").ok());
  EXPECT_FALSE(Uri::parse("sip:[1:2:3:4:5:6:7:8:9]").ok());
  EXPECT_FALSE(Uri::parse("sip:[1::2::3]").ok());
  EXPECT_FALSE(Uri::parse("sip:2001:db8::10").ok());  // RFC 5118 4.2
}

TEST(Uri, PortRange) {
  EXPECT_EQ(Uri::parse("sip:h:65535")->port(), 65535);
  EXPECT_EQ(Uri::parse("sip:h:0005060")->port(), 5060);
  EXPECT_EQ(Uri::parse("sip:h:65536").error(), (SipError{400, "Bad URI host"}));
  EXPECT_FALSE(Uri::parse("sip:h:").ok());
  EXPECT_FALSE(Uri::parse("sip:h:99999999999999999999999").ok());
  EXPECT_FALSE(Uri::parse("sip:h:5x").ok());
}

TEST(Uri, UserPartCharactersAndEscapes) {
  EXPECT_EQ(Uri::parse("sip:+1%20(555)@h")->userUnescaped(), "+1 (555)");
  EXPECT_EQ(Uri::parse("sip:a%2541@h")->userUnescaped(), "a%41");  // decoded once
  EXPECT_EQ(Uri::parse("sip:%@h").error(), (SipError{400, "Bad URI user part"}));
  EXPECT_FALSE(Uri::parse("sip:%4@h").ok());
  EXPECT_FALSE(Uri::parse("sip:a b@h").ok());
  EXPECT_FALSE(Uri::parse("sip:a\"b@h").ok());
  EXPECT_FALSE(Uri::parse("sip:@h").ok());
  EXPECT_FALSE(Uri::parse("sip:h;=v").ok());
  EXPECT_FALSE(Uri::parse("sip:h;a b").ok());
}

TEST(Uri, OtherSchemesStayOpaque) {
  auto tel = Uri::parse("tel:+1-201-555-0123;phone-context=example.com");
  ASSERT_TRUE(tel.ok());
  EXPECT_EQ(tel->scheme(), UriScheme::kTel);
  EXPECT_FALSE(tel->isSip());
  EXPECT_EQ(tel->opaque(), "+1-201-555-0123;phone-context=example.com");
  EXPECT_EQ(Uri::parse("urn:uuid:f81d4fae")->schemeText(), "urn");
  EXPECT_EQ(Uri::parse("1sip:x").error(), (SipError{400, "Bad URI scheme"}));
  EXPECT_FALSE(Uri::parse("no-colon").ok());
  EXPECT_FALSE(Uri::parse("http:").ok());
  EXPECT_FALSE(Uri::parse("http:a b").ok());
  EXPECT_FALSE(Uri::parse("").ok());
}

TEST(Uri, EscapeHelpers) {
  EXPECT_EQ(unescape("%41%4a%zz%4"), "AJ%zz%4");
  EXPECT_EQ(unescape(std::string_view("%00x", 4)), std::string("\0x", 2));
  EXPECT_EQ(escape("a b<c>", ""), "a%20b%3Cc%3E");
  EXPECT_EQ(escape("a;b=c", ";="), "a;b=c");
  EXPECT_EQ(unescape(escape(std::string("\0\xff", 2), "")), std::string("\0\xff", 2));
}

}  // namespace
}  // namespace duplex::sip

namespace duplex::sip {
namespace {

// Shapes at the edge of the one-pass path (Uri::parseSimple): each must get
// the general parser's verdict.
TEST(Uri, SimpleShapeEdges) {
  auto a = Uri::parse("sip:a;b@host.example.com");  // ';' in user, '@' after it
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->user(), "a;b");
  EXPECT_EQ(a->host(), "host.example.com");
  auto b = Uri::parse("sip:alice:pw@h");  // password
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->password(), "pw");
  auto c = Uri::parse("sip:%61lice@h;x=%41");  // escapes
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->user(), "%61lice");
  EXPECT_EQ(c->param("x"), "%41");
  auto d = Uri::parse("sip:h:05060;lr;maddr=[::1];a=");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->port(), 5060);
  ASSERT_EQ(d->params().size(), 3u);
  EXPECT_FALSE(d->params()[0].has_value);
  EXPECT_EQ(d->param("maddr"), "[::1]");
  EXPECT_TRUE(d->params()[2].has_value);
  EXPECT_EQ(d->params()[2].value, "");
  auto e = Uri::parse("sips:u@10.0.0.1?x=y");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->hostType(), HostType::kIpv4);
  EXPECT_EQ(e->headers().size(), 1u);
  EXPECT_EQ(Uri::parse("sip:h;x=1@y")->user(), "h;x=1");
  EXPECT_FALSE(Uri::parse("sip:h;").ok());
  EXPECT_FALSE(Uri::parse("sip:h;=1").ok());
  EXPECT_FALSE(Uri::parse("sip:h;a=b=c").ok());
  EXPECT_FALSE(Uri::parse("sip:h:").ok());
  EXPECT_FALSE(Uri::parse("sip:h:65536").ok());
  EXPECT_FALSE(Uri::parse("sip:h:50x").ok());
  EXPECT_FALSE(Uri::parse("sip:@h").ok());
  EXPECT_FALSE(Uri::parse("sip:").ok());
  EXPECT_FALSE(Uri::parse("sip:a..b").ok());
  EXPECT_FALSE(Uri::parse("sip:a.-b").ok());
  EXPECT_FALSE(Uri::parse("sip:a-.b").ok());
  EXPECT_FALSE(Uri::parse("sip:ab-").ok());
  EXPECT_FALSE(Uri::parse("sip:1.2.3.4.5").ok());
  EXPECT_FALSE(Uri::parse("sip:h_x").ok());
  EXPECT_FALSE(Uri::parse("sip:1.2.3.4.").ok());  // digits and dots: IPv4 or nothing
  EXPECT_EQ(Uri::parse("sip:h.")->hostType(), HostType::kName);
  EXPECT_FALSE(Uri::parse("sip:123").ok());
}

// detail::scanHost (the vectorized one-pass host scan) against classifyHost
// on random text over the octets that matter, every length up to 40.
TEST(Uri, ScanHostAgreesWithClassifyHost) {
  constexpr std::string_view kAlphabet = "aZ09..--_:@\x80";
  std::mt19937 rng(4475);
  for (int round = 0; round < 20000; ++round) {
    std::string s(rng() % (round % 2 != 0 ? 17 : 41), ' ');
    // Odd rounds: digits and dots only (IPv4 or nothing).
    const std::string_view alphabet = round % 2 != 0 ? std::string_view("1290...") : kAlphabet;
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    const std::size_t run = std::min(s.size(), s.find_first_not_of("aZ0129.-"));
    HostType type = HostType::kIpv6;
    const char* stop = detail::scanHost(s.data(), s.data() + s.size(), type);
    ASSERT_EQ(static_cast<std::size_t>(stop - s.data()), run) << s;
    ASSERT_EQ(type, detail::classifyHost(std::string_view(s).substr(0, run))) << s;
  }
}

}  // namespace
}  // namespace duplex::sip
