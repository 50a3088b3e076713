// In-memory ExtensionRepository for tests of components that use extensions
// (registrar, admin, call control). Same contract as the SQLite one (the db
// unit tests run one suite over both): ids from 1, list() ordered by number,
// DuplicateKeyError on a taken number. Timestamps come from `now`, which tests
// may set. Single-threaded, like the real one.
#pragma once

#include <algorithm>
#include <map>

#include "db/extension_repository.h"

namespace duplex::fakes {

class FakeExtensionRepository final : public db::ExtensionRepository {
 public:
  std::int64_t now = 1'700'000'000;  // unix seconds stamped on writes

  std::optional<db::ExtensionRecord> findByNumber(std::string_view number) override {
    for (const auto& [id, record] : byId_) {
      if (record.number == number) return record;
    }
    return std::nullopt;
  }

  std::optional<db::ExtensionRecord> findById(std::int64_t id) override {
    auto it = byId_.find(id);
    if (it == byId_.end()) return std::nullopt;
    return it->second;
  }

  std::vector<db::ExtensionRecord> list() override {
    std::vector<db::ExtensionRecord> out;
    for (const auto& [id, record] : byId_) out.push_back(record);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.number < b.number; });
    return out;
  }

  db::ExtensionRecord insert(const db::ExtensionRecord& record) override {
    throwIfTaken(record.number, 0);
    db::ExtensionRecord stored = record;
    stored.id = nextId_++;
    stored.createdAt = stored.updatedAt = now;
    byId_[stored.id] = stored;
    return stored;
  }

  bool update(const db::ExtensionRecord& record) override {
    auto it = byId_.find(record.id);
    if (it == byId_.end()) return false;
    throwIfTaken(record.number, record.id);
    db::ExtensionRecord stored = record;
    stored.createdAt = it->second.createdAt;
    stored.updatedAt = now;
    it->second = stored;
    return true;
  }

  bool remove(std::int64_t id) override { return byId_.erase(id) > 0; }

 private:
  void throwIfTaken(const std::string& number, std::int64_t exceptId) const {
    for (const auto& [id, record] : byId_) {
      if (id != exceptId && record.number == number) {
        throw db::DuplicateKeyError("extension number " + number + " already exists");
      }
    }
  }

  std::map<std::int64_t, db::ExtensionRecord> byId_;
  std::int64_t nextId_ = 1;
};

}  // namespace duplex::fakes
