#include "registrar/binding.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "registrar/binding_time.h"

namespace duplex::registrar {

std::string_view transportName(Transport transport) {
  switch (transport) {
    case Transport::udp:
      return "udp";
    case Transport::tcp:
      return "tcp";
    case Transport::tls:
      return "tls";
  }
  return "udp";
}

std::optional<Transport> transportFromName(std::string_view name) {
  for (Transport t : {Transport::udp, Transport::tcp, Transport::tls}) {
    if (transportName(t) == name) return t;
  }
  return std::nullopt;
}

SendTo sendToOf(const Binding& b) {
  // Trust the packet, not the message (DESIGN.md): the source is the NAT's
  // mapping; for a phone not behind NAT it equals the Contact's host:port
  // (UDP), or is the live connection's far end (TCP/TLS).
  SendTo to;
  to.transport = b.transport;
  to.destination = Endpoint{b.sourceIp, b.sourcePort};
  to.connectionId = b.connectionId;
  to.local = Endpoint{b.localIp, b.localPort};
  return to;
}

spdlog::logger& registrarLog() {
  std::shared_ptr<spdlog::logger> named = spdlog::get("registrar");
  return named ? *named : *spdlog::default_logger_raw();
}

db::BindingRecord toRecord(const Binding& b, const std::string& aor) {
  db::BindingRecord r;
  r.extensionId = b.extensionId;
  r.aor = aor;
  r.contactUri = b.contactUri;
  r.instanceId = b.instanceId;
  r.callId = b.callId;
  r.cseq = b.cseq;
  r.expiresAt = unixSecondsCeil(b.expiresAt);
  r.q = b.q;
  r.transport = std::string(transportName(b.transport));
  r.localIp = b.localIp;
  r.localPort = b.localPort;
  r.sourceIp = b.sourceIp;
  r.sourcePort = b.sourcePort;
  r.behindNat = b.behindNat;
  r.userAgent = b.userAgent;
  r.connectionId = b.connectionId;
  r.updatedAt = unixSecondsFloor(b.registeredAt);
  return r;
}

std::optional<Binding> fromRecord(const db::BindingRecord& r) {
  const std::optional<Transport> transport = transportFromName(r.transport);
  if (!transport) return std::nullopt;
  Binding b;
  b.extensionId = r.extensionId;
  b.contactUri = r.contactUri;
  b.instanceId = r.instanceId;
  b.callId = r.callId;
  b.userAgent = r.userAgent;
  b.localIp = r.localIp;
  b.sourceIp = r.sourceIp;
  b.q = r.q;
  // A connection id names a socket of the process that stored it.
  b.connectionId.reset();
  b.expiresAt = instantFromUnixSeconds(r.expiresAt);
  b.registeredAt = instantFromUnixSeconds(r.updatedAt);
  b.cseq = r.cseq;
  b.localPort = r.localPort;
  b.sourcePort = r.sourcePort;
  b.transport = *transport;
  b.behindNat = r.behindNat;
  return b;
}

const std::vector<Binding>* BindingTable::find(std::int64_t extensionId) const {
  auto it = byExtension_.find(extensionId);
  return it == byExtension_.end() ? nullptr : &it->second.bindings;
}

const std::string& BindingTable::aorOf(std::int64_t extensionId) const {
  static const std::string kNone;
  auto it = byExtension_.find(extensionId);
  return it == byExtension_.end() ? kNone : it->second.aor;
}

std::vector<Binding> BindingTable::copyOf(std::int64_t extensionId) const {
  const std::vector<Binding>* current = find(extensionId);
  return current ? *current : std::vector<Binding>{};
}

void BindingTable::commit(std::int64_t extensionId, std::vector<Binding> bindings,
                          const std::string* aor) {
  auto it = byExtension_.find(extensionId);
  if (it != byExtension_.end()) {
    for (const Binding& b : it->second.bindings) index_.erase(b.id);
  }
  for (const Binding& b : bindings) index_[b.id] = extensionId;
  if (bindings.empty()) {
    if (it != byExtension_.end()) byExtension_.erase(it);
    return;
  }
  bindings.shrink_to_fit();
  if (it == byExtension_.end()) it = byExtension_.emplace(extensionId, Entry{}).first;
  it->second.bindings = std::move(bindings);
  if (aor && it->second.aor != *aor) it->second.aor = *aor;
}

Binding* BindingTable::byId(BindingId id) {
  auto idx = index_.find(id);
  if (idx == index_.end()) return nullptr;
  auto ext = byExtension_.find(idx->second);
  if (ext == byExtension_.end()) return nullptr;
  auto& list = ext->second.bindings;
  auto b = std::find_if(list.begin(), list.end(), [&](const Binding& x) { return x.id == id; });
  return b == list.end() ? nullptr : &*b;
}

}  // namespace duplex::registrar
