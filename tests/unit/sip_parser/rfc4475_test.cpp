// RFC 4475 torture messages (tests/data/rfc4475, see its INDEX.md): one test
// per message, asserting the verdict at the parser level and the values a
// well-behaved element must see. Each file is one UDP datagram.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

std::string readCorpus(const std::string& name) {
  std::ifstream in(std::string(DUPLEX_TEST_DATA) + "/rfc4475/" + name + ".dat", std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Message parseValid(const std::string& name) {
  auto r = Message::parse(readCorpus(name));
  EXPECT_TRUE(r.ok()) << name << ": " << r.error().status << " " << r.error().reason;
  if (!r.ok()) return Message{};
  return std::move(r).value();
}

SipError parseError(const std::string& name) {
  auto r = Message::parse(readCorpus(name));
  EXPECT_FALSE(r.ok()) << name << " parsed";
  return r.ok() ? SipError{0, "parsed"} : r.error();
}

// The octets after the first empty line.
std::string afterHeaders(const std::string& bytes) {
  return bytes.substr(bytes.find("\r\n\r\n") + 4);
}

// --- 3.1.1 valid messages ---

TEST(Rfc4475, WsinvShortTortuousInvite) {  // 3.1.1.1
  Message m = parseValid("wsinv");
  EXPECT_EQ(m.method(), Method::kInvite);
  EXPECT_TRUE(m.requestUri().hasParam("unknownparam"));
  auto to = m.to();
  ASSERT_TRUE(to.ok());
  EXPECT_EQ(to->uri.user(), "vivekg");
  EXPECT_EQ(to->tag(), "1918181833n");
  auto from = m.from();
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->display_name, R"(J Rosenberg \\\")");
  EXPECT_EQ(from->tag(), "98asjd8");
  EXPECT_EQ(*m.maxForwards(), 68u);
  auto cseq = m.cseq();
  ASSERT_TRUE(cseq.ok());
  EXPECT_EQ(cseq->number, 9u);
  EXPECT_EQ(cseq->method, "INVITE");
  auto vias = m.vias();
  ASSERT_TRUE(vias.ok());
  ASSERT_EQ(vias->size(), 3u);
  EXPECT_EQ((*vias)[0].protocol, "SIP/2.0");
  EXPECT_EQ((*vias)[0].transport, "UDP");
  EXPECT_EQ((*vias)[0].host, "192.0.2.2");
  EXPECT_EQ((*vias)[0].branch, "390skdjuw");
  EXPECT_FALSE((*vias)[0].hasRfc3261Branch());
  EXPECT_EQ((*vias)[1].transport, "TCP");
  EXPECT_EQ((*vias)[1].host, "spindle.example.com");
  EXPECT_EQ((*vias)[1].branch, "z9hG4bK9ikj8");
  EXPECT_EQ((*vias)[2].host, "192.168.255.111");
  EXPECT_EQ((*vias)[2].branch, "z9hG4bK30239");
  EXPECT_EQ(m.header(HeaderId::kSubject), "");
  EXPECT_EQ(m.header("NewFangledHeader"), "newfangled value\r\n continued newfangled value");
  // Unknown header kept verbatim and never split.
  EXPECT_EQ(m.headerValues("UnknownHeaderWithUnusualValue"),
            std::vector<std::string_view>{";;,,;;,;"});
  auto routes = m.routes();
  ASSERT_TRUE(routes.ok());
  ASSERT_EQ(routes->size(), 1u);
  EXPECT_TRUE((*routes)[0].uri.hasParam("lr"));
  EXPECT_EQ((*routes)[0].uri.param("unknownwith"), "value");
  EXPECT_TRUE((*routes)[0].uri.hasParam("unknown-no-value"));
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->entries.size(), 1u);
  const NameAddr& c = contacts->entries[0].address;
  EXPECT_EQ(c.display_name, R"(Quoted string \"\")");
  EXPECT_EQ(c.param("newparam"), "newvalue");
  ASSERT_NE(findParam(c.params, "secondparam"), nullptr);
  EXPECT_FALSE(findParam(c.params, "secondparam")->has_value);
  ASSERT_TRUE(contacts->entries[0].q.has_value());
  EXPECT_FLOAT_EQ(*contacts->entries[0].q, 0.33f);
  EXPECT_EQ(m.contentType(), "application/sdp");
  EXPECT_EQ(m.body().size(), 150u);
}

