#include "media/port_pool.h"

#include <algorithm>

namespace duplex::media {

std::size_t PortPool::pairsIn(std::uint16_t min, std::uint16_t max) {
  const unsigned first = min + (min % 2u);
  return first + 1u <= max ? (max - first - 1u) / 2u + 1u : 0u;
}

PortPool::PortPool(std::uint16_t min, std::uint16_t max) : in_use_(32768, false) {
  min_ = min;
  max_ = max;
  const unsigned first = min + (min % 2u);  // 65536 for min 65535: no pair
  first_ = static_cast<std::uint16_t>(std::min(first, 65535u));
  for (unsigned p = first; p + 1 <= max; p += 2) {
    others_.push_back(static_cast<std::uint16_t>(p));
  }
}

std::optional<std::uint16_t> PortPool::acquire() {
  std::lock_guard lock(mutex_);
  for (auto* queue : {&preferred_, &others_}) {
    if (queue->empty()) continue;
    const std::uint16_t port = queue->front();
    queue->pop_front();
    in_use_[port / 2] = true;
    ++in_use_count_;
    return port;
  }
  return std::nullopt;
}

void PortPool::enqueue(std::uint16_t port) {
  if (is_preferred_ && is_preferred_(port)) {
    preferred_.push_back(port);
  } else {
    others_.push_back(port);
  }
}

void PortPool::release(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  if (port % 2 != 0 || !in_use_[port / 2]) return;
  in_use_[port / 2] = false;
  --in_use_count_;
  if (inRange(port)) enqueue(port);  // else: from an older range, no longer handed out
}

void PortPool::setPreference(std::function<bool(std::uint16_t)> is_preferred) {
  std::lock_guard lock(mutex_);
  is_preferred_ = std::move(is_preferred);
  std::deque<std::uint16_t> all;
  for (auto* queue : {&preferred_, &others_}) {
    all.insert(all.end(), queue->begin(), queue->end());
    queue->clear();
  }
  for (std::uint16_t port : all) enqueue(port);
}

bool PortPool::setRange(std::uint16_t min, std::uint16_t max) {
  if (min > max || pairsIn(min, max) == 0) return false;
  std::lock_guard lock(mutex_);
  if (min == min_ && max == max_) return true;
  // Free pairs still in range keep their place (least recently used first);
  // pairs new to the range follow; pairs in use return when released.
  const unsigned first = min + (min % 2u);  // pairsIn() > 0: first < 65535
  auto within = [&](std::uint16_t p) { return p >= first && p + 1u <= max; };
  std::vector<bool> queued(32768, false);
  for (auto* queue : {&preferred_, &others_}) {
    for (std::uint16_t p : *queue) {
      if (within(p)) queued[p / 2] = true;
    }
  }
  std::deque<std::uint16_t> order;
  for (auto* queue : {&preferred_, &others_}) {
    for (std::uint16_t p : *queue) {
      if (within(p)) order.push_back(p);
    }
    queue->clear();
  }
  for (unsigned p = first; p + 1 <= max; p += 2) {
    if (!queued[p / 2] && !in_use_[p / 2]) order.push_back(static_cast<std::uint16_t>(p));
  }
  min_ = min;
  max_ = max;
  first_ = static_cast<std::uint16_t>(first);
  for (std::uint16_t p : order) enqueue(p);
  return true;
}

std::pair<std::uint16_t, std::uint16_t> PortPool::range() const {
  std::lock_guard lock(mutex_);
  return {min_, max_};
}

std::size_t PortPool::capacity() const {
  std::lock_guard lock(mutex_);
  return pairsIn(min_, max_);
}

std::size_t PortPool::freeCount() const {
  std::lock_guard lock(mutex_);
  return preferred_.size() + others_.size();
}

std::size_t PortPool::inUseCount() const {
  std::lock_guard lock(mutex_);
  return in_use_count_;
}

}  // namespace duplex::media
