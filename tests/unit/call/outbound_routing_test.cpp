// Outbound routing steps: pattern matching, route choice, digit manipulation,
// number classes, permissions, outside-call limits and trunk capacity.
#include "pbx/call/outbound_routing.h"

#include <gtest/gtest.h>

#include <map>

#include "fakes/fake_trunk_directory.h"

namespace duplex::call {
namespace {

TEST(OutboundPattern, DigitClassesAndLiterals) {
  EXPECT_TRUE(matchesPattern("0X.", "030123456"));
  EXPECT_FALSE(matchesPattern("0X.", "03"));  // '.' needs at least one more
  EXPECT_TRUE(matchesPattern("0X!", "03"));   // '!' zero or more
  EXPECT_FALSE(matchesPattern("0X.", "130123"));
  EXPECT_TRUE(matchesPattern("NXXXXXX", "2345678"));
  EXPECT_FALSE(matchesPattern("NXXXXXX", "1345678"));  // N is 2-9
  EXPECT_FALSE(matchesPattern("NXXXXXX", "234567"));   // too short: whole number
  EXPECT_FALSE(matchesPattern("NXXXXXX", "23456789"));
  EXPECT_TRUE(matchesPattern("ZX", "10"));
  EXPECT_FALSE(matchesPattern("ZX", "01"));
  EXPECT_TRUE(matchesPattern("nxx", "200"));  // case-insensitive like Asterisk
  EXPECT_TRUE(matchesPattern("+X.", "+4930123"));
  EXPECT_TRUE(matchesPattern("*7X", "*71"));
  EXPECT_TRUE(matchesPattern("112", "112"));
  EXPECT_FALSE(matchesPattern("00", "0044"));  // not a prefix match
  EXPECT_FALSE(matchesPattern("0X.", "0a12"));
}

TEST(OutboundPattern, Sets) {
  EXPECT_TRUE(matchesPattern("[1-5]XX", "399"));
  EXPECT_FALSE(matchesPattern("[1-5]XX", "699"));
  EXPECT_TRUE(matchesPattern("[15-7]X", "60"));
  EXPECT_TRUE(matchesPattern("[15-7]X", "10"));
  EXPECT_FALSE(matchesPattern("[15-7]X", "40"));
  EXPECT_TRUE(matchesPattern("0[*#]", "0#"));
}

TEST(OutboundPattern, DotInTheMiddleBacktracks) {
  EXPECT_TRUE(matchesPattern("0.9", "01239"));
  EXPECT_FALSE(matchesPattern("0.9", "09"));
  EXPECT_TRUE(matchesPattern("0!9", "09"));
  // A pathological pattern on the longest allowed number still ends.
  EXPECT_FALSE(matchesPattern("!!!!!!!!1", std::string(kMaxDialledDigits, '0')));
}

TEST(OutboundPattern, Regex) {
  EXPECT_TRUE(matchesPattern("/00[1-9][0-9]+", "0044207"));
  EXPECT_TRUE(matchesPattern("/00[1-9][0-9]+/", "0044207"));   // trailing '/' ignored
  EXPECT_FALSE(matchesPattern("/00[1-9][0-9]+", "x0044207"));  // whole number
  EXPECT_FALSE(matchesPattern("/00(", "00"));                  // bad regex never matches
  EXPECT_FALSE(matchesPattern("/", "00"));
}

TEST(OutboundPattern, ValidationNamesTheProblem) {
  EXPECT_EQ(validatePattern("0X."), std::nullopt);
  EXPECT_EQ(validatePattern("/^0[0-9]+$"), std::nullopt);
  EXPECT_EQ(validatePattern(""), "empty pattern");
  EXPECT_EQ(validatePattern("0[12"), "unclosed '[' at position 2");
  EXPECT_EQ(validatePattern("0[]"), "empty set '[]' at position 2");
  EXPECT_EQ(validatePattern("[5-1]"), "bad range in set [5-1]");
  EXPECT_EQ(validatePattern("0Y."),
            "'Y' at position 2 is not a digit, *, #, +, X, Z, N, [set], '.' or '!'");
  ASSERT_TRUE(validatePattern("/00("));
  EXPECT_EQ(validatePattern("/00(")->rfind("bad regex: ", 0), 0u);
  EXPECT_FALSE(matchesPattern("0Y.", "0Y1"));
}

TEST(OutboundDigits, StripThenPrefix) {
  OutboundRoute r;
  r.stripDigits = 2;
  r.prefix = "+";
  EXPECT_EQ(manipulateDigits(r, "0044207"), "+44207");
  r.stripDigits = 1;
  r.prefix = "+49";
  EXPECT_EQ(manipulateDigits(r, "030123"), "+4930123");
  r.stripDigits = 0;
  r.prefix = "";
  EXPECT_EQ(manipulateDigits(r, "030123"), "030123");
  r.stripDigits = 10;
  EXPECT_EQ(manipulateDigits(r, "0301"), "");
  r.stripDigits = -3;  // a bad value strips nothing
  EXPECT_EQ(manipulateDigits(r, "0301"), "0301");
}

TEST(OutboundClass, ByDefaultRules) {
  DialingRules rules;
  EXPECT_EQ(classifyNumber("004420712345", rules), NumberClass::international);
  EXPECT_EQ(classifyNumber("+4420712345", rules), NumberClass::international);
  EXPECT_EQ(classifyNumber("030123456", rules), NumberClass::national);
  EXPECT_EQ(classifyNumber("0900123456", rules), NumberClass::premium);
  EXPECT_EQ(classifyNumber("1234567", rules), NumberClass::local);
  rules.nationalPrefix = "";
  EXPECT_EQ(classifyNumber("030123456", rules), NumberClass::local);
  rules.internationalPrefixes = {"011"};
  EXPECT_EQ(classifyNumber("01144207", rules), NumberClass::international);
  EXPECT_EQ(classifyNumber("004420712345", rules), NumberClass::local);
}

ExtensionFeatures ext(std::string number, db::CallPermission p,
                      std::optional<int> maxOutside = std::nullopt) {
  ExtensionFeatures e;
  e.number = std::move(number);
  e.permissions = p;
  e.maxOutsideCalls = maxOutside;
  return e;
}

TEST(OutboundPermission, EachClassIncludesTheOnesBefore) {
  DialingRules rules;
  auto national = ext("201", db::CallPermission::national);
  EXPECT_EQ(checkPermission(national, NumberClass::local, rules), std::nullopt);
  EXPECT_EQ(checkPermission(national, NumberClass::national, rules), std::nullopt);
  auto denied = checkPermission(national, NumberClass::international, rules);
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->status, 403);
  EXPECT_EQ(denied->reason, "Forbidden (international calls not allowed for 201)");
  auto internalOnly = ext("202", db::CallPermission::internal);
  EXPECT_EQ(checkPermission(internalOnly, NumberClass::local, rules)->reason,
            "Forbidden (local calls not allowed for 202)");
  auto local = ext("203", db::CallPermission::local);
  EXPECT_EQ(checkPermission(local, NumberClass::national, rules)->reason,
            "Forbidden (national calls not allowed for 203)");
  auto intl = ext("204", db::CallPermission::international);
  EXPECT_EQ(checkPermission(intl, NumberClass::international, rules), std::nullopt);
}

TEST(OutboundPermission, PremiumNeedsTheSettingAndInternational) {
  DialingRules rules;
  auto intl = ext("204", db::CallPermission::international);
  auto national = ext("201", db::CallPermission::national);
  EXPECT_EQ(checkPermission(intl, NumberClass::premium, rules)->reason,
            "Forbidden (premium-rate numbers are blocked)");
  rules.allowPremium = true;
  EXPECT_EQ(checkPermission(intl, NumberClass::premium, rules), std::nullopt);
  EXPECT_EQ(checkPermission(national, NumberClass::premium, rules)->reason,
            "Forbidden (premium-rate calls not allowed for 201)");
}

TEST(OutboundLimit, PerExtension) {
  auto two = ext("201", db::CallPermission::national, 2);
  EXPECT_EQ(checkOutsideCallLimit(two, 1), std::nullopt);
  auto stop = checkOutsideCallLimit(two, 2);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 403);
  EXPECT_EQ(stop->reason, "Forbidden (201 reached its limit of 2 outside calls)");
  EXPECT_EQ(checkOutsideCallLimit(ext("202", db::CallPermission::national, 0), 0)->reason,
            "Forbidden (202 reached its limit of 0 outside calls)");
  EXPECT_EQ(checkOutsideCallLimit(ext("203", db::CallPermission::national), 500), std::nullopt);
}

