// The admin login and tokens on SQLite; see admin_repository.h.
#include "db/admin_repository.h"

namespace duplex::db {
namespace {

constexpr std::string_view kTokenColumns =
    "id, token_hash, kind, scope, name, created_at, expires_at";

AdminTokenRecord readToken(const Statement& s) {
  AdminTokenRecord t;
  t.id = s.int64(0);
  t.tokenHash = s.text(1);
  t.kind = s.text(2);
  t.scope = s.text(3);
  t.name = s.text(4);
  t.createdAt = s.int64(5);
  t.expiresAt = s.optionalInt64(6);
  return t;
}

}  // namespace

std::optional<AdminUserRecord> SqliteAdminRepository::findUser(std::string_view name) {
  Statement s(db_, "SELECT name, password_hash, updated_at FROM admin_users WHERE name = ?1");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return AdminUserRecord{s.text(0), s.text(1), s.int64(2)};
}

void SqliteAdminRepository::setPassword(std::string_view name, std::string_view passwordHash) {
  Statement s(db_,
              "INSERT INTO admin_users (name, password_hash) VALUES (?1, ?2) "
              "ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash, "
              "updated_at = CAST(strftime('%s', 'now') AS INTEGER)");
  s.bind(1, name).bind(2, passwordHash).run();
}

std::int64_t SqliteAdminRepository::insertToken(const AdminTokenRecord& token) {
  Statement s(db_,
              "INSERT INTO admin_tokens (token_hash, kind, scope, name, created_at, expires_at) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  s.bind(1, token.tokenHash)
      .bind(2, token.kind)
      .bind(3, token.scope)
      .bind(4, token.name)
      .bind(5, token.createdAt)
      .bind(6, token.expiresAt)
      .run();
  return db_.lastInsertRowid();
}

std::optional<AdminTokenRecord> SqliteAdminRepository::findToken(std::string_view tokenHash) {
  Statement s(db_,
              "SELECT " + std::string(kTokenColumns) + " FROM admin_tokens WHERE token_hash = ?1");
  s.bind(1, tokenHash);
  if (!s.step()) return std::nullopt;
  return readToken(s);
}

std::vector<AdminTokenRecord> SqliteAdminRepository::listTokens(std::string_view kind) {
  Statement s(db_, "SELECT " + std::string(kTokenColumns) +
                       " FROM admin_tokens WHERE kind = ?1 ORDER BY id");
  s.bind(1, kind);
  std::vector<AdminTokenRecord> out;
  while (s.step()) out.push_back(readToken(s));
  return out;
}

bool SqliteAdminRepository::removeToken(std::int64_t id) {
  Statement s(db_, "DELETE FROM admin_tokens WHERE id = ?1");
  s.bind(1, id).run();
  return db_.changes() > 0;
}

std::size_t SqliteAdminRepository::removeTokensOfKind(std::string_view kind) {
  Statement s(db_, "DELETE FROM admin_tokens WHERE kind = ?1");
  s.bind(1, kind).run();
  return static_cast<std::size_t>(db_.changes());
}

std::size_t SqliteAdminRepository::purgeExpired(std::int64_t now) {
  Statement s(db_, "DELETE FROM admin_tokens WHERE expires_at IS NOT NULL AND expires_at <= ?1");
  s.bind(1, now).run();
  return static_cast<std::size_t>(db_.changes());
}

}  // namespace duplex::db
