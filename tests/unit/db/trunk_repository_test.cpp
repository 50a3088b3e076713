// Trunks, outbound routes and inbound numbers over SQLite: every field
// round-trips, the order the PBX relies on (routes by position, trunks of a
// route by preference), and the referential rules the admin API reports
// (a trunk in use is not deleted; an extension's numbers go with it).
#include "db/trunk_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "db/sqlite_repositories.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::sampleExtension;
using testing::TempDatabaseFile;

TrunkRecord sampleTrunk(std::string name) {
  TrunkRecord t;
  t.name = std::move(name);
  t.enabled = false;
  t.host = "sip.provider.example";
  t.port = 5080;
  t.transport = "tcp";
  t.username = "4930123";
  t.password = "s3cret!pw";
  t.authUsername = "auth-4930123";
  t.realm = "provider.example";
  t.registration = false;
  t.registerIntervalSeconds = 120;
  t.outboundProxy = "proxy.provider.example:5070";
  t.callerId = "+4930123";
  t.maxCalls = 4;
  t.codecs = {"PCMA", "PCMU", "G722"};
  t.fromDomain = "voip.provider.example";
  t.fromUser = "4930123-0";
  t.extraAddresses = {"198.51.100.10", "198.51.100.64/26"};
  return t;
}

class TrunkRepositories : public ::testing::Test {
 protected:
  TempDatabaseFile file;
  Database db{file.path()};
  SqliteTrunkRepository trunks{db};
  SqliteOutboundRouteRepository routes{db};
  SqliteInboundNumberRepository numbers{db};
  SqliteExtensionRepository extensions{db};

  OutboundRouteRecord route(std::string name, int position, std::vector<std::int64_t> trunkIds) {
    OutboundRouteRecord r;
    r.name = std::move(name);
    r.position = position;
    r.pattern = "0X.";
    r.trunkIds = std::move(trunkIds);
    r.stripDigits = 1;
    r.prefix = "+49";
    r.callerId = "+49301230";
    return r;
  }
};

TEST_F(TrunkRepositories, TrunkRoundTripsEveryField) {
  const TrunkRecord stored = trunks.insert(sampleTrunk("provider-a"));
  EXPECT_GT(stored.id, 0);
  EXPECT_GT(stored.createdAt, 1'600'000'000);
  TrunkRecord expected = sampleTrunk("provider-a");
  expected.id = stored.id;
  expected.createdAt = stored.createdAt;
  expected.updatedAt = stored.updatedAt;
  EXPECT_EQ(stored, expected);
  EXPECT_EQ(trunks.findById(stored.id), expected);
  EXPECT_THAT(trunks.list(), ElementsAre(expected));
}

TEST_F(TrunkRepositories, TrunkDefaultsMatchTheSchema) {
  TrunkRecord minimal;
  minimal.name = "min";
  minimal.host = "198.51.100.5";
  minimal.username = "u";
  minimal.password = "p";
  const TrunkRecord stored = trunks.insert(minimal);
  EXPECT_TRUE(stored.enabled);
  EXPECT_TRUE(stored.registration);
  EXPECT_EQ(stored.port, 5060);
  EXPECT_EQ(stored.transport, "udp");
  EXPECT_EQ(stored.registerIntervalSeconds, 600);
  EXPECT_EQ(stored.maxCalls, std::nullopt);
  EXPECT_TRUE(stored.codecs.empty());
  EXPECT_TRUE(stored.extraAddresses.empty());
}

TEST_F(TrunkRepositories, TrunkUpdateReplacesFieldsAndDuplicateNameIsAConflict) {
  TrunkRecord a = trunks.insert(sampleTrunk("a"));
  trunks.insert(sampleTrunk("b"));
  a.host = "203.0.113.9";
  a.maxCalls.reset();
  a.codecs = {"PCMU"};
  EXPECT_TRUE(trunks.update(a));
  const auto again = trunks.findById(a.id);
  EXPECT_EQ(again->host, "203.0.113.9");
  EXPECT_EQ(again->maxCalls, std::nullopt);
  EXPECT_THAT(again->codecs, ElementsAre("PCMU"));

  a.name = "b";
  try {
    trunks.update(a);
    FAIL() << "renamed a trunk onto another's name";
  } catch (const DuplicateKeyError& e) {
    EXPECT_THAT(e.what(), HasSubstr("trunk b already exists"));
  }
  EXPECT_THROW(trunks.insert(sampleTrunk("a")), DuplicateKeyError);
  TrunkRecord ghost = sampleTrunk("ghost");
  ghost.id = 999;
  EXPECT_FALSE(trunks.update(ghost));
}

TEST_F(TrunkRepositories, RoutesComeInPositionOrderWithTrunksInPreferenceOrder) {
  const auto a = trunks.insert(sampleTrunk("a")).id;
  const auto b = trunks.insert(sampleTrunk("b")).id;
  const auto intl = routes.insert(route("international", 20, {b, a}));
  const auto national = routes.insert(route("national", 10, {a}));
  EXPECT_THAT(intl.trunkIds, ElementsAre(b, a));
  EXPECT_EQ(intl.stripDigits, 1);
  EXPECT_EQ(intl.prefix, "+49");
  EXPECT_EQ(intl.callerId, "+49301230");
  EXPECT_EQ(intl.pattern, "0X.");
  const auto all = routes.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], national);
  EXPECT_EQ(all[1], intl);

  OutboundRouteRecord changed = intl;
  changed.position = 5;
  changed.trunkIds = {a, b};
  EXPECT_TRUE(routes.update(changed));
  EXPECT_EQ(routes.list()[0].name, "international");
  EXPECT_THAT(routes.findById(intl.id)->trunkIds, ElementsAre(a, b));
  EXPECT_THAT(routes.routesUsing(b), ElementsAre("international"));
  EXPECT_THAT(routes.routesUsing(a), ElementsAre("international", "national"));
}

