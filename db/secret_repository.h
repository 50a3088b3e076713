// Secrets the PBX generates for itself, e.g. the key that signs digest nonces
// so that nonces survive a restart. For: the daemon at start-up.
// Thread: see db/db.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "db/error.h"

namespace duplex::db {

// Throws DbError on storage failures.
class SecretRepository {
 public:
  virtual ~SecretRepository() = default;

  virtual std::optional<std::vector<std::uint8_t>> get(std::string_view name) = 0;
  // Returns the secret `name`, creating it first with `size` random bytes from
  // the kernel's CSPRNG if it does not exist yet. Safe when several processes
  // race: all of them get the one value that was stored first.
  virtual std::vector<std::uint8_t> getOrCreate(std::string_view name, std::size_t size) = 0;
};

}  // namespace duplex::db
