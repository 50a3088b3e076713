// The schema history of the Duplex database: an ordered list of migrations
// compiled into the binary, and the runner that brings a file up to date.
// For: Database (which migrates on open) and tests that inject their own list.
// Thread: whichever thread opens the Database.
#pragma once

#include <span>
#include <string_view>

namespace duplex::db {

class Database;

// One step of the schema. Versions start at 1 and increase by 1. `sql` may
// hold several statements but no BEGIN/COMMIT: the runner wraps each
// migration in its own transaction (with foreign keys off, the order SQLite
// documents for table rebuilds) and records it in schema_migrations.
struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// The migrations this binary knows, oldest first.
std::span<const Migration> builtinMigrations();

// Applies every migration newer than the database's version, one transaction
// each. Returns the resulting version. Throws SchemaTooNewError if the file is
// newer than `migrations`, MigrationError if one fails (that migration is
// rolled back; earlier ones stay applied), DbError if the list is malformed.
int applyMigrations(Database& db, std::span<const Migration> migrations);

}  // namespace duplex::db
