#include "registrar/keepalive_schedule.h"

namespace duplex::registrar {

void KeepAliveSchedule::schedule(BindingId id, Instant at) {
  cancel(id);
  queue_.emplace(at, id);
  at_.emplace(id, at);
}

void KeepAliveSchedule::cancel(BindingId id) {
  auto it = at_.find(id);
  if (it == at_.end()) return;
  queue_.erase({it->second, id});
  at_.erase(it);
}

std::vector<BindingId> KeepAliveSchedule::takeDue(Instant now) {
  std::vector<BindingId> due;
  while (!queue_.empty() && queue_.begin()->first <= now) {
    const BindingId id = queue_.begin()->second;
    queue_.erase(queue_.begin());
    at_.erase(id);
    due.push_back(id);
  }
  return due;
}

std::optional<Instant> KeepAliveSchedule::nextAt() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first;
}

}  // namespace duplex::registrar
