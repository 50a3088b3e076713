#include "db/sqlite_repositories.h"

namespace duplex::db {
namespace {

SettingRecord readRow(const Statement& row) {
  return SettingRecord{row.text(0), row.text(1), row.boolean(2), row.int64(3)};
}

}  // namespace

std::optional<SettingRecord> SqliteSettingsRepository::get(std::string_view key) {
  Statement s(db_, "SELECT key, value, secret, updated_at FROM settings WHERE key = ?1");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return readRow(s);
}

void SqliteSettingsRepository::set(std::string_view key, std::string_view value, bool secret) {
  Statement s(db_,
              "INSERT INTO settings (key, value, secret, updated_at)"
              " VALUES (?1, ?2, ?3, CAST(strftime('%s', 'now') AS INTEGER))"
              " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
              " secret = excluded.secret, updated_at = excluded.updated_at");
  s.bind(1, key).bind(2, value).bind(3, secret).run();
}

std::vector<SettingRecord> SqliteSettingsRepository::all() {
  Statement s(db_, "SELECT key, value, secret, updated_at FROM settings ORDER BY key");
  std::vector<SettingRecord> out;
  while (s.step()) out.push_back(readRow(s));
  return out;
}

bool SqliteSettingsRepository::remove(std::string_view key) {
  Statement s(db_, "DELETE FROM settings WHERE key = ?1");
  s.bind(1, key).run();
  return db_.changes() > 0;
}

}  // namespace duplex::db
