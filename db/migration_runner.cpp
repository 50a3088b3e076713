// Brings a database file up to the schema version this binary knows.
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <optional>
#include <string>

#include "db/database.h"
#include "db/log.h"
#include "db/migrations.h"

namespace duplex::db {
namespace {

// A wrong list is a programming error, caught on the first open in any test.
void validate(const Database& db, std::span<const Migration> migrations) {
  int expected = 1;
  for (const Migration& m : migrations) {
    if (m.version != expected) {
      throw DbError("database " + db.path() + ": migration list is out of order: found version " +
                    std::to_string(m.version) + " where " + std::to_string(expected) +
                    " was expected");
    }
    ++expected;
  }
}

// Foreign keys are switched off while a migration runs, as SQLite documents
// for schema changes that rebuild tables (lang_altertable.html, "12 steps"):
// otherwise dropping a parent table would cascade into its children. The
// migration is checked with foreign_key_check before it commits instead.
// The PRAGMA is a no-op inside a transaction, hence this guard around it.
class ForeignKeysOff {
 public:
  explicit ForeignKeysOff(Database& db) : db_(db) { db_.exec("PRAGMA foreign_keys=OFF"); }
  ~ForeignKeysOff() {
    if (sqlite3_exec(db_.handle(), "PRAGMA foreign_keys=ON", nullptr, nullptr, nullptr) !=
        SQLITE_OK) {
      log().error("{}", db_.describeError("re-enable foreign keys"));
    }
  }
  ForeignKeysOff(const ForeignKeysOff&) = delete;
  ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

 private:
  Database& db_;
};

struct Failure {
  std::string message;
  int code = 0;
};

// Runs one migration inside `tx`'s transaction. Returns the reason it failed,
// taken before the rollback replaces SQLite's error message.
std::optional<Failure> runInside(Database& db, const Migration& m) {
  if (sqlite3_exec(db.handle(), std::string(m.sql).c_str(), nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return Failure{sqlite3_errmsg(db.handle()), sqlite3_extended_errcode(db.handle())};
  }
  Statement fkCheck(db, "PRAGMA foreign_key_check");
  if (fkCheck.step()) {
    return Failure{"it leaves rows in " + fkCheck.text(0) + " that violate a foreign key to " +
                       fkCheck.text(2),
                   SQLITE_CONSTRAINT_FOREIGNKEY};
  }
  Statement record(db,
                   "INSERT INTO schema_migrations (version, description, applied_at) "
                   "VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER))");
  record.bind(1, m.version).bind(2, m.description).run();
  return std::nullopt;
}

}  // namespace

int applyMigrations(Database& db, std::span<const Migration> migrations) {
  validate(db, migrations);
  const int known = migrations.empty() ? 0 : migrations.back().version;
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version INTEGER PRIMARY KEY,"
      " description TEXT NOT NULL,"
      " applied_at INTEGER NOT NULL)");

  int current = db.schemaVersion();
  if (current > known) {
    throw SchemaTooNewError("database " + db.path() + " is at schema version " +
                                std::to_string(current) + " but this Duplex binary knows only " +
                                "versions up to " + std::to_string(known) +
                                "; it was written by a newer Duplex. Run that version, or "
                                "restore a backup made before the upgrade",
                            current, known);
  }

  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    ForeignKeysOff fkOff(db);
    Transaction tx(db);
    // Another process may have migrated between our read and our write lock.
    current = db.schemaVersion();
    if (m.version <= current) continue;
    if (auto failure = runInside(db, m)) {
      throw MigrationError("database " + db.path() + ": migration " + std::to_string(m.version) +
                               " (" + std::string(m.description) + ") failed: " + failure->message +
                               "; the database is unchanged at version " + std::to_string(current),
                           failure->code, m.version, current);
    }
    tx.commit();
    current = m.version;
    log().info("database {}: applied migration {} ({})", db.path(), m.version, m.description);
  }
  return current;
}

}  // namespace duplex::db