TEST_F(TrunkRepositories, RouteWithAnUnknownTrunkIsRefusedAndLeavesNothing) {
  EXPECT_THROW(routes.insert(route("r", 1, {42})), DbError);
  EXPECT_TRUE(routes.list().empty());
  const auto a = trunks.insert(sampleTrunk("a")).id;
  EXPECT_THROW(routes.insert(route("r", 1, {a, a})), DbError);
  EXPECT_TRUE(routes.list().empty());
  routes.insert(route("r", 1, {a}));
  EXPECT_THROW(routes.insert(route("r", 2, {a})), DuplicateKeyError);
}

TEST_F(TrunkRepositories, TrunkInUseIsNotRemovedAndTheErrorNamesItsUsers) {
  const auto a = trunks.insert(sampleTrunk("a")).id;
  const auto ext = extensions.insert(sampleExtension("101")).id;
  routes.insert(route("national", 10, {a}));
  InboundNumberRecord did;
  did.number = "4930123";
  did.extensionId = ext;
  did.trunkId = a;
  numbers.insert(did);
  try {
    trunks.remove(a);
    FAIL() << "removed a trunk in use";
  } catch (const TrunkInUseError& e) {
    EXPECT_THAT(e.users(), ElementsAre("outbound route national", "inbound number 4930123"));
    EXPECT_THAT(e.what(), HasSubstr("used by outbound route national, inbound number 4930123"));
  }
  EXPECT_TRUE(trunks.findById(a).has_value());

  routes.remove(routes.list()[0].id);
  numbers.remove(numbers.list()[0].id);
  EXPECT_TRUE(trunks.remove(a));
  EXPECT_FALSE(trunks.remove(a));
}

TEST_F(TrunkRepositories, InboundNumbersNameTheirExtensionAndGoWithIt) {
  const auto ext = extensions.insert(sampleExtension("101")).id;
  const auto other = extensions.insert(sampleExtension("102")).id;
  InboundNumberRecord did;
  did.number = "+4930123456";
  did.extensionId = ext;
  const auto stored = numbers.insert(did);
  EXPECT_EQ(stored.extensionNumber, "101");
  EXPECT_EQ(stored.trunkId, std::nullopt);
  EXPECT_EQ(numbers.findByNumber("+4930123456"), stored);
  EXPECT_EQ(numbers.findByNumber("4930123456"), std::nullopt);
  EXPECT_THROW(numbers.insert(did), DuplicateKeyError);

  InboundNumberRecord moved = stored;
  moved.extensionId = other;
  EXPECT_TRUE(numbers.update(moved));
  EXPECT_EQ(numbers.findById(stored.id)->extensionNumber, "102");

  InboundNumberRecord dangling = did;
  dangling.number = "999";
  dangling.extensionId = 777;
  EXPECT_THROW(numbers.insert(dangling), DbError);

  extensions.remove(other);
  EXPECT_TRUE(numbers.list().empty());
}

}  // namespace
}  // namespace duplex::db
