// RFC 5118 IPv6 torture messages (tests/data/rfc5118, see its INDEX.md).
// The archive files use bare LF and two of them lack the empty line, so the
// wire form is built here: LF -> CRLF, empty line added, Content-Length set
// to the body's real length. The raw bytes are fed too: they must not crash.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

const char* const kFiles[] = {
    "ipv4-mapped-ipv6",
    "ipv6-bad",
    "ipv6-bug-abnf-3-colons",
    "ipv6-correct-abnf-2-colons",
    "ipv6-good",
    "ipv6-in-sdp",
    "mult-ip-in-header",
    "mult-ip-in-sdp",
    "port-ambiguous",
    "port-unambiguous",
    "via-received-param-no-delim",
    "via-received-param-with-delim",
};

std::string readRaw(const std::string& name) {
  std::ifstream in(std::string(DUPLEX_TEST_DATA) + "/rfc5118/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string wireForm(const std::string& name) {
  const std::string raw = readRaw(name);
  std::string crlf;
  for (char c : raw) {
    if (c == '\n') crlf.push_back('\r');
    crlf.push_back(c);
  }
  std::size_t end = crlf.find("\r\n\r\n");
  if (end == std::string::npos) {
    crlf += "\r\n";
    end = crlf.size() - 4;
  }
  const std::string head = crlf.substr(0, end + 2);
  const std::string body = crlf.substr(end + 4);
  const std::string key = "Content-Length: ";
  const std::size_t cl = head.find(key);
  EXPECT_NE(cl, std::string::npos) << name;
  const std::size_t eol = head.find("\r\n", cl);
  return head.substr(0, cl) + key + std::to_string(body.size()) + head.substr(eol) + "\r\n" + body;
}

Message parseWire(const std::string& name) {
  auto r = Message::parse(wireForm(name));
  EXPECT_TRUE(r.ok()) << name << ": " << r.error().reason;
  if (!r.ok()) return Message{};
  return std::move(r).value();
}

TEST(Rfc5118, Ipv6Good) {  // 4.1
  Message m = parseWire("ipv6-good");
  EXPECT_EQ(m.requestUri().host(), "2001:db8::10");
  EXPECT_EQ(m.requestUri().hostType(), HostType::kIpv6);
  EXPECT_EQ(m.requestUri().port(), std::nullopt);
  EXPECT_EQ(m.topVia()->host, "2001:db8::9:1");
  EXPECT_EQ(m.topVia()->host_type, HostType::kIpv6);
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  EXPECT_EQ(contacts->entries.at(0).address.uri.host(), "2001:db8::1");
}

TEST(Rfc5118, Ipv6BadUnbracketedRequestUri) {  // 4.2
  auto r = Message::parse(wireForm("ipv6-bad"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), (SipError{400, "Bad Request-URI"}));
}

TEST(Rfc5118, PortAmbiguous) {  // 4.3
  Message m = parseWire("port-ambiguous");
  EXPECT_EQ(m.requestUri().host(), "2001:db8::10:5070");
  EXPECT_EQ(m.requestUri().port(), std::nullopt);
}

TEST(Rfc5118, PortUnambiguous) {  // 4.4
  Message m = parseWire("port-unambiguous");
  EXPECT_EQ(m.requestUri().host(), "2001:db8::10");
  EXPECT_EQ(m.requestUri().port(), 5070);
}

TEST(Rfc5118, ViaReceivedWithAndWithoutDelimiters) {  // 4.5
  Message with = parseWire("via-received-param-with-delim");
  Message without = parseWire("via-received-param-no-delim");
  auto a = with.topVia();
  auto b = without.topVia();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(a->received, "2001:db8::9:255");
  EXPECT_EQ(b->received, "2001:db8::9:255");
  EXPECT_EQ(a->received, b->received);
  EXPECT_EQ(a->branch, "z9hG4bKas3-111");
  EXPECT_EQ(b->branch, "z9hG4bKas3");
}

TEST(Rfc5118, Ipv6InSdp) {  // 4.6
  Message m = parseWire("ipv6-in-sdp");
  EXPECT_EQ(m.to()->uri.host(), "2001:db8::10");
  EXPECT_NE(m.body().find("c=IN IP6 2001:db8::20"), std::string_view::npos);
}

TEST(Rfc5118, MultipleIpsInHeaders) {  // 4.7
  Message m = parseWire("mult-ip-in-header");
  auto vias = m.vias();
  ASSERT_TRUE(vias.ok());
  ASSERT_EQ(vias->size(), 3u);
  EXPECT_EQ((*vias)[0].host, "2001:db8::9:1");
  EXPECT_EQ((*vias)[0].port, 6050);
  EXPECT_EQ((*vias)[1].host_type, HostType::kIpv4);
  EXPECT_EQ((*vias)[2].host, "2001:db8::9:255");
  EXPECT_EQ((*vias)[2].received, "192.0.2.200");
}

TEST(Rfc5118, MultipleIpsInSdp) {  // 4.8
  Message m = parseWire("mult-ip-in-sdp");
  EXPECT_NE(m.body().find("IP4"), std::string_view::npos);
  EXPECT_NE(m.body().find("IP6"), std::string_view::npos);
}

TEST(Rfc5118, Ipv4MappedIpv6) {  // 4.9
  Message m = parseWire("ipv4-mapped-ipv6");
  auto via = m.topVia();
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->host, "::ffff:192.0.2.10");
  EXPECT_EQ(via->host_type, HostType::kIpv6);
  EXPECT_EQ(via->port, 19823);
  EXPECT_EQ(m.contacts()->entries.at(0).address.uri.host(), "::ffff:192.0.2.2");
}

