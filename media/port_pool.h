// The relay's UDP port pairs: even RTP port + odd RTCP port (RFC 3550 11)
// from [min, max]. A pair is handed out at most once until it is released;
// released pairs go to the back of the queue so a port just freed is reused
// last (late packets of the old call find no new call). Pairs the preference
// predicate marks (UPnP-mapped ports, set by pbx/app) are handed out first.
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
#include <vector>

namespace duplex::media {

class PortPool {
 public:
  // Pairs (p, p+1) for every even p with min <= p and p+1 <= max.
  PortPool(std::uint16_t min, std::uint16_t max);

  // An even RTP port, or nullopt when every pair is in use.
  std::optional<std::uint16_t> acquire();
  // Returns a pair; a port not from this pool or not in use is ignored.
  void release(std::uint16_t rtp_port);
  void setPreference(std::function<bool(std::uint16_t)> is_preferred);

  std::size_t capacity() const { return in_use_.size(); }
  std::size_t freeCount() const;

 private:
  std::size_t slot(std::uint16_t port) const { return (port - first_) / 2; }

  mutable std::mutex mutex_;
  std::uint16_t first_ = 0;
  std::vector<bool> in_use_;
  std::deque<std::uint16_t> preferred_;
  std::deque<std::uint16_t> others_;
  std::function<bool(std::uint16_t)> is_preferred_;
};

}  // namespace duplex::media