class OutboundPlanTest : public ::testing::Test {
 protected:
  fakes::FakeTrunkDirectory dir;
  std::map<std::int64_t, int> busy;
  OutboundUsage usage{0, [this](std::int64_t id) { return busy[id]; }};

  void SetUp() override {
    TrunkConfig a;
    a.id = 1;
    a.name = "main";
    a.host = "sip.provider.example";
    a.username = "4930555";
    a.maxCalls = 2;
    TrunkConfig b;
    b.id = 2;
    b.name = "backup";
    b.host = "backup.example";
    b.username = "backup-user";
    b.callerId = "4930999";
    dir.trunkList = {a, b};
    OutboundRoute intl;
    intl.id = 10;
    intl.name = "international";
    intl.position = 2;
    intl.pattern = "00Z.";
    intl.trunkIds = {1, 2};
    intl.stripDigits = 2;
    intl.prefix = "+";
    OutboundRoute national;
    national.id = 11;
    national.name = "national";
    national.position = 1;
    national.pattern = "0Z.";
    national.trunkIds = {1, 2};
    national.stripDigits = 1;
    national.prefix = "+49";
    national.callerId = "4930100";
    OutboundRoute disabled;
    disabled.id = 12;
    disabled.name = "off";
    disabled.position = 0;
    disabled.enabled = false;
    disabled.pattern = "!";
    disabled.trunkIds = {2};
    dir.routes = {intl, national, disabled};
  }
};

