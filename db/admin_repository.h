// The admin login and the admin API's bearer tokens: storage interface and
// record types (migration 2). Only hashes are stored: the password as a
// PBKDF2 string made by admin/password_hash.h, each token as the hex SHA-256
// of its text. For: the admin API (admin/auth.h) and the daemon's
// --admin.reset_password start-up path. Thread: see db/db.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/database.h"
#include "db/error.h"

namespace duplex::db {

struct AdminUserRecord {
  std::string name;          // "admin"
  std::string passwordHash;  // "pbkdf2-sha256$<iterations>$<salt>$<key>"
  std::int64_t updatedAt = 0;

  bool operator==(const AdminUserRecord&) const = default;
};

struct AdminTokenRecord {
  std::int64_t id = 0;    // assigned by insertToken()
  std::string tokenHash;  // lowercase hex SHA-256 of the bearer token; unique
  std::string kind;       // "session" (from a login) or "api" (for scripts)
  std::string scope;      // "read" or "full"
  std::string name;       // what the admin called an API token; "" for sessions
  std::int64_t createdAt = 0;
  std::optional<std::int64_t> expiresAt;  // unix seconds; nullopt = never

  bool operator==(const AdminTokenRecord&) const = default;
};

// Throws DbError on storage failures; DbError with a CHECK constraint code for
// a kind or scope other than the ones above.
class AdminRepository {
 public:
  virtual ~AdminRepository() = default;

  virtual std::optional<AdminUserRecord> findUser(std::string_view name) = 0;
  // Creates the user or replaces its password hash.
  virtual void setPassword(std::string_view name, std::string_view passwordHash) = 0;

  // Returns the new token's id. Throws DuplicateKeyError for a hash already stored.
  virtual std::int64_t insertToken(const AdminTokenRecord& token) = 0;
  virtual std::optional<AdminTokenRecord> findToken(std::string_view tokenHash) = 0;
  // Every token of `kind`, oldest first.
  virtual std::vector<AdminTokenRecord> listTokens(std::string_view kind) = 0;
  // False if there was no such token.
  virtual bool removeToken(std::int64_t id) = 0;
  // Every token of `kind` (a password reset ends every session). Returns how many.
  virtual std::size_t removeTokensOfKind(std::string_view kind) = 0;
  // Tokens with expiresAt <= now. Returns how many.
  virtual std::size_t purgeExpired(std::int64_t now) = 0;
};

class SqliteAdminRepository final : public AdminRepository {
 public:
  explicit SqliteAdminRepository(Database& db) : db_(db) {}

  std::optional<AdminUserRecord> findUser(std::string_view name) override;
  void setPassword(std::string_view name, std::string_view passwordHash) override;
  std::int64_t insertToken(const AdminTokenRecord& token) override;
  std::optional<AdminTokenRecord> findToken(std::string_view tokenHash) override;
  std::vector<AdminTokenRecord> listTokens(std::string_view kind) override;
  bool removeToken(std::int64_t id) override;
  std::size_t removeTokensOfKind(std::string_view kind) override;
  std::size_t purgeExpired(std::int64_t now) override;

 private:
  Database& db_;
};

}  // namespace duplex::db
