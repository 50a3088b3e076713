// DynDNS decisions: every dyndns2 answer, one update per address change,
// never a loop, the request the provider sees.
#include <gtest/gtest.h>

#include "fakes/fake_dyndns_http.h"
#include "nat/dyndns.h"

namespace duplex::nat {
namespace {

using fakes::FakeDynDnsHttp;
using std::chrono::minutes;
using std::chrono::seconds;

DynDnsSettings settings() {
  DynDnsSettings s;
  s.url = "https://members.dyndns.org/nic/update";
  s.hostname = "office.example.org";
  s.user = "alice";
  s.password = "s3cret";
  s.min_interval = seconds(600);
  return s;
}

TEST(DynDns, GoodUpdateSendsOneRequestWithAuthAndAgent) {
  ManualClock clock;
  FakeDynDnsHttp http;
  http.body = "good 203.0.113.7";
  DynDnsUpdater updater(http, clock, settings(), "Duplex PBX/0.1.0");
  updater.onPublicAddress("203.0.113.7");
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(http.requests[0].url,
            "https://members.dyndns.org/nic/update?hostname=office.example.org&myip=203.0.113.7");
  EXPECT_EQ(http.requests[0].user, "alice");
  EXPECT_EQ(http.requests[0].password, "s3cret");
  EXPECT_EQ(http.requests[0].user_agent, "Duplex PBX/0.1.0");
  EXPECT_EQ(updater.status().last_result, "good");
  EXPECT_EQ(updater.status().last_address, "203.0.113.7");
  EXPECT_NE(updater.status().last_success, WallTime{});
  // Same address again, many times: nothing more is sent.
  for (int i = 0; i < 100; ++i) {
    clock.advance(minutes(60));
    updater.onPublicAddress("203.0.113.7");
    updater.tick();
  }
  EXPECT_EQ(http.requests.size(), 1u);
}

TEST(DynDns, AddressChangeGivesExactlyOneUpdateRespectingTheMinimumInterval) {
  ManualClock clock;
  FakeDynDnsHttp http;
  http.body = "good";
  DynDnsUpdater updater(http, clock, settings(), "ua");
  updater.onPublicAddress("203.0.113.7");
  clock.advance(seconds(60));
  updater.onPublicAddress("203.0.113.8");  // within min_interval: deferred
  EXPECT_EQ(http.requests.size(), 1u);
  EXPECT_EQ(updater.nextDue(), clock.now() + seconds(540));
  clock.advance(seconds(540));
  updater.tick();
  ASSERT_EQ(http.requests.size(), 2u);
  EXPECT_NE(http.requests[1].url.find("myip=203.0.113.8"), std::string::npos);
  clock.advance(minutes(60));
  updater.tick();
  EXPECT_EQ(http.requests.size(), 2u);
}

TEST(DynDns, NochgIsFine) {
  ManualClock clock;
  FakeDynDnsHttp http;
  http.body = "nochg 203.0.113.7\n";
  DynDnsUpdater updater(http, clock, settings(), "ua");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_EQ(updater.status().last_result, "nochg");
  EXPECT_FALSE(updater.status().stopped);
  clock.advance(minutes(60));
  updater.onPublicAddress("203.0.113.7");
  EXPECT_EQ(http.requests.size(), 1u);
}

class DynDnsFatal : public testing::TestWithParam<const char*> {};

TEST_P(DynDnsFatal, StopsUntilTheSettingsChange) {
  ManualClock clock;
  FakeDynDnsHttp http;
  http.body = GetParam();
  DynDnsUpdater updater(http, clock, settings(), "ua");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_TRUE(updater.status().stopped);
  EXPECT_EQ(updater.status().last_result, GetParam());
  EXPECT_NE(updater.status().text.find("updates stopped"), std::string::npos);
  for (int i = 0; i < 48; ++i) {
    clock.advance(minutes(60));
    updater.onPublicAddress(i % 2 ? "203.0.113.7" : "203.0.113.9");
    updater.tick();
  }
  EXPECT_EQ(http.requests.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Codes, DynDnsFatal,
                         testing::Values("badauth", "notfqdn", "nohost", "numhost", "abuse",
                                         "badagent", "!donator"));

class DynDnsRetry : public testing::TestWithParam<std::pair<int, const char*>> {};

TEST_P(DynDnsRetry, RetriesAfterThirtyMinutesNotBefore) {
  ManualClock clock;
  FakeDynDnsHttp http;
  http.status = GetParam().first;
  http.body = GetParam().second;
  DynDnsUpdater updater(http, clock, settings(), "ua");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_FALSE(updater.status().stopped);
  EXPECT_NE(updater.status().text.find("retrying in 30 minutes"), std::string::npos)
      << updater.status().text;
  clock.advance(minutes(29));
  updater.tick();
  EXPECT_EQ(http.requests.size(), 1u);
  clock.advance(minutes(1));
  updater.tick();
  EXPECT_EQ(http.requests.size(), 2u);
  http.status = 200;
  http.body = "good";
  clock.advance(minutes(30));
  updater.tick();
  EXPECT_EQ(http.requests.size(), 3u);
  EXPECT_EQ(updater.status().last_result, "good");
}

INSTANTIATE_TEST_SUITE_P(Answers, DynDnsRetry,
                         testing::Values(std::pair{200, "dnserr"}, std::pair{200, "911"},
                                         std::pair{200, "<html>garbage\x01</html>"},
                                         std::pair{500, ""}, std::pair{0, ""}));

TEST(DynDns, GarbageIsShownSafely) {
  ManualClock clock;
  FakeDynDnsHttp http;
  http.body = std::string("\x01\x02zzz", 5);
  DynDnsUpdater updater(http, clock, settings(), "ua");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_EQ(updater.status().last_result, "garbage");
  EXPECT_EQ(updater.status().text.find('\x01'), std::string::npos);
}

TEST(DynDns, OffWhenNoUrlOrHostname) {
  ManualClock clock;
  FakeDynDnsHttp http;
  auto s = settings();
  s.hostname.clear();
  DynDnsUpdater updater(http, clock, s, "ua");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_TRUE(http.requests.empty());
  EXPECT_FALSE(updater.status().enabled);
}

TEST(DynDns, NameAlreadyRightInDnsAfterARestartSendsNothingUntilTheAddressChanges) {
  ManualClock clock;
  FakeDynDnsHttp http;
  DynDnsUpdater updater(http, clock, settings(), "ua");
  updater.alreadyPublished("203.0.113.7");
  updater.onPublicAddress("203.0.113.7");
  EXPECT_TRUE(http.requests.empty());
  EXPECT_EQ(updater.status().last_result, "dns");
  updater.onPublicAddress("203.0.113.8");
  ASSERT_EQ(http.requests.size(), 1u);
  EXPECT_NE(http.requests[0].url.find("myip=203.0.113.8"), std::string::npos);
}

TEST(DynDns, Presets) {
  EXPECT_EQ(dynDnsPresetUrl("dyndns"), "https://members.dyndns.org/nic/update");
  EXPECT_EQ(dynDnsPresetUrl("noip"), "https://dynupdate.no-ip.com/nic/update");
  EXPECT_EQ(dynDnsPresetUrl("http://10.0.0.1:8245/nic/update"), "http://10.0.0.1:8245/nic/update");
}

}  // namespace
}  // namespace duplex::nat
