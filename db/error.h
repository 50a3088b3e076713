// Errors of the storage component. For: every caller of db/ (daemon start-up,
// admin API, the registrar's write-behind thread). Any thread.
//
// db/ runs on start-up, admin and write-behind paths, never inside the SIP
// loop, so it reports failures with exceptions (STYLE.md 9). Every message
// names the database file and the step that failed, so a log line alone says
// what to fix.
#pragma once

#include <stdexcept>
#include <string>

namespace duplex::db {

// Any storage failure. `code()` is SQLite's extended result code (e.g.
// SQLITE_BUSY, SQLITE_CONSTRAINT_FOREIGNKEY), or 0 when the error did not come
// from SQLite itself.
class DbError : public std::runtime_error {
 public:
  explicit DbError(const std::string& message, int code = 0)
      : std::runtime_error(message), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// A row would duplicate a unique key the user chose (an extension number, a
// setting key). Distinct so that the admin API can answer 409 Conflict
// instead of 500.
class DuplicateKeyError : public DbError {
 public:
  using DbError::DbError;
};

// The database file was written by a newer Duplex whose schema this binary
// does not know. Refusing protects the data: running old code over a newer
// schema could silently lose columns the newer version relies on.
class SchemaTooNewError : public DbError {
 public:
  SchemaTooNewError(const std::string& message, int databaseVersion, int knownVersion)
      : DbError(message), databaseVersion_(databaseVersion), knownVersion_(knownVersion) {}
  int databaseVersion() const { return databaseVersion_; }
  int knownVersion() const { return knownVersion_; }

 private:
  int databaseVersion_;
  int knownVersion_;
};

// A migration failed and was rolled back; the database is still at
// `databaseVersion()`, exactly as before the attempt.
class MigrationError : public DbError {
 public:
  MigrationError(const std::string& message, int code, int failedVersion, int databaseVersion)
      : DbError(message, code), failedVersion_(failedVersion), databaseVersion_(databaseVersion) {}
  int failedVersion() const { return failedVersion_; }
  int databaseVersion() const { return databaseVersion_; }

 private:
  int failedVersion_;
  int databaseVersion_;
};

}  // namespace duplex::db
