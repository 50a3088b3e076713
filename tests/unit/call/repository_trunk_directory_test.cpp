// RepositoryTrunkDirectory over the SQLite repositories: what call control
// and the registration client read is what the admin API stored, including
// the dialing.* settings, and reload() picks up changes.
#include "pbx/call/repository_trunk_directory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "db/sqlite_repositories.h"

namespace duplex::call {
namespace {

using ::testing::ElementsAre;

class TrunkDirectoryTest : public ::testing::Test {
 protected:
  db::Database db{":memory:"};
  db::SqliteTrunkRepository trunks{db};
  db::SqliteOutboundRouteRepository routes{db};
  db::SqliteInboundNumberRepository numbers{db};
  db::SqliteSettingsRepository settings{db};
  db::SqliteExtensionRepository extensions{db};
  TrunkSources sources{trunks, routes, numbers, settings};

  std::int64_t addTrunk(const std::string& name) {
    db::TrunkRecord t;
    t.name = name;
    t.host = "198.51.100.20";
    t.username = "4930123";
    t.password = "pw";
    t.authUsername = "auth";
    t.realm = "provider.example";
    t.maxCalls = 2;
    t.codecs = {"PCMA"};
    t.extraAddresses = {"198.51.100.0/24"};
    return trunks.insert(t).id;
  }
};

TEST_F(TrunkDirectoryTest, ServesWhatIsStored) {
  const auto a = addTrunk("a");
  const auto b = addTrunk("b");
  db::OutboundRouteRecord r;
  r.name = "international";
  r.position = 20;
  r.pattern = "00X.";
  r.trunkIds = {b, a};
  r.stripDigits = 2;
  r.prefix = "+";
  routes.insert(r);
  r.name = "national";
  r.position = 10;
  r.pattern = "0Z.";
  r.trunkIds = {a};
  routes.insert(r);
  db::ExtensionRecord e;
  e.number = "101";
  e.ha1Md5 = e.ha1Sha256 = e.realm = "x";
  db::InboundNumberRecord did;
  did.number = "4930123456";
  did.extensionId = extensions.insert(e).id;
  did.trunkId = a;
  numbers.insert(did);

  RepositoryTrunkDirectory directory(sources);
  ASSERT_EQ(directory.trunks().size(), 2u);
  const auto t = *directory.trunk(a);
  EXPECT_EQ(t.name, "a");
  EXPECT_EQ(t.password, "pw");
  EXPECT_EQ(t.authUsername, "auth");
  EXPECT_EQ(t.maxCalls, 2);
  EXPECT_THAT(t.codecs, ElementsAre("PCMA"));
  EXPECT_THAT(t.extraAddresses, ElementsAre("198.51.100.0/24"));
  EXPECT_EQ(directory.trunk(999), std::nullopt);
  const auto rs = directory.outboundRoutes();
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].name, "national");
  EXPECT_EQ(rs[1].name, "international");
  EXPECT_THAT(rs[1].trunkIds, ElementsAre(b, a));
  EXPECT_EQ(rs[1].stripDigits, 2);
  EXPECT_EQ(rs[1].prefix, "+");
  const auto n = directory.inboundNumber("4930123456");
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(n->extension, "101");
  EXPECT_EQ(n->trunkId, a);
  EXPECT_EQ(directory.inboundNumber("4930999"), std::nullopt);
}

TEST_F(TrunkDirectoryTest, DialingRulesDefaultUntilSet) {
  RepositoryTrunkDirectory directory(sources);
  const DialingRules defaults;
  EXPECT_EQ(directory.dialingRules().internationalPrefixes, defaults.internationalPrefixes);
  EXPECT_FALSE(directory.dialingRules().allowPremium);

  settings.set("dialing.international_prefixes", "011,+", false);
  settings.set("dialing.premium_prefixes", "", false);
  settings.set("dialing.national_prefix", "1", false);
  settings.set("dialing.inbound_default", "100", false);
  settings.set("dialing.allow_premium", "true", false);
  directory.reload(sources);
  const auto rules = directory.dialingRules();
  EXPECT_THAT(rules.internationalPrefixes, ElementsAre("011", "+"));
  EXPECT_TRUE(rules.premiumPrefixes.empty());
  EXPECT_EQ(rules.nationalPrefix, "1");
  EXPECT_EQ(rules.inboundDefault, "100");
  EXPECT_TRUE(rules.allowPremium);
}

TEST_F(TrunkDirectoryTest, ReloadSeesChangesAndDeletions) {
  const auto a = addTrunk("a");
  RepositoryTrunkDirectory directory(sources);
  auto stored = *trunks.findById(a);
  stored.host = "203.0.113.50";
  trunks.update(stored);
  addTrunk("c");
  directory.reload(sources);
  EXPECT_EQ(directory.trunk(a)->host, "203.0.113.50");
  EXPECT_EQ(directory.trunks().size(), 2u);
  trunks.remove(a);
  directory.reload(sources);
  EXPECT_EQ(directory.trunk(a), std::nullopt);
}

}  // namespace
}  // namespace duplex::call
