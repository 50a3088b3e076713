// Failure counters; see auth_failures.h.
#include "registrar/auth_failures.h"

#include <algorithm>

namespace duplex::registrar {

namespace {

std::string_view clip(std::string_view key) {
  return key.substr(0, AuthFailureCounter::kMaxKeyBytes);
}

}  // namespace

AuthFailureCounter::AuthFailureCounter(std::int64_t windowSeconds, std::size_t maxKeys)
    : window_(windowSeconds > 0 ? windowSeconds : kDefaultWindowSeconds),
      maxKeys_(maxKeys > 0 ? maxKeys : 1) {}

void AuthFailureCounter::record(std::string_view address, std::string_view extension,
                                std::int64_t now) {
  bump(addresses_, address, now);
  bump(extensions_, extension, now);
}

std::uint32_t AuthFailureCounter::recent(const Counts& counts, std::int64_t now) const {
  std::int64_t elapsed = now - counts.windowStart;
  if (elapsed < 0) elapsed = 0;  // clock stepped back: count as the current window
  if (elapsed >= 2 * window_) return 0;
  if (elapsed >= window_) {
    // The "current" window is now the previous one.
    std::int64_t overlap = 2 * window_ - elapsed;
    return static_cast<std::uint32_t>(counts.current * overlap / window_);
  }
  std::int64_t overlap = window_ - elapsed;
  return counts.current + static_cast<std::uint32_t>(counts.previous * overlap / window_);
}

void AuthFailureCounter::bump(Table& table, std::string_view key, std::int64_t now) {
  key = clip(key);
  auto it = table.find(std::string(key));
  if (it == table.end()) {
    if (table.size() >= maxKeys_) makeRoom(table, now);
    it = table.emplace(std::string(key), Counts{now, 0, 0, 0, now}).first;
  }
  Counts& counts = it->second;
  std::int64_t elapsed = now - counts.windowStart;
  if (elapsed >= 2 * window_) {
    counts.previous = 0;
    counts.current = 0;
    counts.windowStart = now;
  } else if (elapsed >= window_) {
    counts.previous = counts.current;
    counts.current = 0;
    counts.windowStart += window_;
  }
  if (counts.current != UINT32_MAX) ++counts.current;
  ++counts.total;
  counts.lastFailure = now;
}

void AuthFailureCounter::makeRoom(Table& table, std::int64_t now) {
  // Decayed entries first; if none, the one that failed longest ago. O(n),
  // but only when a new key arrives at a full table.
  auto victim = table.end();
  for (auto it = table.begin(); it != table.end(); ++it) {
    if (recent(it->second, now) == 0) {
      victim = it;
      break;
    }
    if (victim == table.end() || it->second.lastFailure < victim->second.lastFailure) victim = it;
  }
  if (victim != table.end()) table.erase(victim);
}

std::uint32_t AuthFailureCounter::lookup(const Table& table, std::string_view key,
                                         std::int64_t now) const {
  auto it = table.find(std::string(clip(key)));
  return it == table.end() ? 0 : recent(it->second, now);
}

std::uint32_t AuthFailureCounter::failuresFromAddress(std::string_view address,
                                                      std::int64_t now) const {
  return lookup(addresses_, address, now);
}

std::uint32_t AuthFailureCounter::failuresForExtension(std::string_view extension,
                                                       std::int64_t now) const {
  return lookup(extensions_, extension, now);
}

std::vector<AuthFailureEntry> AuthFailureCounter::top(const Table& table, std::int64_t now,
                                                      std::size_t limit) const {
  std::vector<AuthFailureEntry> out;
  for (const auto& [key, counts] : table) {
    std::uint32_t n = recent(counts, now);
    if (n > 0) out.push_back({key, n, counts.total, counts.lastFailure});
  }
  std::sort(out.begin(), out.end(), [](const AuthFailureEntry& a, const AuthFailureEntry& b) {
    return a.lastFailure != b.lastFailure ? a.lastFailure > b.lastFailure : a.key < b.key;
  });
  if (out.size() > limit) out.resize(limit);
  return out;
}

AuthFailureSnapshot AuthFailureCounter::snapshot(std::int64_t now, std::size_t limit) const {
  return {top(addresses_, now, limit), top(extensions_, now, limit)};
}

}  // namespace duplex::registrar
