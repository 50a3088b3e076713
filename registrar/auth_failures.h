// Failed digest authentications counted per source address and per
// extension, in a sliding window: what a later ban feature (fail2ban-like)
// and the status page read. For: DigestAuthenticator (records), the ban
// feature and admin status (read). Thread: the SIP loop owns it; readers on
// other threads must go through the loop (post()) or read a snapshot() the
// loop published.
//
// Counting: a sliding-window estimate over `window` seconds (the previous
// window's count weighted by how much of it still overlaps, plus the current
// one), so an address that stops failing decays to 0 within two windows.
// Memory is bounded: at most `maxKeys` addresses and `maxKeys` extensions;
// when a table is full, entries that have decayed to 0 go first, then the
// entry with the oldest last failure. Keys longer than 64 bytes are truncated
// (an attacker-chosen user name cannot grow memory).
//
// Errors: none.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace duplex::registrar {

// Read side, for the ban feature: implemented by AuthFailureCounter.
class AuthFailureView {
 public:
  virtual ~AuthFailureView() = default;
  // Failures in the sliding window ending at `now` (unix seconds).
  virtual std::uint32_t failuresFromAddress(std::string_view address, std::int64_t now) const = 0;
  virtual std::uint32_t failuresForExtension(std::string_view extension,
                                             std::int64_t now) const = 0;
};

struct AuthFailureEntry {
  std::string key;               // address or extension
  std::uint32_t recent = 0;      // in the sliding window
  std::uint64_t total = 0;       // since the entry was created
  std::int64_t lastFailure = 0;  // unix seconds
};

struct AuthFailureSnapshot {
  std::vector<AuthFailureEntry> addresses;   // most recent failures first
  std::vector<AuthFailureEntry> extensions;  // most recent failures first
};

class AuthFailureCounter : public AuthFailureView {
 public:
  static constexpr std::int64_t kDefaultWindowSeconds = 600;
  static constexpr std::size_t kDefaultMaxKeys = 10000;
  static constexpr std::size_t kMaxKeyBytes = 64;

  explicit AuthFailureCounter(std::int64_t windowSeconds = kDefaultWindowSeconds,
                              std::size_t maxKeys = kDefaultMaxKeys);

  // One failure from `address` (IP without port: counting per port would let
  // a peer rotate ports) claiming `extension` (the digest user name, which
  // may not exist).
  void record(std::string_view address, std::string_view extension, std::int64_t now);

  std::uint32_t failuresFromAddress(std::string_view address, std::int64_t now) const override;
  std::uint32_t failuresForExtension(std::string_view extension, std::int64_t now) const override;

  // Up to `limit` entries per table with recent > 0, for status pages.
  AuthFailureSnapshot snapshot(std::int64_t now, std::size_t limit = 100) const;

 private:
  struct Counts {
    std::int64_t windowStart = 0;
    std::uint32_t current = 0;
    std::uint32_t previous = 0;
    std::uint64_t total = 0;
    std::int64_t lastFailure = 0;
  };
  using Table = std::unordered_map<std::string, Counts>;

  void bump(Table& table, std::string_view key, std::int64_t now);
  std::uint32_t recent(const Counts& counts, std::int64_t now) const;
  std::uint32_t lookup(const Table& table, std::string_view key, std::int64_t now) const;
  void makeRoom(Table& table, std::int64_t now);
  std::vector<AuthFailureEntry> top(const Table& table, std::int64_t now, std::size_t limit) const;

  std::int64_t window_;
  std::size_t maxKeys_;
  Table addresses_;
  Table extensions_;
};

}  // namespace duplex::registrar