TEST(Rfc4475, IntmethWideRangeOfValidCharacters) {  // 3.1.1.2
  Message m = parseValid("intmeth");
  EXPECT_EQ(m.method(), Method::kUnknown);
  EXPECT_EQ(m.methodToken(), "!interesting-Method0123456789_*+`.%indeed'~");
  EXPECT_EQ(m.requestUri().user(), "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
  EXPECT_EQ(m.requestUri().password(), "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
  EXPECT_EQ(m.requestUri().host(), "example.com");
  auto to = m.to();
  ASSERT_TRUE(to.ok());
  EXPECT_EQ(to->display_name, std::string_view("BEL:\\\x07 NUL:\\\x00 DEL:\\\x7f", 20));
  auto from = m.from();
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->display_name, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(from->tag(), "_token~1'+`*%!-.");
  ASSERT_TRUE(from->param("fromParam''~+*_!.-%").has_value());
  EXPECT_EQ(m.callId(), "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
  auto cseq = m.cseq();
  ASSERT_TRUE(cseq.ok());  // CSeq method equals the (unknown) method
  EXPECT_EQ(cseq->number, 139122385u);
  EXPECT_EQ(*m.maxForwards(), 255u);
  EXPECT_EQ(m.topVia()->branch, "z9hG4bK-.!%66*_+`'~");
  EXPECT_EQ(m.header("extensionHeader-!.%*+_`'~"),
            "\xEF\xBB\xBF\xE5\xA4\xA7\xE5\x81\x9C\xE9\x9B\xBB");
  EXPECT_TRUE(m.body().empty());
}

TEST(Rfc4475, Esc01EscapesDecodedExactlyOnce) {  // 3.1.1.3
  Message m = parseValid("esc01");
  EXPECT_EQ(m.requestUri().user(), "sips%3Auser%40example.com");
  EXPECT_EQ(m.requestUri().userUnescaped(), "sips:user@example.com");
  EXPECT_EQ(m.to()->uri.userUnescaped(), "user");
  EXPECT_EQ(m.from()->uri.userUnescaped(), "I have spaces");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->entries.size(), 1u);
  const Uri& uri = contacts->entries[0].address.uri;
  EXPECT_EQ(uri.userUnescaped(), "caller");
  ASSERT_EQ(uri.params().size(), 2u);
  EXPECT_EQ(unescape(uri.params()[0].name), "lr");
  EXPECT_EQ(unescape(uri.params()[1].name), "name");
  EXPECT_EQ(unescape(uri.params()[1].value), "value%41");  // not "valueA"
  EXPECT_EQ(m.contentType(), "application/sdp");           // compact "C"
}

TEST(Rfc4475, EscnullKeepsEscapedNuls) {  // 3.1.1.4
  Message m = parseValid("escnull");
  EXPECT_EQ(m.to()->uri.userUnescaped(), std::string("null-\0-null", 11));
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->entries.size(), 2u);
  const std::string a = contacts->entries[0].address.uri.userUnescaped();
  const std::string b = contacts->entries[1].address.uri.userUnescaped();
  EXPECT_EQ(a, std::string(1, '\0'));
  EXPECT_EQ(b, std::string(2, '\0'));
  EXPECT_NE(a, b);
}

TEST(Rfc4475, Esc02PercentThatIsNotAnEscape) {  // 3.1.1.5
  Message m = parseValid("esc02");
  EXPECT_EQ(m.method(), Method::kUnknown);
  EXPECT_EQ(m.methodToken(), "RE%47IST%45R");
  EXPECT_EQ(m.to()->display_name, "%Z%45");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->entries.size(), 2u);
  EXPECT_EQ(contacts->entries[0].address.uri.host(), "host1.example.com");
  EXPECT_EQ(contacts->entries[1].address.uri.host(), "host3.example.com");
  EXPECT_EQ(m.header("C%6Fntact"), "<sip:alias2@host2.example.com>");
  EXPECT_TRUE(m.cseq().ok());
}

