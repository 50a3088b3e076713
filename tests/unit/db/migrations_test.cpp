// Schema migrations: applied once, in order, each all-or-nothing; a newer
// file is refused.
#include "db/migrations.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "db/database.h"
#include "db/sqlite_repositories.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDatabaseFile;

std::vector<std::string> tables(Database& db) {
  Statement s(db,
              "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
              "ORDER BY name");
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

// The built-in history plus test steps, so tests exercise upgrades from the
// real schema.
std::vector<Migration> builtinPlus(std::initializer_list<Migration> extra) {
  std::vector<Migration> all(builtinMigrations().begin(), builtinMigrations().end());
  all.insert(all.end(), extra);
  return all;
}

int nextVersion() {
  return static_cast<int>(builtinMigrations().size()) + 1;
}

TEST(Migrations, ApplyFromEmptyCreatesTheSchemaAndRecordsIt) {
  TempDatabaseFile file;
  Database db(file.path());
  EXPECT_EQ(db.schemaVersion(), static_cast<int>(builtinMigrations().size()));
  EXPECT_THAT(tables(db),
              ElementsAre("admin_tokens", "admin_users", "bindings", "call_records", "extensions",
                          "inbound_numbers", "outbound_route_trunks", "outbound_routes",
                          "schema_migrations", "secrets", "settings", "trunks"));
  Statement s(db, "SELECT version, description, applied_at FROM schema_migrations");
  ASSERT_TRUE(s.step());
  EXPECT_EQ(s.int32(0), 1);
  EXPECT_EQ(s.text(1), "initial schema");
  EXPECT_GT(s.int64(2), 1'600'000'000);  // a real unix time
}

TEST(Migrations, ReopeningAppliesNothingAndKeepsData) {
  TempDatabaseFile file;
  {
    Database db(file.path());
    SqliteSettingsRepository(db).set("sip.port", "5060", false);
  }
  Database again(file.path());
  EXPECT_EQ(again.schemaVersion(), static_cast<int>(builtinMigrations().size()));
  EXPECT_EQ(again.queryText("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(builtinMigrations().size()));
  EXPECT_EQ(SqliteSettingsRepository(again).get("sip.port")->value, "5060");
}

TEST(Migrations, UpgradeAppliesOnlyTheNewSteps) {
  TempDatabaseFile file;
  { Database db(file.path()); }
  const int v = nextVersion();
  const auto list =
      builtinPlus({{v, "add widgets", "CREATE TABLE widgets (id INTEGER PRIMARY KEY)"}});
  Database db(file.path(), DatabaseOptions{.migrations = list});
  EXPECT_EQ(db.schemaVersion(), v);
  EXPECT_THAT(tables(db), ::testing::Contains("widgets"));
  EXPECT_EQ(db.queryText("PRAGMA foreign_keys"), "1");  // back on after the migration
}

TEST(Migrations, FailedMigrationRollsBackAndNamesTheStep) {
  TempDatabaseFile file;
  const int good = nextVersion();
  const int bad = good + 1;
  {
    const auto first = builtinPlus({{good, "add routes", "CREATE TABLE routes (id INTEGER)"}});
    Database db(file.path(), DatabaseOptions{.migrations = first});
    SqliteSettingsRepository(db).set("kept", "yes", false);
  }
  // The failing step first changes the schema, then hits an error: the
  // change must not survive.
  const auto broken = builtinPlus({
      {good, "add routes", "CREATE TABLE routes (id INTEGER)"},
      {bad, "add widgets",
       "CREATE TABLE widgets (id INTEGER PRIMARY KEY);"
       "ALTER TABLE extensions ADD COLUMN widget_id INTEGER;"
       "INSERT INTO no_such_table VALUES (1);"},
  });
  try {
    Database db(file.path(), DatabaseOptions{.migrations = broken});
    FAIL() << "a failing migration was accepted";
  } catch (const MigrationError& e) {
    const std::string expected = "migration " + std::to_string(bad) +
                                 " (add widgets) failed: no such table: no_such_table; the "
                                 "database is unchanged at version " +
                                 std::to_string(good);
    EXPECT_THAT(e.what(), HasSubstr(expected));
    EXPECT_THAT(e.what(), HasSubstr(file.path()));
    EXPECT_EQ(e.failedVersion(), bad);
    EXPECT_EQ(e.databaseVersion(), good);
  }

  const auto known = builtinPlus({{good, "add routes", "CREATE TABLE routes (id INTEGER)"}});
  Database db(file.path(), DatabaseOptions{.migrations = known});
  EXPECT_EQ(db.schemaVersion(), good);
  EXPECT_THAT(tables(db), ::testing::Not(::testing::Contains("widgets")));
  EXPECT_EQ(db.queryText("SELECT COUNT(*) FROM pragma_table_info('extensions') "
                         "WHERE name = 'widget_id'"),
            "0");
  EXPECT_EQ(SqliteSettingsRepository(db).get("kept")->value, "yes");
  EXPECT_EQ(db.queryText("PRAGMA integrity_check"), "ok");
}

TEST(Migrations, MigrationLeavingDanglingForeignKeysIsRejected) {
  TempDatabaseFile file;
  const int v = nextVersion();
  const auto list = builtinPlus(
      {{v, "orphan binding",
        "INSERT INTO bindings (extension_id, aor, contact_uri, call_id, cseq, expires_at, "
        "transport, local_ip, local_port, source_ip, source_port, updated_at) "
        "VALUES (999, 'a', 'c', 'i', 1, 1, 'udp', 'l', 1, 's', 1, 1)"}});
  try {
    Database db(file.path(), DatabaseOptions{.migrations = list});
    FAIL() << "a migration broke referential integrity";
  } catch (const MigrationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("violate a foreign key to extensions"));
  }
  Database db(file.path());
  EXPECT_EQ(db.queryText("SELECT COUNT(*) FROM bindings"), "0");
}

TEST(Migrations, NewerDatabaseIsRefused) {
  TempDatabaseFile file;
  const int v = nextVersion();
  {
    const auto newer = builtinPlus({{v, "from the future", "CREATE TABLE future (x)"}});
    Database db(file.path(), DatabaseOptions{.migrations = newer});
  }
  try {
    Database db(file.path());
    FAIL() << "opened a database newer than the binary";
  } catch (const SchemaTooNewError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.path()));
    EXPECT_THAT(e.what(), HasSubstr("is at schema version " + std::to_string(v)));
    EXPECT_THAT(e.what(), HasSubstr("knows only versions up to " + std::to_string(v - 1)));
    EXPECT_EQ(e.databaseVersion(), v);
    EXPECT_EQ(e.knownVersion(), v - 1);
  }
}

TEST(Migrations, OutOfOrderListIsAProgrammingError) {
  const std::vector<Migration> list{{1, "a", "CREATE TABLE a (x)"}, {3, "c", "CREATE TABLE c (x)"}};
  try {
    Database db(":memory:", DatabaseOptions{.migrations = list});
    FAIL() << "accepted a gap in the migration list";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("found version 3 where 2 was expected"));
  }
}

TEST(Migrations, SecondConnectionOnAMigratedFileDoesNothing) {
  TempDatabaseFile file;
  Database first(file.path());
  Database second(file.path());
  EXPECT_EQ(second.schemaVersion(), static_cast<int>(builtinMigrations().size()));
  EXPECT_EQ(second.queryText("SELECT COUNT(*) FROM schema_migrations"),
            std::to_string(builtinMigrations().size()));
}

}  // namespace
}  // namespace duplex::db
