// When each NATed UDP binding is next pinged. Internal to the registrar;
// owned by Registrar on the SIP loop thread. A timer-free queue: the adapter
// asks nextAt() to arm its own timer and calls Registrar::due().
#pragma once

#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "registrar/registrar.h"

namespace duplex::registrar {

class KeepAliveSchedule {
 public:
  // Schedules (or moves) the binding's next ping.
  void schedule(BindingId id, Instant at);
  void cancel(BindingId id);
  bool contains(BindingId id) const { return at_.contains(id); }
  // Removes and returns every binding due at `now`, earliest first.
  std::vector<BindingId> takeDue(Instant now);
  std::optional<Instant> nextAt() const;
  std::size_t size() const { return at_.size(); }

 private:
  std::set<std::pair<Instant, BindingId>> queue_;
  std::unordered_map<BindingId, Instant> at_;
};

}  // namespace duplex::registrar