TEST(Rfc4475, LwsdispNoSpaceBeforeAngle) {  // 3.1.1.6
  Message m = parseValid("lwsdisp");
  auto from = m.from();
  ASSERT_TRUE(from.ok());
  EXPECT_EQ(from->display_name, "caller");
  EXPECT_EQ(from->uri.user(), "caller");
}

TEST(Rfc4475, LongreqLongValues) {  // 3.1.1.7
  Message m = parseValid("longreq");
  auto vias = m.vias();
  ASSERT_TRUE(vias.ok());
  EXPECT_EQ(vias->size(), 34u);
  auto to = m.to();
  ASSERT_TRUE(to.ok());
  EXPECT_EQ(to->display_name.size(), 103u);
  EXPECT_EQ(to->uri.port(), 6000);
  EXPECT_EQ(m.from()->uri.user().size(), 115u);
  EXPECT_EQ(m.from()->tag().size(), 155u);
  EXPECT_EQ(m.callId()->size(), 141u);
  EXPECT_EQ(m.cseq()->number, 3882340u);
  EXPECT_EQ(m.body().size(), 150u);
}

TEST(Rfc4475, DblreqIgnoresTrailingOctets) {  // 3.1.1.8
  Message m = parseValid("dblreq");
  EXPECT_EQ(m.method(), Method::kRegister);
  EXPECT_EQ(*m.contentLength(), 0u);
  EXPECT_TRUE(m.body().empty());
  EXPECT_EQ(m.serialize().find("INVITE"), std::string::npos);
}

TEST(Rfc4475, SemiuriUserPartWithSemicolon) {  // 3.1.1.9
  Message m = parseValid("semiuri");
  EXPECT_EQ(m.requestUri().user(), "user;par=u%40example.net");
  EXPECT_EQ(m.requestUri().host(), "example.com");
  EXPECT_TRUE(m.requestUri().params().empty());
}

TEST(Rfc4475, TransportsUnknownTransportsKept) {  // 3.1.1.10
  Message m = parseValid("transports");
  auto vias = m.vias();
  ASSERT_TRUE(vias.ok());
  ASSERT_EQ(vias->size(), 5u);
  EXPECT_EQ((*vias)[0].transport, "UDP");
  EXPECT_EQ((*vias)[1].transport, "SCTP");
  EXPECT_EQ((*vias)[2].transport, "TLS");
  EXPECT_EQ((*vias)[3].transport, "UNKNOWN");
  EXPECT_EQ((*vias)[3].host, "t4.example.com");
  EXPECT_EQ((*vias)[4].transport, "TCP");
}

TEST(Rfc4475, Mpart01FramedByContentLength) {  // 3.1.1.11
  const std::string bytes = readCorpus("mpart01");
  Message m = parseValid("mpart01");
  EXPECT_EQ(m.method(), Method::kMessage);
  ASSERT_EQ(m.body().size(), 553u);
  EXPECT_EQ(m.body(), afterHeaders(bytes));
  EXPECT_NE(m.body().find('\0'), std::string_view::npos);
}

TEST(Rfc4475, UnreasonUtf8ReasonPhrase) {  // 3.1.1.12
  Message m = parseValid("unreason");
  EXPECT_TRUE(m.isResponse());
  EXPECT_EQ(m.statusCode(), 200);
  EXPECT_TRUE(m.reasonPhrase().starts_with("= 2**3 * 5**2 \xD0\xBD\xD0\xBE"));
  EXPECT_EQ(m.body().size(), 154u);
}

TEST(Rfc4475, NoreasonEmptyReasonPhrase) {  // 3.1.1.13
  Message m = parseValid("noreason");
  EXPECT_EQ(m.statusCode(), 100);
  EXPECT_EQ(m.reasonPhrase(), "");
}

// --- 3.1.2 invalid messages ---

