// A BindingSink that writes each change straight into a BindingRepository,
// on the calling thread. For tests and tools; the daemon hands changes to
// the batched write-behind writer instead, because a commit can wait for
// disk and the SIP loop must not (db/db.h). Errors: db::DbError, thrown.
#pragma once

#include "db/binding_repository.h"
#include "registrar/registrar.h"

namespace duplex::registrar {

class RepositoryBindingSink final : public BindingSink {
 public:
  explicit RepositoryBindingSink(db::BindingRepository& repository) : repository_(repository) {}

  // Removals first: within one change set a key is never in both lists.
  void onBindingsChanged(std::span<const db::BindingRecord> upserts,
                         std::span<const db::BindingKey> removals) override {
    if (!removals.empty()) repository_.removeMany(removals);
    if (!upserts.empty()) repository_.upsertMany(upserts);
  }

 private:
  db::BindingRepository& repository_;
};

}  // namespace duplex::registrar
