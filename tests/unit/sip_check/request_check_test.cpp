// The stateless verdict of every RFC 4475 message: parse, then checkRequest.
// The daemon answers with exactly this (tests/protocol/test_rfc4475_wire.py
// checks the same table over UDP).
#include "pbx/sip/request_check.h"

#include <gtest/gtest.h>

#include <array>
#include <fstream>
#include <sstream>
#include <string>

namespace duplex::sip {
namespace {

std::string readCorpus(const std::string& name) {
  std::ifstream in(std::string(DUPLEX_TEST_DATA) + "/rfc4475/" + name + ".dat", std::ios::binary);
  EXPECT_TRUE(in) << "missing corpus file " << name;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr std::array kAllowed = {Method::kOptions};
constexpr std::array<std::string_view, 0> kSupported = {};
const RequestPolicy kPolicy{kAllowed, kSupported};

// 0: passes the stateless checks (the endpoint then answers 200/405/483);
// -1: a response that is dropped (parse error or simply not a request).
struct Verdict {
  const char* file;
  int status;
};

const Verdict kVerdicts[] = {
    {"wsinv", 0},      {"intmeth", 501},    {"esc01", 0},        {"escnull", 0},
    {"esc02", 501},    {"lwsdisp", 0},      {"longreq", 0},      {"dblreq", 0},
    {"semiuri", 0},    {"transports", 0},   {"mpart01", 0},      {"unreason", -1},
    {"noreason", -1},  {"badinv01", 400},   {"clerr", 400},      {"ncl", 400},
    {"scalar02", 400}, {"scalarlg", -1},    {"quotbal", 400},    {"ltgtruri", 400},
    {"lwsruri", 400},  {"lwsstart", 400},   {"trws", 400},       {"escruri", 400},
    {"baddate", 400},  {"regbadct", 400},   {"badaspec", 400},   {"baddn", 400},
    {"badvers", 505},  {"mismatch01", 400}, {"mismatch02", 501}, {"bigcode", -1},
    {"badbranch", 0},  {"insuf", 400},      {"unkscm", 416},     {"novelsc", 416},
    {"unksm2", 400},   {"bext01", 420},     {"invut", 415},      {"regaut01", 0},
    {"multi01", 400},  {"mcl01", 400},      {"bcast", -1},       {"zeromf", 0},
    {"cparam01", 0},   {"cparam02", 0},     {"regescrt", 0},     {"sdp01", 406},
    {"inv2543", 0},    {"test", 400},
};

class Rfc4475Verdict : public ::testing::TestWithParam<Verdict> {};

TEST_P(Rfc4475Verdict, MatchesTheRfc) {
  const Verdict& v = GetParam();
  auto parsed = Message::parse(readCorpus(v.file));
  if (!parsed && v.status == -1) {
    // A response that does not parse is dropped (the daemon tells a response
    // from a request by its "SIP/" start).
    EXPECT_EQ(std::string_view(readCorpus(v.file)).substr(0, 4), "SIP/") << v.file;
    return;
  }
  if (!parsed) {
    ASSERT_GT(v.status, 0) << v.file << ": parse failed: " << parsed.error().reason;
    EXPECT_EQ(parsed.error().status, v.status) << parsed.error().reason;
    EXPECT_FALSE(parsed.error().reason.empty());
    return;
  }
  if (parsed->isResponse()) {
    // Responses are dropped unless they are well-formed and match a
    // transaction; these ones are either malformed or match nothing.
    EXPECT_EQ(v.status, -1) << v.file;
    return;
  }
  auto rejection = checkRequest(*parsed, kPolicy);
  if (v.status == 0) {
    EXPECT_FALSE(rejection) << v.file << ": " << rejection->status << " " << rejection->reason;
  } else {
    ASSERT_TRUE(rejection) << v.file << " passed the checks";
    EXPECT_EQ(rejection->status, v.status) << v.file << ": " << rejection->reason;
    EXPECT_FALSE(rejection->reason.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, Rfc4475Verdict, ::testing::ValuesIn(kVerdicts),
                         [](const auto& info) { return std::string(info.param.file); });

// Responses whose values overflow are not valid either (RFC 4475 3.1.2.5,
// 3.1.2.19): the parser or a typed view must refuse them.
TEST(Rfc4475Responses, OverlargeValuesAreRefused) {
  for (const char* name : {"scalarlg", "bigcode"}) {
    auto parsed = Message::parse(readCorpus(name));
    if (!parsed) continue;
    bool bad = !parsed->cseq() || parsed->statusCode() < 100 || parsed->statusCode() > 699;
    EXPECT_TRUE(bad) << name << " looks valid";
  }
}

Message parseOrDie(const std::string& text) {
  auto m = Message::parse(text);
  EXPECT_TRUE(m) << m.error().reason;
  return std::move(m).value();
}

std::string request(const std::string& method, const std::string& extra,
                    const std::string& body = "") {
  return method + " sip:pbx.example.com SIP/2.0\r\n" +
         "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKabc\r\n"
         "From: <sip:100@pbx.example.com>;tag=1\r\n"
         "To: <sip:pbx.example.com>\r\n"
         "Call-ID: c1\r\n"
         "CSeq: 1 " +
         method + "\r\nMax-Forwards: 70\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(RequestCheck, RequireWithSupportedTagPasses) {
  constexpr std::array<std::string_view, 1> supported = {"replaces"};
  RequestPolicy policy{kAllowed, supported};
  auto m = parseOrDie(request("OPTIONS", "Require: Replaces\r\n"));
  EXPECT_FALSE(checkRequest(m, policy));
  auto m2 = parseOrDie(request("OPTIONS", "Require: replaces, 100rel\r\n"));
  auto r = checkRequest(m2, policy);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 420);
  ASSERT_EQ(r->headers.size(), 1u);
  EXPECT_EQ(r->headers[0].first, "Unsupported");
  EXPECT_EQ(r->headers[0].second, "100rel");
}

TEST(RequestCheck, RequireIsIgnoredOnAckAndCancel) {
  auto m = parseOrDie(request("CANCEL", "Require: foo\r\n"));
  EXPECT_FALSE(checkRequest(m, kPolicy));
}

TEST(RequestCheck, UnknownMethodListsAllow) {
  constexpr std::array allowed = {Method::kInvite, Method::kAck, Method::kOptions};
  RequestPolicy policy{allowed, kSupported};
  auto m = parseOrDie(request("FOO", ""));
  auto r = checkRequest(m, policy);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 501);
  EXPECT_EQ(r->headers.at(0).second, "INVITE, ACK, OPTIONS");
}

TEST(RequestCheck, SessionBodyMustBeSdp) {
  auto sdp = parseOrDie(request("INVITE", "Content-Type: application/sdp\r\n", "v=0\r\n"));
  EXPECT_FALSE(checkRequest(sdp, kPolicy));
  auto xml = parseOrDie(request("INVITE", "Content-Type: text/xml\r\n", "<a/>"));
  auto r = checkRequest(xml, kPolicy);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 415);
  EXPECT_EQ(r->headers.at(0).first, "Accept");
  // A MESSAGE may carry any type: not a session body.
  auto msg = parseOrDie(request("MESSAGE", "Content-Type: text/xml\r\n", "<a/>"));
  EXPECT_FALSE(checkRequest(msg, kPolicy));
}

TEST(RequestCheck, InviteAcceptMustAllowSdp) {
  EXPECT_FALSE(checkRequest(parseOrDie(request("INVITE", "Accept: application/*\r\n")), kPolicy));
  EXPECT_FALSE(checkRequest(parseOrDie(request("INVITE", "Accept: */*\r\n")), kPolicy));
  auto r = checkRequest(parseOrDie(request("INVITE", "Accept: text/plain\r\n")), kPolicy);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 406);
}

TEST(RequestCheck, DateMustBeGmt) {
  EXPECT_FALSE(checkRequest(
      parseOrDie(request("OPTIONS", "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n")), kPolicy));
  for (const char* bad : {"Sat, 13 Nov 2010 23:29:00 EST", "Sat, 13 Nov 2010 23:29 GMT",
                          "13 Nov 2010 23:29:00 GMT", "Sat, 13 Foo 2010 23:29:00 GMT"}) {
    auto r =
        checkRequest(parseOrDie(request("OPTIONS", std::string("Date: ") + bad + "\r\n")), kPolicy);
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 400);
    EXPECT_EQ(r->reason, "Bad Date");
  }
}

TEST(RequestCheck, CSeqMethodMismatch) {
  std::string text = request("OPTIONS", "");
  text.replace(text.find("1 OPTIONS"), 9, "1 INVITE");
  auto r = checkRequest(parseOrDie(text), kPolicy);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->reason, "CSeq method does not match");
}

}  // namespace
}  // namespace duplex::sip
