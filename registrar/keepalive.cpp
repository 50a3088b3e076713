// Keep-alives for NATed UDP bindings: a NAT drops an idle UDP mapping after
// as little as 30 s, after which the PBX can no longer reach the phone
// (DESIGN.md "Keep bindings alive"; RFC 5626 3.5). The registrar only
// schedules; the SIP side sends from the binding's local socket and reports.
#include <spdlog/spdlog.h>

#include "registrar/binding.h"
#include "registrar/keepalive_schedule.h"
#include "registrar/registrar.h"

namespace duplex::registrar {

std::vector<KeepAlive> Registrar::due(Instant now) {
  std::vector<KeepAlive> out;
  const auto interval = std::chrono::seconds{config_.keepAliveIntervalSeconds};
  for (BindingId id : keepAlives_->takeDue(now)) {
    const Binding* b = table_->byId(id);
    if (!b || !b->needsKeepAlive()) continue;
    // From now, not from the missed slot: a late timer must not cause a burst.
    keepAlives_->schedule(id, now + interval);
    out.push_back(KeepAlive{id, config_.keepAliveKind, sendToOf(*b), b->contactUri});
  }
  counters_.keepAlivesSent += out.size();
  return out;
}

std::optional<Instant> Registrar::nextKeepAliveAt() const {
  return keepAlives_->nextAt();
}

void Registrar::keepAliveAnswered(BindingId id) {
  Binding* b = table_->byId(id);
  if (!b) return;
  b->keepAliveFailures = 0;
  registrarLog().debug("registrar: keep-alive answered by {} at {}:{}", b->contactUri, b->sourceIp,
                       b->sourcePort);
}

bool Registrar::keepAliveFailed(BindingId id) {
  Binding* b = table_->byId(id);
  if (!b) return false;
  ++counters_.keepAlivesFailed;
  if (++b->keepAliveFailures < config_.keepAliveMaxFailures) return false;
  registrarLog().info(
      "registrar: removing binding {} of extension {} ({} from {}:{}): {} keep-alives unanswered",
      b->contactUri, b->extensionId, b->userAgent, b->sourceIp, b->sourcePort,
      b->keepAliveFailures);
  const std::int64_t extension = b->extensionId;
  const BindingId ids[] = {id};
  const std::vector<db::BindingKey> keys = dropBindings(extension, ids);
  sink_.onBindingsChanged({}, keys);
  ++counters_.removedByKeepAlive;
  return true;
}

}  // namespace duplex::registrar
