// In-memory BindingRepository for registrar tests. Same contract as the SQLite
// one (the db unit tests run one suite over both): upsert replaces by
// (extension, key()), loadUnexpired() ordered by extension then key. It does
// not know extensions, so there is no foreign-key check or cascade.
// Also counts calls, so a test can assert that writes were batched.
// Single-threaded, like the real one.
#pragma once

#include <map>
#include <utility>

#include "db/binding_repository.h"

namespace duplex::fakes {

class FakeBindingRepository final : public db::BindingRepository {
 public:
  int upsertCalls = 0;  // batches written through upsertMany()
  int removeCalls = 0;  // batches written through removeMany()

  void upsertMany(std::span<const db::BindingRecord> bindings) override {
    ++upsertCalls;
    for (const db::BindingRecord& b : bindings) {
      auto& slot = rows_[{b.extensionId, b.key()}];
      const std::int64_t id = slot.id != 0 ? slot.id : nextId_++;
      slot = b;
      slot.id = id;
    }
  }

  std::size_t removeMany(std::span<const db::BindingKey> keys) override {
    ++removeCalls;
    std::size_t removed = 0;
    for (const db::BindingKey& k : keys) removed += rows_.erase({k.extensionId, k.key});
    return removed;
  }

  std::size_t removeAllOf(std::int64_t extensionId) override {
    return std::erase_if(rows_, [&](const auto& row) { return row.first.first == extensionId; });
  }

  std::vector<db::BindingRecord> loadUnexpired(std::int64_t now) override {
    std::vector<db::BindingRecord> out;
    for (const auto& [key, b] : rows_) {
      if (b.expiresAt > now) out.push_back(b);
    }
    return out;
  }

  std::size_t purgeExpired(std::int64_t now) override {
    return std::erase_if(rows_, [&](const auto& row) { return row.second.expiresAt <= now; });
  }

  // Everything stored, expired or not, for assertions.
  std::size_t size() const { return rows_.size(); }

 private:
  std::map<std::pair<std::int64_t, std::string>, db::BindingRecord> rows_;
  std::int64_t nextId_ = 1;
};

}  // namespace duplex::fakes