TEST(Rfc5118, AbnfBugThreeColonsTolerated) {  // 4.10
  Message bug = parseWire("ipv6-bug-abnf-3-colons");
  Message good = parseWire("ipv6-correct-abnf-2-colons");
  EXPECT_EQ(bug.requestUri().host(), "2001:db8:::192.0.2.1");
  EXPECT_EQ(good.requestUri().host(), "2001:db8::192.0.2.1");
  EXPECT_EQ(bug.to()->uri.hostType(), HostType::kIpv6);
  EXPECT_EQ(good.to()->uri.hostType(), HostType::kIpv6);
}

// Raw archive bytes (bare LF): LF line ends are tolerated, so every file
// parses as it does in wire form, except where the archive's Content-Length
// is larger than the LF body (ipv6-in-sdp: 268 > 242, mult-ip-in-sdp: 181 > 180).
TEST(Rfc5118, RawLfBytesParseWithoutCrash) {
  for (const char* name : kFiles) {
    const std::string raw = readRaw(name);
    auto r = Message::parse(raw);
    auto wire = Message::parse(wireForm(name));
    if (std::string_view(name) == "ipv6-in-sdp" || std::string_view(name) == "mult-ip-in-sdp") {
      EXPECT_EQ(r.error(), (SipError{400, "Bad Content-Length"})) << name;
      continue;
    }
    ASSERT_EQ(r.ok(), wire.ok()) << name << ": " << r.error().reason;
    if (!r.ok()) continue;
    EXPECT_EQ(r->requestUriText(), wire->requestUriText()) << name;
    EXPECT_EQ(r->headers().size(), wire->headers().size()) << name;
    EXPECT_EQ(r->callId(), wire->callId()) << name;
    (void)r->topVia();
    (void)r->contacts();
  }
}

// Golden round trip of the wire forms: parse -> serialize -> parse.
TEST(Rfc5118, WireFormsRoundTrip) {
  int parsed = 0;
  for (const char* name : kFiles) {
    auto first = Message::parse(wireForm(name));
    if (!first.ok()) continue;  // ipv6-bad
    ++parsed;
    const std::string wire = first->serialize();
    auto second = Message::parse(wire);
    ASSERT_TRUE(second.ok()) << name << ": " << second.error().reason;
    EXPECT_EQ(second->requestUriText(), first->requestUriText()) << name;
    ASSERT_EQ(second->headers().size(), first->headers().size()) << name;
    for (std::size_t i = 0; i < first->headers().size(); ++i) {
      EXPECT_EQ(second->headers()[i].name, first->headers()[i].name) << name;
      EXPECT_EQ(second->headers()[i].value, first->headers()[i].value) << name;
    }
    EXPECT_EQ(second->body(), first->body()) << name;
    EXPECT_EQ(wire, wireForm(name)) << name;  // the wire forms are canonical
  }
  EXPECT_EQ(parsed, 11);
}

}  // namespace
}  // namespace duplex::sip