TEST(Rfc4475, Badinv01ExtraneousSeparators) {  // 3.1.2.1
  Message m = parseValid("badinv01");
  EXPECT_EQ(m.topVia().error(), (SipError{400, "Bad Via header"}));
  EXPECT_EQ(m.contacts().error(), (SipError{400, "Bad Contact header"}));
}

TEST(Rfc4475, ClerrContentLengthBeyondDatagram) {  // 3.1.2.2
  EXPECT_EQ(parseError("clerr"), (SipError{400, "Bad Content-Length"}));
}

TEST(Rfc4475, NclNegativeContentLength) {  // 3.1.2.3
  EXPECT_EQ(parseError("ncl"), (SipError{400, "Bad Content-Length"}));
}

TEST(Rfc4475, Scalar02OverlargeRequestScalars) {  // 3.1.2.4
  EXPECT_EQ(parseError("scalar02"), (SipError{400, "Bad CSeq"}));
  // With the CSeq repaired, the other overlarge values are still caught by
  // their views (never wrapped around).
  const std::string original = readCorpus("scalar02");
  const std::string bad = "36893488147419103232";
  const std::size_t at = original.find(bad);
  ASSERT_NE(at, std::string::npos);
  const std::string bytes = original.substr(0, at) + "1" + original.substr(at + bad.size());
  auto r = Message::parse(bytes);
  ASSERT_TRUE(r.ok()) << r.error().reason;
  EXPECT_EQ(r->maxForwards().error(), (SipError{400, "Bad Max-Forwards"}));
  EXPECT_EQ(r->expires().error(), (SipError{400, "Bad Expires"}));
  EXPECT_EQ(r->contacts().error(), (SipError{400, "Bad Contact expires"}));
}

TEST(Rfc4475, ScalarlgOverlargeResponseScalars) {  // 3.1.2.5
  EXPECT_EQ(parseError("scalarlg"), (SipError{400, "Bad CSeq"}));
}

TEST(Rfc4475, QuotbalUnterminatedQuote) {  // 3.1.2.6
  Message m = parseValid("quotbal");
  EXPECT_EQ(m.to().error(), (SipError{400, "Bad To header"}));
  EXPECT_TRUE(m.from().ok());
}

TEST(Rfc4475, LtgtruriBracketedRequestUri) {  // 3.1.2.7
  EXPECT_EQ(parseError("ltgtruri"), (SipError{400, "Bad Request-URI"}));
}

TEST(Rfc4475, LwsruriSpaceInRequestUri) {  // 3.1.2.8
  EXPECT_EQ(parseError("lwsruri"), (SipError{400, "Bad Request-URI"}));
}

TEST(Rfc4475, LwsstartMultipleSpaces) {  // 3.1.2.9
  EXPECT_EQ(parseError("lwsstart"), (SipError{400, "Extra spaces in Request-Line"}));
}

TEST(Rfc4475, TrwsTrailingSpaces) {  // 3.1.2.10
  EXPECT_EQ(parseError("trws"), (SipError{400, "Extra spaces in Request-Line"}));
}

TEST(Rfc4475, EscruriHeadersInRequestUri) {  // 3.1.2.11
  EXPECT_EQ(parseError("escruri"), (SipError{400, "Headers not allowed in Request-URI"}));
}

TEST(Rfc4475, BaddateNonGmtZone) {  // 3.1.2.12
  Message m = parseValid("baddate");
  EXPECT_EQ(m.date().error(), (SipError{400, "Bad Date"}));
}

TEST(Rfc4475, RegbadctUnbracketedUriWithHeaders) {  // 3.1.2.13
  Message m = parseValid("regbadct");
  EXPECT_EQ(m.contacts().error(), (SipError{400, "Bad Contact header"}));
}

TEST(Rfc4475, BadaspecSpacesInAddrSpec) {  // 3.1.2.14
  Message m = parseValid("badaspec");
  EXPECT_TRUE(m.from().ok());
  EXPECT_EQ(m.from()->display_name, "Bell, Alexander");
  EXPECT_EQ(m.to().error(), (SipError{400, "Bad To header"}));
}

