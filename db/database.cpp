#include "db/database.h"
#include "db/log.h"

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <utility>

namespace duplex::db {
namespace {

// SQL quoted in error messages: whitespace collapsed so a multi-line statement
// fits on one log line, long statements cut so the SQLite message stays visible.
std::string abbreviate(std::string_view sql) {
  constexpr std::size_t kMax = 120;
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
    if (out.size() >= kMax) {
      out += "...";
      break;
    }
  }
  return out;
}

// Unique-key violations get their own type so that callers can tell "already
// exists" (a user error) from a broken database.
[[noreturn]] void throwFor(int code, const std::string& message) {
  if (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY) {
    throw DuplicateKeyError(message, code);
  }
  throw DbError(message, code);
}

}  // namespace

// ---------------------------------------------------------------- Database

Database::Database(std::string path, DatabaseOptions options) : path_(std::move(path)) {
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = "database " + path_ +
                          ": open: " + (db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw DbError(message, rc);
  }
  // Extended codes tell a UNIQUE violation from a FOREIGN KEY one.
  sqlite3_extended_result_codes(db_, 1);
  try {
    configure(options);
    applyMigrations(*this, options.migrations);
  } catch (...) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw;
  }
}

Database::~Database() {
  // close_v2: if a Statement outlives us by mistake, SQLite closes when it is
  // finalized instead of leaking or failing here.
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

void Database::configure(const DatabaseOptions& options) {
  sqlite3_busy_timeout(db_, static_cast<int>(options.busyTimeout.count()));
  // WAL: readers (admin API) never block the write-behind writer and a crash
  // loses at most uncommitted work. ":memory:" databases answer "memory".
  const auto mode = queryText("PRAGMA journal_mode=WAL");
  if (mode != "wal" && mode != "memory") {
    log().warn("database {}: journal_mode is {} (WAL unsupported on this file system?)", path_,
               mode.value_or("unknown"));
  }
  // NORMAL is durable across process crashes in WAL mode; only a power loss
  // can drop the last transactions, and bindings are refreshed by re-REGISTER.
  exec("PRAGMA synchronous=NORMAL");
  exec("PRAGMA foreign_keys=ON");
  if (queryText("PRAGMA foreign_keys") != "1") {
    throw DbError("database " + path_ + ": this SQLite build cannot enforce foreign keys");
  }
}

void Database::exec(std::string_view sql) {
  const std::string text(sql);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string what = "database " + path_ + ": exec `" + abbreviate(sql) +
                       "`: " + (message != nullptr ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    throwFor(sqlite3_extended_errcode(db_), what);
  }
}

std::optional<std::string> Database::queryText(std::string_view sql) {
  Statement statement(*this, sql);
  if (!statement.step()) return std::nullopt;
  return statement.optionalText(0);
}

int Database::schemaVersion() {
  Statement statement(*this, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  statement.step();
  return statement.int32(0);
}

std::int64_t Database::lastInsertRowid() const {
  return sqlite3_last_insert_rowid(db_);
}

int Database::changes() const {
  return sqlite3_changes(db_);
}

bool Database::inTransaction() const {
  return sqlite3_get_autocommit(db_) == 0;
}

std::string Database::describeError(std::string_view step) const {
  return "database " + path_ + ": " + std::string(step) + ": " + sqlite3_errmsg(db_);
}

void Database::fail(std::string_view step) const {
  throwFor(sqlite3_extended_errcode(db_), describeError(step));
}

// ---------------------------------------------------------------- Statement

Statement::Statement(Database& db, std::string_view sql) : db_(&db), sql_(sql) {
  const int rc = sqlite3_prepare_v3(db.handle(), sql_.data(), static_cast<int>(sql_.size()),
                                    SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr);
  if (rc != SQLITE_OK) db.fail("prepare `" + abbreviate(sql_) + "`");
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    sql_ = std::move(other.sql_);
  }
  return *this;
}

void Statement::check(int rc, std::string_view step) const {
  if (rc != SQLITE_OK) db_->fail(std::string(step) + " `" + abbreviate(sql_) + "`");
}

Statement& Statement::bind(int index, std::int64_t value) {
  check(sqlite3_bind_int64(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::bind(int index, int value) {
  return bind(index, static_cast<std::int64_t>(value));
}

Statement& Statement::bind(int index, unsigned value) {
  return bind(index, static_cast<std::int64_t>(value));
}

Statement& Statement::bind(int index, bool value) {
  return bind(index, static_cast<std::int64_t>(value ? 1 : 0));
}

Statement& Statement::bind(int index, double value) {
  check(sqlite3_bind_double(stmt_, index, value), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  // SQLITE_TRANSIENT: SQLite copies, so callers may bind temporaries.
  check(
      sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
      "bind");
  return *this;
}

Statement& Statement::bind(int index, std::span<const std::uint8_t> blob) {
  check(sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT), "bind");
  return *this;
}

Statement& Statement::bind(int index, std::nullptr_t) {
  check(sqlite3_bind_null(stmt_, index), "bind");
  return *this;
}

int Statement::parameterIndex(const char* name) const {
  const int index = sqlite3_bind_parameter_index(stmt_, name);
  if (index == 0) {
    throw DbError("database " + db_->path() + ": no parameter " + name + " in `" +
                  abbreviate(sql_) + "`");
  }
  return index;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  db_->fail("step `" + abbreviate(sql_) + "`");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  // sqlite3_reset repeats the last step's error; that error was already
  // thrown by step(), so it is ignored here.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::isNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

int Statement::int32(int column) const {
  return sqlite3_column_int(stmt_, column);
}

double Statement::real(int column) const {
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::text(int column) const {
  const auto* data = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size));
}

std::vector<std::uint8_t> Statement::blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  if (data == nullptr) return {};
  return std::vector<std::uint8_t>(data, data + size);
}

std::optional<std::int64_t> Statement::optionalInt64(int column) const {
  if (isNull(column)) return std::nullopt;
  return int64(column);
}

std::optional<double> Statement::optionalReal(int column) const {
  if (isNull(column)) return std::nullopt;
  return real(column);
}

std::optional<std::string> Statement::optionalText(int column) const {
  if (isNull(column)) return std::nullopt;
  return text(column);
}

// ---------------------------------------------------------------- Transaction

Transaction::Transaction(Database& db) : db_(db) {
  if (db_.inTransaction()) {
    // SAVEPOINT names may repeat; RELEASE/ROLLBACK TO act on the innermost,
    // which is ours as long as transactions nest like scopes (they do: RAII).
    savepoint_ = "duplex_tx";
    db_.exec("SAVEPOINT " + savepoint_);
  } else {
    db_.exec("BEGIN IMMEDIATE");
  }
}

Transaction::~Transaction() {
  if (done_) return;
  // A failing statement (e.g. SQLITE_FULL) may already have rolled the whole
  // transaction back; ROLLBACK then has nothing to do and must not be sent.
  if (!db_.inTransaction()) return;
  const std::string sql =
      savepoint_.empty() ? "ROLLBACK" : "ROLLBACK TO " + savepoint_ + "; RELEASE " + savepoint_;
  if (sqlite3_exec(db_.handle(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    log().error("{}", db_.describeError("rollback"));
  }
}

void Transaction::commit() {
  db_.exec(savepoint_.empty() ? "COMMIT" : "RELEASE " + savepoint_);
  done_ = true;
}

}  // namespace duplex::db
