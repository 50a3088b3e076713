// A binding as the registrar holds it in memory, and the table of all of
// them by extension. Internal to the registrar; owned by the SIP loop thread
// through Registrar.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include <spdlog/logger.h>

#include "db/binding_repository.h"
#include "registrar/registrar.h"

namespace duplex::registrar {

struct Binding {
  BindingId id = 0;
  // The persisted facts. record.expiresAt is unixSecondsCeil(expiresAt),
  // record.updatedAt the last REGISTER, record.id stays 0.
  db::BindingRecord record;
  Instant expiresAt;     // exactly: REGISTER time + granted seconds
  Instant registeredAt;  // last REGISTER that created or refreshed it
  Transport transport = Transport::udp;
  std::uint32_t keepAliveFailures = 0;  // consecutive

  // Only UDP needs pings from us: a NAT keeps a TCP connection's mapping while
  // the phone keeps the connection (RFC 5626 4.4.1 leaves TCP to the client).
  bool needsKeepAlive() const { return record.behindNat && transport == Transport::udp; }
};

SendTo sendToOf(const Binding& binding);
Location locationOf(const Binding& binding, Instant now);
std::optional<Transport> transportFromName(std::string_view name);
// "registrar" when the daemon registered it, spdlog's default otherwise.
spdlog::logger& registrarLog();

// Bindings of every extension. Few per extension (the limit is small), so a
// vector each; an index by id for the keep-alive reports.
class BindingTable {
 public:
  const std::vector<Binding>* find(std::int64_t extensionId) const;
  // Copy of the extension's bindings (empty if none), to change and commit.
  std::vector<Binding> copyOf(std::int64_t extensionId) const;
  // Replaces the extension's bindings (erases the extension when empty) and
  // keeps the id index in step.
  void commit(std::int64_t extensionId, std::vector<Binding> bindings);

  Binding* byId(BindingId id);
  BindingId allocateId() { return nextId_++; }

  std::size_t size() const { return index_.size(); }
  std::size_t extensions() const { return byExtension_.size(); }
  const std::unordered_map<std::int64_t, std::vector<Binding>>& all() const { return byExtension_; }

 private:
  std::unordered_map<std::int64_t, std::vector<Binding>> byExtension_;
  std::unordered_map<BindingId, std::int64_t> index_;  // id -> extension
  BindingId nextId_ = 1;
};

}  // namespace duplex::registrar
