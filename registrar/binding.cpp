#include "registrar/binding.h"

#include <algorithm>

#include <spdlog/spdlog.h>

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
  to.destination = Endpoint{b.record.sourceIp, b.record.sourcePort};
  to.connectionId = b.record.connectionId;
  to.local = Endpoint{b.record.localIp, b.record.localPort};
  return to;
}

spdlog::logger& registrarLog() {
  std::shared_ptr<spdlog::logger> named = spdlog::get("registrar");
  return named ? *named : *spdlog::default_logger_raw();
}

const std::vector<Binding>* BindingTable::find(std::int64_t extensionId) const {
  auto it = byExtension_.find(extensionId);
  return it == byExtension_.end() ? nullptr : &it->second;
}

std::vector<Binding> BindingTable::copyOf(std::int64_t extensionId) const {
  const std::vector<Binding>* current = find(extensionId);
  return current ? *current : std::vector<Binding>{};
}

void BindingTable::commit(std::int64_t extensionId, std::vector<Binding> bindings) {
  auto it = byExtension_.find(extensionId);
  if (it != byExtension_.end()) {
    for (const Binding& b : it->second) index_.erase(b.id);
  }
  for (const Binding& b : bindings) index_[b.id] = extensionId;
  if (bindings.empty()) {
    if (it != byExtension_.end()) byExtension_.erase(it);
    return;
  }
  bindings.shrink_to_fit();
  if (it != byExtension_.end()) {
    it->second = std::move(bindings);
  } else {
    byExtension_.emplace(extensionId, std::move(bindings));
  }
}

Binding* BindingTable::byId(BindingId id) {
  auto idx = index_.find(id);
  if (idx == index_.end()) return nullptr;
  auto ext = byExtension_.find(idx->second);
  if (ext == byExtension_.end()) return nullptr;
  auto b = std::find_if(ext->second.begin(), ext->second.end(),
                        [&](const Binding& x) { return x.id == id; });
  return b == ext->second.end() ? nullptr : &*b;
}

}  // namespace duplex::registrar
