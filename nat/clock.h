// Time for the NAT logic (STYLE.md 4): lease renewal, backoff, DynDNS
// intervals and STUN retransmissions are decided against an injected Clock.
// The NAT worker passes a SystemClock; tests pass a ManualClock and advance it
// instead of sleeping. `wallNow()` is only for the times shown in the status
// (when a mapping expires, when DynDNS was last updated), never for decisions.
//
// Thread: a Clock is read by the thread that owns the logic using it (the NAT
// worker); a ManualClock is a plain value advanced by that same thread.
#pragma once

#include <chrono>

namespace duplex::nat {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  using WallTime = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  virtual WallTime wallNow() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
  WallTime wallNow() const override { return std::chrono::system_clock::now(); }
};

// Moves only when told to; both times advance together.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  WallTime wallNow() const override { return wall_; }
  void advance(std::chrono::milliseconds delta) {
    now_ += delta;
    wall_ += delta;
  }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1000);
  WallTime wall_ = WallTime{} + std::chrono::hours(24 * 365 * 56);  // ~2026
};

}  // namespace duplex::nat
