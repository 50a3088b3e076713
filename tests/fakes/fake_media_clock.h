// A manual media::Clock that a test thread advances while the relay thread
// reads it (MediaRelay socket tests): the time is an atomic offset.
#pragma once

#include <atomic>
#include <chrono>

#include "media/clock.h"

namespace duplex::media::testing {

class SharedManualClock final : public Clock {
 public:
  TimePoint now() const override {
    return TimePoint{} + std::chrono::hours(1000) +
           std::chrono::nanoseconds(offset_ns_.load(std::memory_order_acquire));
  }
  void advance(std::chrono::milliseconds delta) {
    offset_ns_.fetch_add(std::chrono::nanoseconds(delta).count(), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::int64_t> offset_ns_{0};
};

}  // namespace duplex::media::testing
