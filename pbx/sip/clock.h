// Monotonic time for protocol logic that must not read the wall clock
// (STYLE.md 4): the transaction layer and, later, dialogs and registrations
// take a `const Clock&`; the daemon passes a SystemClock, tests a ManualClock
// and drive time with advance() instead of sleeping.
//
// Thread: a Clock is read by the thread that owns the logic using it. A
// ManualClock is a plain value; advance it from that same thread.
#pragma once

#include <chrono>

namespace duplex::sip {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

// The real monotonic clock (never jumps with NTP or DST changes).
class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that moves only when told to. Starts at an arbitrary fixed point
// well away from the epoch, so "time_point{}" never looks like a valid time.
class ManualClock final : public Clock {
 public:
  ManualClock() = default;
  explicit ManualClock(TimePoint start) : now_(start) {}

  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds delta) { now_ += delta; }
  void set(TimePoint t) { now_ = t; }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1000);
};

}  // namespace duplex::sip
