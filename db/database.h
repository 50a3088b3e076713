// A connection to the Duplex SQLite database, prepared statements and
// transactions. For: the db/ repositories and the daemon's start-up code.
// Thread: a Database and its Statements belong to the thread that created them
// (one connection per thread; see db/db.h).
//
// Why the sqlite3 C API and not Poco::Data: we need explicit control of WAL,
// busy timeout and foreign keys, prepared statements reused on the binding
// write-behind hot path, and error messages that name the file and the step.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/error.h"
#include "db/migrations.h"

struct sqlite3;
struct sqlite3_stmt;

namespace duplex::db {

struct DatabaseOptions {
  // How long a writer waits for another connection's write lock before
  // SQLITE_BUSY. The write-behind thread and the admin API write concurrently.
  std::chrono::milliseconds busyTimeout{5000};
  // The schema history to bring the file up to; tests inject their own.
  std::span<const Migration> migrations = builtinMigrations();
};

// One open connection. Opening configures it (WAL, synchronous=NORMAL, busy
// timeout, foreign keys) and applies pending migrations, so an object that
// exists is always at the schema version this binary knows.
// Throws DbError (SchemaTooNewError, MigrationError) when that is impossible.
class Database {
 public:
  // `path` is a file name or ":memory:" (a private database per connection).
  explicit Database(std::string path, DatabaseOptions options = {});
  ~Database();
  // Statements keep a pointer to their Database, so it never moves.
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // Runs one or more statements that return no rows (schema, PRAGMA setters).
  void exec(std::string_view sql);
  // Runs a single-row, single-column query and returns the value as text;
  // nullopt for no row or NULL. For PRAGMAs and checks (integrity_check).
  std::optional<std::string> queryText(std::string_view sql);

  // The highest migration version recorded in schema_migrations.
  int schemaVersion();
  std::int64_t lastInsertRowid() const;
  int changes() const;
  bool inTransaction() const;

  // The message every error carries: "database <path>: <step>: <sqlite message>".
  std::string describeError(std::string_view step) const;
  [[noreturn]] void fail(std::string_view step) const;

 private:
  void configure(const DatabaseOptions& options);

  std::string path_;
  sqlite3* db_ = nullptr;
};

// A prepared statement, finalized on destruction. Bind by 1-based index, step
// through rows, read columns by 0-based index. Reusable: reset() then bind
// again; that is what makes the batch upsert fast.
class Statement {
 public:
  Statement(Database& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value);
  Statement& bind(int index, unsigned value);
  Statement& bind(int index, bool value);
  Statement& bind(int index, double value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  Statement& bind(int index, const std::string& value) {
    return bind(index, std::string_view(value));
  }
  Statement& bind(int index, std::span<const std::uint8_t> blob);
  Statement& bind(int index, std::nullptr_t);
  template <class T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind(index, nullptr);
  }

  // The index of a named parameter (":name") for bind(); throws if the SQL
  // has no such parameter.
  int parameterIndex(const char* name) const;

  // Advances to the next row: true if a row is available, false when done.
  bool step();
  // Steps a statement that returns no rows (INSERT/UPDATE/DELETE).
  void run();
  // Makes the statement reusable and clears its bindings. Also ends the read
  // snapshot of an unfinished SELECT, which would otherwise keep the WAL from
  // being checkpointed.
  void reset();

  bool isNull(int column) const;
  std::int64_t int64(int column) const;
  int int32(int column) const;
  bool boolean(int column) const { return int64(column) != 0; }
  double real(int column) const;
  std::string text(int column) const;
  std::vector<std::uint8_t> blob(int column) const;
  std::optional<std::int64_t> optionalInt64(int column) const;
  std::optional<double> optionalReal(int column) const;
  std::optional<std::string> optionalText(int column) const;

 private:
  void check(int rc, std::string_view step) const;

  Database* db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

// A write transaction: rolled back on destruction unless commit() was called.
// Starts with BEGIN IMMEDIATE so that the write lock is taken up front: a
// deferred transaction that upgrades from read to write can fail at once with
// SQLITE_BUSY in WAL mode, ignoring the busy timeout. Inside another
// transaction it becomes a SAVEPOINT, so repository calls compose.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  void commit();

 private:
  Database& db_;
  std::string savepoint_;  // empty for a top-level transaction
  bool done_ = false;
};

}  // namespace duplex::db
