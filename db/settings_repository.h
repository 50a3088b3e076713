// Key/value settings (SIP port, public address policy, trunk credentials...).
// For: the admin API and the daemon's configuration loader. Thread: see db/db.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/error.h"

namespace duplex::db {

struct SettingRecord {
  std::string key;
  std::string value;
  // Secret values (passwords, tokens) are stored like any other but the admin
  // API must not return them.
  bool secret = false;
  std::int64_t updatedAt = 0;  // unix seconds, set by the database

  bool operator==(const SettingRecord&) const = default;
};

// Throws DbError on storage failures.
class SettingsRepository {
 public:
  virtual ~SettingsRepository() = default;

  virtual std::optional<SettingRecord> get(std::string_view key) = 0;
  // Creates or replaces the setting.
  virtual void set(std::string_view key, std::string_view value, bool secret) = 0;
  // Ordered by key.
  virtual std::vector<SettingRecord> all() = 0;
  // False if there was no such key.
  virtual bool remove(std::string_view key) = 0;
};

}  // namespace duplex::db
