#include "media/port_pool.h"

namespace duplex::media {

PortPool::PortPool(std::uint16_t min, std::uint16_t max) {
  unsigned first = min + (min % 2);
  first_ = static_cast<std::uint16_t>(first);
  for (unsigned p = first; p + 1 <= max; p += 2) {
    others_.push_back(static_cast<std::uint16_t>(p));
  }
  in_use_.assign(others_.size(), false);
}

std::optional<std::uint16_t> PortPool::acquire() {
  std::lock_guard lock(mutex_);
  for (auto* queue : {&preferred_, &others_}) {
    if (queue->empty()) continue;
    const std::uint16_t port = queue->front();
    queue->pop_front();
    in_use_[slot(port)] = true;
    return port;
  }
  return std::nullopt;
}

void PortPool::release(std::uint16_t port) {
  std::lock_guard lock(mutex_);
  if (port < first_ || (port - first_) % 2 != 0 || slot(port) >= in_use_.size() ||
      !in_use_[slot(port)]) {
    return;
  }
  in_use_[slot(port)] = false;
  if (is_preferred_ && is_preferred_(port)) {
    preferred_.push_back(port);
  } else {
    others_.push_back(port);
  }
}

void PortPool::setPreference(std::function<bool(std::uint16_t)> is_preferred) {
  std::lock_guard lock(mutex_);
  is_preferred_ = std::move(is_preferred);
  std::deque<std::uint16_t> all;
  for (auto* queue : {&preferred_, &others_}) {
    all.insert(all.end(), queue->begin(), queue->end());
    queue->clear();
  }
  for (std::uint16_t port : all) {
    if (is_preferred_ && is_preferred_(port)) {
      preferred_.push_back(port);
    } else {
      others_.push_back(port);
    }
  }
}

std::size_t PortPool::freeCount() const {
  std::lock_guard lock(mutex_);
  return preferred_.size() + others_.size();
}

}  // namespace duplex::media