TEST(Rfc4475, BaddnNonTokenDisplayName) {  // 3.1.2.15
  Message m = parseValid("baddn");         // header section not closed: end of datagram ends it
  EXPECT_EQ(m.from().error(), (SipError{400, "Bad From header"}));
  EXPECT_EQ(m.to().error(), (SipError{400, "Bad To header"}));
}

TEST(Rfc4475, BadversUnknownVersion) {  // 3.1.2.16
  EXPECT_EQ(parseError("badvers"), (SipError{505, "Version Not Supported"}));
}

TEST(Rfc4475, Mismatch01CSeqMethod) {  // 3.1.2.17
  Message m = parseValid("mismatch01");
  EXPECT_EQ(m.method(), Method::kOptions);
  EXPECT_EQ(m.cseq().error(), (SipError{400, "CSeq method does not match"}));
}

TEST(Rfc4475, Mismatch02UnknownMethodAndCSeqMismatch) {  // 3.1.2.18
  // The caller checks the method first and answers 501; the mismatch is
  // still reported by cseq() for callers that do not.
  Message m = parseValid("mismatch02");
  EXPECT_EQ(m.method(), Method::kUnknown);
  EXPECT_EQ(m.methodToken(), "NEWMETHOD");
  EXPECT_EQ(m.cseq().error(), (SipError{400, "CSeq method does not match"}));
}

TEST(Rfc4475, BigcodeOverlargeStatus) {  // 3.1.2.19
  EXPECT_EQ(parseError("bigcode"), (SipError{400, "Bad status code"}));
}

// --- 3.2 transaction layer ---

TEST(Rfc4475, BadbranchCookieOnly) {  // 3.2.1
  Message m = parseValid("badbranch");
  auto via = m.topVia();
  ASSERT_TRUE(via.ok());
  EXPECT_EQ(via->branch, "z9hG4bK");
  EXPECT_FALSE(via->hasRfc3261Branch());
}

// --- 3.3 application layer ---

TEST(Rfc4475, InsufMissingHeaders) {  // 3.3.1
  EXPECT_EQ(parseError("insuf"), (SipError{400, "Missing Call-ID"}));
}

TEST(Rfc4475, UnkscmUnknownRequestUriScheme) {  // 3.3.2
  Message m = parseValid("unkscm");
  EXPECT_EQ(m.requestUri().scheme(), UriScheme::kOther);
  EXPECT_EQ(m.requestUri().schemeText(), "nobodyKnowsThisScheme");
  EXPECT_FALSE(m.requestUri().isSip());
}

TEST(Rfc4475, NovelscAtypicalScheme) {  // 3.3.3
  Message m = parseValid("novelsc");
  EXPECT_EQ(m.requestUri().schemeText(), "soap.beep");
  EXPECT_EQ(m.requestUri().opaque(), "//192.0.2.103:3002");
}

TEST(Rfc4475, Unksm2UnknownSchemesInHeaders) {  // 3.3.4
  Message m = parseValid("unksm2");
  EXPECT_EQ(m.to()->uri.schemeText(), "isbn");
  EXPECT_EQ(m.to()->uri.opaque(), "2983792873");
  EXPECT_EQ(m.from()->uri.schemeText(), "http");
  EXPECT_EQ(m.from()->tag(), "3234233");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  EXPECT_EQ(contacts->entries.at(0).address.uri.schemeText(), "name");
}

TEST(Rfc4475, Bext01UnsupportedOptionTags) {  // 3.3.5
  Message m = parseValid("bext01");
  EXPECT_EQ(m.optionTags(HeaderId::kRequire),
            (std::vector<std::string_view>{"nothingSupportsThis", "nothingSupportsThisEither"}));
  EXPECT_EQ(m.optionTags(HeaderId::kProxyRequire),
            (std::vector<std::string_view>{"noProxiesSupportThis", "norDoAnyProxiesSupportThis"}));
}

TEST(Rfc4475, InvutUnknownContentType) {  // 3.3.6
  Message m = parseValid("invut");
  EXPECT_EQ(m.contentType(), "application/unknownformat");
  EXPECT_EQ(m.body().size(), 40u);
}

