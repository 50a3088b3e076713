// SettingsRepository and SecretRepository on SQLite.
#include <gtest/gtest.h>

#include "db/secret_repository.h"
#include "db/settings_repository.h"
#include "db/sqlite_repositories.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using testing::TempDatabaseFile;

TEST(SqliteSettingsRepository, SetGetReplaceAllRemove) {
  Database db(":memory:");
  SqliteSettingsRepository settings(db);
  EXPECT_EQ(settings.get("sip.port"), std::nullopt);

  settings.set("sip.port", "5060", false);
  settings.set("trunk.password", "hunter2", true);
  settings.set("sip.port", "5070", false);  // replaces

  const auto port = settings.get("sip.port");
  ASSERT_TRUE(port);
  EXPECT_EQ(port->value, "5070");
  EXPECT_FALSE(port->secret);
  EXPECT_GT(port->updatedAt, 0);

  const auto all = settings.all();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].key, "sip.port");  // ordered by key
  EXPECT_EQ(all[1].key, "trunk.password");
  EXPECT_TRUE(all[1].secret);

  EXPECT_TRUE(settings.remove("sip.port"));
  EXPECT_FALSE(settings.remove("sip.port"));
  EXPECT_EQ(settings.all().size(), 1u);
}

TEST(SqliteSettingsRepository, SecretFlagCanBeCleared) {
  Database db(":memory:");
  SqliteSettingsRepository settings(db);
  settings.set("k", "v", true);
  settings.set("k", "v", false);
  EXPECT_FALSE(settings.get("k")->secret);
}

TEST(SqliteSecretRepository, CreatedOnceThenStableAcrossConnections) {
  TempDatabaseFile file;
  std::vector<std::uint8_t> first;
  {
    Database db(file.path());
    SqliteSecretRepository secrets(db);
    EXPECT_EQ(secrets.get("nonce-hmac"), std::nullopt);
    first = secrets.getOrCreate("nonce-hmac", 32);
    EXPECT_EQ(first.size(), 32u);
    EXPECT_EQ(secrets.getOrCreate("nonce-hmac", 32), first);
  }
  Database db(file.path());
  SqliteSecretRepository secrets(db);
  EXPECT_EQ(secrets.get("nonce-hmac"), first);
  EXPECT_EQ(secrets.getOrCreate("nonce-hmac", 64), first);  // existing wins
}

TEST(SqliteSecretRepository, DifferentNamesGetDifferentRandomValues) {
  Database db(":memory:");
  SqliteSecretRepository secrets(db);
  const auto a = secrets.getOrCreate("a", 32);
  const auto b = secrets.getOrCreate("b", 32);
  EXPECT_NE(a, b);
  EXPECT_NE(a, std::vector<std::uint8_t>(32, 0));
}

TEST(SqliteSecretRepository, ZeroSizeIsRefused) {
  Database db(":memory:");
  SqliteSecretRepository secrets(db);
  EXPECT_THROW(secrets.getOrCreate("a", 0), DbError);
}

}  // namespace
}  // namespace duplex::db
