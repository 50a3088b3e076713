#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "db/sqlite_repositories.h"

namespace duplex::db {
namespace {

// The kernel CSPRNG rather than SQLite's randomblob(): SQLite's generator is
// seeded from the OS but its strength is not part of SQLite's documented
// contract, while getrandom(2) is meant for keys.
std::vector<std::uint8_t> randomBytes(std::size_t size) {
  std::vector<std::uint8_t> bytes(size);
  std::size_t filled = 0;
  while (filled < size) {
    const ssize_t n = getrandom(bytes.data() + filled, size - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DbError(std::string("getrandom failed: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  return bytes;
}

}  // namespace

std::optional<std::vector<std::uint8_t>> SqliteSecretRepository::get(std::string_view name) {
  Statement s(db_, "SELECT value FROM secrets WHERE name = ?1");
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return s.blob(0);
}

std::vector<std::uint8_t> SqliteSecretRepository::getOrCreate(std::string_view name,
                                                              std::size_t size) {
  if (size == 0) throw DbError("secret " + std::string(name) + ": size must be positive");
  if (auto existing = get(name)) return *existing;
  // DO NOTHING keeps the first writer's value when processes race; everyone
  // then reads that one back.
  Statement insert(db_, "INSERT INTO secrets (name, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING");
  const std::vector<std::uint8_t> fresh = randomBytes(size);
  insert.bind(1, name).bind(2, std::span<const std::uint8_t>(fresh)).run();
  auto value = get(name);
  if (!value)
    throw DbError("database " + db_.path() + ": secret " + std::string(name) + " vanished");
  return *value;
}

}  // namespace duplex::db