TEST_F(OutboundPlanTest, FirstEnabledMatchingRouteByPosition) {
  auto routes = dir.outboundRoutes();
  const OutboundRoute* r = findOutboundRoute(routes, "030123");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "national");  // "off" (position 0) is disabled
  r = findOutboundRoute(routes, "0044207");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->name, "international");  // "0Z." does not match 00...
  EXPECT_EQ(findOutboundRoute(routes, "123"), nullptr);
}

TEST_F(OutboundPlanTest, NationalCallPlanned) {
  auto d = planOutboundCall(dir, ext("201", db::CallPermission::national), "030123456", usage);
  ASSERT_TRUE(d.plan);
  EXPECT_FALSE(d.stop);
  EXPECT_EQ(d.plan->route.name, "national");
  EXPECT_EQ(d.plan->sendNumber, "+4930123456");
  EXPECT_EQ(d.plan->numberClass, NumberClass::national);
  ASSERT_EQ(d.plan->trunks.size(), 2u);
  EXPECT_EQ(d.plan->trunks[0].name, "main");
  EXPECT_EQ(outboundCallerId(d.plan->route, d.plan->trunks[0]), "4930100");  // route override
}

TEST_F(OutboundPlanTest, InternationalDeniedByDefaultClassifiedBeforeManipulation) {
  // The route strips "00" and adds "+": still international.
  auto d = planOutboundCall(dir, ext("201", db::CallPermission::national), "0044207", usage);
  EXPECT_FALSE(d.plan);
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.stop->status, 403);
  EXPECT_EQ(d.stop->reason, "Forbidden (international calls not allowed for 201)");
  auto ok = planOutboundCall(dir, ext("201", db::CallPermission::international), "0044207", usage);
  ASSERT_TRUE(ok.plan);
  EXPECT_EQ(ok.plan->sendNumber, "+44207");
  EXPECT_EQ(outboundCallerId(ok.plan->route, ok.plan->trunks[1]), "4930999");
  EXPECT_EQ(outboundCallerId(ok.plan->route, ok.plan->trunks[0]), "4930555");
}

TEST_F(OutboundPlanTest, FullTrunkSkippedAllFull503) {
  busy[1] = 2;  // main is at its max_calls
  auto d = planOutboundCall(dir, ext("201", db::CallPermission::national), "030123", usage);
  ASSERT_TRUE(d.plan);
  ASSERT_EQ(d.plan->trunks.size(), 1u);
  EXPECT_EQ(d.plan->trunks[0].name, "backup");
  dir.trunkList[1].maxCalls = 1;
  busy[2] = 1;
  d = planOutboundCall(dir, ext("201", db::CallPermission::national), "030123", usage);
  EXPECT_FALSE(d.plan);
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.stop->status, 503);
  EXPECT_EQ(d.stop->reason, "Service Unavailable (all trunks of route national are busy)");
  dir.trunkList[0].enabled = false;
  dir.trunkList[1].enabled = false;
  d = planOutboundCall(dir, ext("201", db::CallPermission::national), "030123", usage);
  EXPECT_EQ(d.stop->reason, "Service Unavailable (no enabled trunk for route national)");
}

TEST_F(OutboundPlanTest, OutsideCallLimitAndNoRoute) {
  OutboundUsage two{2, usage.trunkCalls};
  auto d = planOutboundCall(dir, ext("201", db::CallPermission::national, 2), "030123", two);
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.stop->reason, "Forbidden (201 reached its limit of 2 outside calls)");
  auto none = planOutboundCall(dir, ext("201", db::CallPermission::national), "123", usage);
  EXPECT_FALSE(none.plan);
  EXPECT_FALSE(none.stop);
  auto letters = planOutboundCall(dir, ext("201", db::CallPermission::national), "alice", usage);
  EXPECT_FALSE(letters.plan);
  EXPECT_FALSE(letters.stop);
}

TEST_F(OutboundPlanTest, RouteLeavingNoDigits) {
  dir.routes[1].stripDigits = 20;
  dir.routes[1].prefix = "";
  auto d = planOutboundCall(dir, ext("201", db::CallPermission::national), "030123", usage);
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.stop->status, 484);
  EXPECT_EQ(d.stop->reason, "Address Incomplete (route national leaves no digits)");
}

TEST_F(OutboundPlanTest, PremiumBlockedEvenForInternational) {
  dir.routes[1].pattern = "0.";
  auto d = planOutboundCall(dir, ext("204", db::CallPermission::international), "0900123", usage);
  ASSERT_TRUE(d.stop);
  EXPECT_EQ(d.stop->reason, "Forbidden (premium-rate numbers are blocked)");
}

}  // namespace
}  // namespace duplex::call
