// Monotonic time for the media logic (STYLE.md 4): latching windows,
// keep-alive and timeout schedules, one-way diagnosis and jitter are decided
// against an injected Clock. The relay thread passes a SystemClock; tests pass
// a ManualClock and advance it instead of sleeping.
//
// Thread: a Clock is read by the thread that owns the logic using it (the
// relay thread); a ManualClock is a plain value advanced by that same thread.
#pragma once

#include <chrono>

namespace duplex::media {

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::steady_clock::now(); }
};

// Moves only when told to. Starts well away from the epoch so that
// "TimePoint{}" never looks like a valid time.
class ManualClock final : public Clock {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds delta) { now_ += delta; }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1000);
};

}  // namespace duplex::media
