// The connection, statements and transactions: what every repository relies on.
#include "db/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "test_support.h"

namespace duplex::db {
namespace {

using ::testing::HasSubstr;
using testing::TempDatabaseFile;

TEST(Database, FileDatabaseRunsInWalModeWithForeignKeysAndNormalSync) {
  TempDatabaseFile file;
  Database db(file.path());
  EXPECT_EQ(db.queryText("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(db.queryText("PRAGMA foreign_keys"), "1");
  EXPECT_EQ(db.queryText("PRAGMA synchronous"), "1");  // NORMAL
  EXPECT_EQ(db.queryText("PRAGMA busy_timeout"), "5000");
}

TEST(Database, WalModeIsPersistentForOtherConnections) {
  TempDatabaseFile file;
  { Database db(file.path()); }
  // A plain connection that never asked for WAL sees it: the mode is stored
  // in the file, so tools like the sqlite3 shell do not undo it.
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(file.path().c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST(Database, InMemoryDatabaseWorks) {
  Database db(":memory:");
  EXPECT_EQ(db.schemaVersion(), static_cast<int>(builtinMigrations().size()));
  EXPECT_EQ(db.queryText("PRAGMA journal_mode"), "memory");
}

TEST(Database, OpenFailureNamesThePath) {
  try {
    Database db("/nonexistent-dir/duplex.db");
    FAIL() << "opened a file in a missing directory";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent-dir/duplex.db"));
    EXPECT_THAT(e.what(), HasSubstr("open"));
  }
}

TEST(Database, PrepareErrorNamesPathAndSql) {
  TempDatabaseFile file;
  Database db(file.path());
  try {
    Statement s(db, "SELECT nope FROM extensions");
    FAIL() << "prepared invalid SQL";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr(file.path()));
    EXPECT_THAT(e.what(), HasSubstr("prepare `SELECT nope FROM extensions`"));
    EXPECT_THAT(e.what(), HasSubstr("no such column: nope"));
  }
}

TEST(Database, StatementBindsAndReadsEveryType) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)");
  const std::vector<std::uint8_t> bytes{0, 1, 2, 255};
  Statement insert(db, "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
  insert.bind(1, std::int64_t{1} << 40)
      .bind(2, 0.5)
      .bind(3, std::string("x\0y", 3))
      .bind(4, std::span<const std::uint8_t>(bytes))
      .bind(5, std::optional<std::string>{})
      .run();

  Statement select(db, "SELECT i, r, s, b, n FROM t");
  ASSERT_TRUE(select.step());
  EXPECT_EQ(select.int64(0), std::int64_t{1} << 40);
  EXPECT_EQ(select.real(1), 0.5);
  EXPECT_EQ(select.text(2), std::string("x\0y", 3));  // embedded NUL survives
  EXPECT_EQ(select.blob(3), bytes);
  EXPECT_TRUE(select.isNull(4));
  EXPECT_EQ(select.optionalText(4), std::nullopt);
  EXPECT_FALSE(select.step());
}

TEST(Database, StatementIsReusableAfterReset) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (v INTEGER)");
  Statement insert(db, "INSERT INTO t VALUES (?1)");
  for (int i = 0; i < 3; ++i) {
    insert.reset();
    insert.bind(1, i).run();
  }
  EXPECT_EQ(db.queryText("SELECT SUM(v) FROM t"), "3");
}

TEST(Database, TransactionRollsBackUnlessCommitted) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (v INTEGER)");
  {
    Transaction tx(db);
    db.exec("INSERT INTO t VALUES (1)");
  }
  EXPECT_EQ(db.queryText("SELECT COUNT(*) FROM t"), "0");
  {
    Transaction tx(db);
    db.exec("INSERT INTO t VALUES (1)");
    tx.commit();
  }
  EXPECT_EQ(db.queryText("SELECT COUNT(*) FROM t"), "1");
  EXPECT_FALSE(db.inTransaction());
}

TEST(Database, NestedTransactionIsASavepoint) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (v INTEGER)");
  {
    Transaction outer(db);
    db.exec("INSERT INTO t VALUES (1)");
    {
      Transaction inner(db);
      db.exec("INSERT INTO t VALUES (2)");
      // not committed: only the inner insert is undone
    }
    {
      Transaction inner(db);
      db.exec("INSERT INTO t VALUES (3)");
      inner.commit();
    }
    EXPECT_TRUE(db.inTransaction());
    outer.commit();
  }
  EXPECT_EQ(db.queryText("SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY v)"), "1,3");
}

TEST(Database, UniqueViolationIsADuplicateKeyError) {
  Database db(":memory:");
  db.exec("CREATE TABLE t (v INTEGER UNIQUE)");
  db.exec("INSERT INTO t VALUES (1)");
  Statement again(db, "INSERT INTO t VALUES (1)");
  EXPECT_THROW(again.run(), DuplicateKeyError);
}

TEST(Database, SecondWriterWaitsForTheFirstInsteadOfFailing) {
  TempDatabaseFile file;
  Database a(file.path());
  Database b(file.path(), DatabaseOptions{.busyTimeout = std::chrono::milliseconds(50)});
  Transaction holdsWriteLock(a);
  // BEGIN IMMEDIATE takes the write lock up front, so the second writer
  // fails at BEGIN after its busy timeout, before doing any work.
  try {
    Transaction second(b);
    FAIL() << "two write transactions at once";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("BEGIN IMMEDIATE"));
    EXPECT_THAT(e.what(), HasSubstr("locked"));
  }
}

}  // namespace
}  // namespace duplex::db
