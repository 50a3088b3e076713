// Settings the admin changes while the PBX runs (pbx/app/admin_wiring.h):
// which ones reach the running relay and NAT service, with which values, and
// which are reported as needing a restart — as the PATCH answer tells the
// admin.
#include <gtest/gtest.h>

#include <algorithm>

#include "db/database.h"
#include "db/sqlite_repositories.h"
#include "pbx/app/admin_wiring.h"
#include "test_support.h"

namespace duplex::app {
namespace {

using admin::SettingChange;

class LiveSettings : public ::testing::Test {
 protected:
  LiveSettingTargets targets() {
    LiveSettingTargets t;
    t.setUpnp = [this](bool on) {
      upnp.push_back(on);
      return natRunning;
    };
    t.rtpRange = [this]() -> std::optional<std::pair<std::uint16_t, std::uint16_t>> {
      return range;
    };
    t.setRtpRange = [this](std::uint16_t min, std::uint16_t max) -> std::string {
      if (!refuse.empty()) return refuse;
      range = {min, max};
      return "";
    };
    return t;
  }
  RegistrarLiveChanges live{[](auto) { return false; }, {}, targets()};
  std::vector<bool> upnp;
  bool natRunning = true;
  std::pair<std::uint16_t, std::uint16_t> range{10000, 20000};
  std::string refuse;
};

bool has(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

TEST_F(LiveSettings, UpnpOnOffReachesTheNatService) {
  EXPECT_EQ(live.settingsChanged({{"nat.upnp", "false"}}), std::vector<std::string>{"nat.upnp"});
  EXPECT_EQ(live.settingsChanged({{"nat.upnp", "true"}}), std::vector<std::string>{"nat.upnp"});
  EXPECT_EQ(upnp, (std::vector<bool>{false, true}));
  natRunning = false;  // NAT traversal not running: at the next start
  EXPECT_TRUE(live.settingsChanged({{"nat.upnp", "false"}}).empty());
  // Back to the default (null): the default is duplex.conf's, read at start.
  EXPECT_TRUE(live.settingsChanged({{"nat.upnp", std::nullopt}}).empty());
  EXPECT_EQ(upnp.size(), 3u);
}

TEST_F(LiveSettings, OneEndOfTheRtpRangeMovesWithTheOtherEndAsItRuns) {
  auto applied = live.settingsChanged({{"media.rtp_port_min", "12000"}});
  EXPECT_EQ(applied, std::vector<std::string>{"media.rtp_port_min"});
  EXPECT_EQ(range, (std::pair<std::uint16_t, std::uint16_t>{12000, 20000}));
  applied = live.settingsChanged({{"media.rtp_port_max", "12999"}, {"log.level", "info"}});
  EXPECT_TRUE(has(applied, "media.rtp_port_max"));
  EXPECT_TRUE(has(applied, "log.level"));
  EXPECT_EQ(range, (std::pair<std::uint16_t, std::uint16_t>{12000, 12999}));
}

TEST_F(LiveSettings, WhatTheRelayRefusesOrADefaultNeedsARestart) {
  refuse = "media port range 30000-30000 holds no even/odd RTP/RTCP port pair";
  EXPECT_TRUE(live.settingsChanged({{"media.rtp_port_min", "30000"}}).empty());
  refuse.clear();
  EXPECT_TRUE(
      live.settingsChanged({{"media.rtp_port_min", "11000"}, {"media.rtp_port_max", std::nullopt}})
          .empty());
  EXPECT_EQ(range, (std::pair<std::uint16_t, std::uint16_t>{10000, 20000}));
  // Keys nothing applies live.
  EXPECT_TRUE(live.settingsChanged({{"sip.port", "5070"},
                                    {"local_networks", "10.0.0.0/8"},
                                    {"registrar.realm", "pbx.example"}})
                  .empty());
}

TEST_F(LiveSettings, ARangeWithoutAPairAgainstTheRunningRangeIsRefusedBeforeStoring) {
  auto problem = live.checkSettings({{"media.rtp_port_min", "30000"}});
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "media.rtp_port_min");
  EXPECT_EQ(problem->detail,
            "media.rtp_port_min must be below media.rtp_port_max with room for one RTP/RTCP "
            "pair: 30000-20000 (the relay runs with 10000-20000)");
  problem = live.checkSettings({{"media.rtp_port_max", "10000"}});
  ASSERT_TRUE(problem);
  EXPECT_EQ(problem->field, "media.rtp_port_max");
  EXPECT_FALSE(live.checkSettings({{"media.rtp_port_min", "19998"}}));  // 19998/19999 fit
  EXPECT_FALSE(
      live.checkSettings({{"media.rtp_port_min", "30000"}, {"media.rtp_port_max", "30001"}}));
  EXPECT_FALSE(live.checkSettings({{"sip.port", "5070"}}));
}

// A database written by an earlier admin API that stored the 3xx policy as a
// boolean still starts with its settings (not "ignoring the settings stored").
TEST(StoredSettings, ABooleanRedirectPolicyReadsAsOffOrInternal) {
  test::ScratchDir dir;
  const std::string path = dir.file("duplex.db");
  {
    db::Database db(path);
    db::SqliteSettingsRepository repo(db);
    repo.set("call.follow_redirects", "true", false);
    repo.set("media.rtp_port_min", "12000", false);
  }
  RawValues values = storedSettings(path);
  EXPECT_EQ(values.at("call.follow_redirects").value, "internal");
  EXPECT_EQ(values.at("media.rtp_port_min").value, "12000");
  const Config config = resolveConfig(values);
  EXPECT_TRUE(config.sip.call.follow_redirects_internal);
  EXPECT_EQ(config.nat.rtp_port_min, 12000);
}

}  // namespace
}  // namespace duplex::app
