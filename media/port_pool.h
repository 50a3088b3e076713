// The relay's UDP port pairs: even RTP port + odd RTCP port (RFC 3550 11)
// from [min, max]. A pair is handed out at most once until it is released;
// released pairs go to the back of the queue so a port just freed is reused
// last (late packets of the old call find no new call). Pairs the preference
// predicate marks (UPnP-mapped ports, set by pbx/app) are handed out first.
//
// The range can change while pairs are in use (an admin change applied
// without restart, setRange()): new pairs come from the new range only; a
// pair in use stays in use until released (never handed out twice, whichever
// range it is in), and a released pair outside the current range is dropped
// instead of queued. Nothing leaks: the in-use marks cover every port.
//
// For: media/relay.cpp. Thread: any; every member takes the pool's mutex
// (held briefly; never per packet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace duplex::media {

class PortPool {
 public:
  // Pairs (p, p+1) for every even p with min <= p and p+1 <= max.
  PortPool(std::uint16_t min, std::uint16_t max);

  // An even RTP port, or nullopt when every pair is in use.
  std::optional<std::uint16_t> acquire();
  // Returns a pair; a port not in use (or odd) is ignored.
  void release(std::uint16_t rtp_port);
  void setPreference(std::function<bool(std::uint16_t)> is_preferred);
  // The range for pairs handed out from now on; false (and nothing changes)
  // when [min, max] holds no pair.
  bool setRange(std::uint16_t min, std::uint16_t max);
  std::pair<std::uint16_t, std::uint16_t> range() const;

  // Pairs in the current range.
  std::size_t capacity() const;
  std::size_t freeCount() const;
  // Pairs handed out and not released (in any range).
  std::size_t inUseCount() const;

 private:
  static std::size_t pairsIn(std::uint16_t min, std::uint16_t max);
  bool inRange(std::uint16_t port) const { return port >= first_ && port + 1u <= max_; }
  void enqueue(std::uint16_t port);  // lock held

  mutable std::mutex mutex_;
  std::uint16_t min_ = 0;
  std::uint16_t max_ = 0;
  std::uint16_t first_ = 0;   // the lowest even port of the range
  std::vector<bool> in_use_;  // by port / 2, every port
  std::size_t in_use_count_ = 0;
  std::deque<std::uint16_t> preferred_;
  std::deque<std::uint16_t> others_;
  std::function<bool(std::uint16_t)> is_preferred_;
};

}  // namespace duplex::media