TEST(Rfc4475, Regaut01UnknownAuthScheme) {  // 3.3.7
  Message m = parseValid("regaut01");
  auto creds = m.authorizations();
  ASSERT_EQ(creds.size(), 1u);
  EXPECT_EQ(creds[0].scheme, "NoOneKnowsThisScheme");
  EXPECT_EQ(creds[0].param("opaque-data"), "here");
}

TEST(Rfc4475, Multi01SingleValueHeadersRepeated) {  // 3.3.8
  EXPECT_EQ(parseError("multi01"), (SipError{400, "Multiple Call-ID headers"}));
}

TEST(Rfc4475, Mcl01DifferingContentLengths) {  // 3.3.9
  EXPECT_EQ(parseError("mcl01"), (SipError{400, "Multiple Content-Length values"}));
}

TEST(Rfc4475, BcastBroadcastVia) {  // 3.3.10
  Message m = parseValid("bcast");
  auto vias = m.vias();
  ASSERT_TRUE(vias.ok());
  ASSERT_EQ(vias->size(), 2u);
  EXPECT_EQ((*vias)[1].host, "255.255.255.255");
  EXPECT_EQ((*vias)[1].host_type, HostType::kIpv4);
}

TEST(Rfc4475, ZeromfMaxForwardsZero) {  // 3.3.11
  Message m = parseValid("zeromf");
  EXPECT_EQ(*m.maxForwards(), 0u);
}

TEST(Rfc4475, Cparam01ContactHeaderParam) {  // 3.3.12
  Message m = parseValid("cparam01");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  ASSERT_EQ(contacts->entries.size(), 1u);
  const NameAddr& c = contacts->entries[0].address;
  EXPECT_FALSE(c.angle_brackets);
  EXPECT_EQ(c.uri.user(), "+19725552222");
  EXPECT_FALSE(c.uri.hasParam("unknownparam"));
  EXPECT_NE(findParam(c.params, "unknownparam"), nullptr);
}

TEST(Rfc4475, Cparam02ContactUriParam) {  // 3.3.13
  Message m = parseValid("cparam02");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  const NameAddr& c = contacts->entries.at(0).address;
  EXPECT_TRUE(c.uri.hasParam("unknownparam"));
  EXPECT_EQ(findParam(c.params, "unknownparam"), nullptr);
}

TEST(Rfc4475, RegescrtEscapedHeaderKept) {  // 3.3.14
  Message m = parseValid("regescrt");
  auto contacts = m.contacts();
  ASSERT_TRUE(contacts.ok());
  const Uri& uri = contacts->entries.at(0).address.uri;
  ASSERT_EQ(uri.headers().size(), 1u);
  EXPECT_EQ(uri.headers()[0].name, "Route");
  EXPECT_EQ(uri.headers()[0].value, "%3Csip:sip.example.com%3E");
  EXPECT_EQ(uri.text(), "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
}

TEST(Rfc4475, Sdp01AcceptWithoutSdp) {  // 3.3.15
  Message m = parseValid("sdp01");
  EXPECT_EQ(m.headerValues(HeaderId::kAccept),
            std::vector<std::string_view>{"text/nobodyKnowsThis"});
  EXPECT_EQ(m.body().size(), 150u);
}

// --- 3.4 backward compatibility ---

TEST(Rfc4475, Inv2543NoContentLength) {  // 3.4.1
  const std::string bytes = readCorpus("inv2543");
  Message m = parseValid("inv2543");
  EXPECT_EQ(m.header(HeaderId::kContentLength), std::nullopt);
  EXPECT_EQ(*m.contentLength(), std::nullopt);
  EXPECT_EQ(*m.maxForwards(), std::nullopt);
  EXPECT_EQ(m.body(), afterHeaders(bytes));
  EXPECT_EQ(m.body().size(), 105u);
  EXPECT_TRUE(m.topVia()->branch.empty());
  EXPECT_EQ(m.from()->tag(), "");
}

// --- not in the RFC text ---

TEST(Rfc4475, TestDatNoVersion) {
  EXPECT_EQ(parseError("test"), (SipError{400, "Bad Request-Line"}));
}

}  // namespace
}  // namespace duplex::sip
