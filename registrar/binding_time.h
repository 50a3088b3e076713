// The registrar's time: Unix time in milliseconds, passed in by the caller so
// that the policy reads no clock and tests drive time (STYLE.md 4). Public
// through registrar/registrar.h. Any thread (pure functions).
#pragma once

#include <chrono>
#include <cstdint>

namespace duplex::registrar {

using Instant = std::chrono::sys_time<std::chrono::milliseconds>;

inline Instant instantFromUnixSeconds(std::int64_t seconds) {
  return Instant{std::chrono::seconds{seconds}};
}

// Seconds left until `expiry`, rounded up and never negative. Rounding up
// keeps an immediate refresh at the full granted value: expiry = now + granted
// exactly, so remaining(now) == granted, and a few milliseconds later it is
// still granted, not granted - 1 (no drift when a phone re-registers with
// the value from the last 200 OK).
inline std::uint32_t remainingSeconds(Instant expiry, Instant now) {
  if (expiry <= now) return 0;
  const std::int64_t ms = (expiry - now).count();
  return static_cast<std::uint32_t>((ms + 999) / 1000);
}

// Unix seconds for db::BindingRecord::expiresAt: rounded up, so a stored
// expiry is never earlier than the one the phone was told.
inline std::int64_t unixSecondsCeil(Instant at) {
  const std::int64_t ms = at.time_since_epoch().count();
  return ms >= 0 ? (ms + 999) / 1000 : ms / 1000;
}

inline std::int64_t unixSecondsFloor(Instant at) {
  return std::chrono::floor<std::chrono::seconds>(at).time_since_epoch().count();
}

}  // namespace duplex::registrar
