// A binding as the registrar holds it in memory, and the table of all of
// them by extension. Internal to the registrar; owned by the SIP loop thread
// through Registrar.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "db/binding_repository.h"
#include "registrar/registrar.h"

namespace spdlog {
class logger;
}

namespace duplex::registrar {

// The facts of db::BindingRecord minus what the table already knows (the
// AOR is kept once per extension, times as Instants, transport as an enum):
// 10,000 of these must fit well inside 10 MB.
struct Binding {
  BindingId id = 0;
  std::int64_t extensionId = 0;
  std::string contactUri;                 // as the phone wrote it
  std::optional<std::string> instanceId;  // +sip.instance (RFC 5626 4.1)
  std::string callId;
  std::string userAgent;
  std::string localIp;   // our socket the REGISTER arrived on
  std::string sourceIp;  // where it really came from
  std::optional<double> q;
  std::optional<std::int64_t> connectionId;
  Instant expiresAt;     // exactly: REGISTER time + granted seconds
  Instant registeredAt;  // last REGISTER that created or refreshed it
  std::uint32_t cseq = 0;
  std::uint32_t keepAliveFailures = 0;  // consecutive
  std::uint16_t localPort = 0;
  std::uint16_t sourcePort = 0;
  Transport transport = Transport::udp;
  bool behindNat = false;

  // Same rule as db::BindingRecord::key().
  const std::string& key() const { return instanceId ? *instanceId : contactUri; }
  // Only UDP needs pings from us: a NAT keeps a TCP connection's mapping while
  // the phone keeps the connection (RFC 5626 4.4.1 leaves TCP to the client).
  bool needsKeepAlive() const { return behindNat && transport == Transport::udp; }
};

// The record the sink and the repository see.
db::BindingRecord toRecord(const Binding& binding, const std::string& aor);
// nullopt for an unknown transport name.
std::optional<Binding> fromRecord(const db::BindingRecord& record);

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
  // keeps the id index in step. `aor` replaces the stored AOR when given.
  void commit(std::int64_t extensionId, std::vector<Binding> bindings,
              const std::string* aor = nullptr);
  // The extension's address of record; empty if it has no bindings.
  const std::string& aorOf(std::int64_t extensionId) const;

  Binding* byId(BindingId id);
  BindingId allocateId() { return nextId_++; }

  std::size_t size() const { return index_.size(); }
  std::size_t extensions() const { return byExtension_.size(); }
  struct Entry {
    std::string aor;
    std::vector<Binding> bindings;
  };
  const std::unordered_map<std::int64_t, Entry>& all() const { return byExtension_; }

 private:
  std::unordered_map<std::int64_t, Entry> byExtension_;
  std::unordered_map<BindingId, std::int64_t> index_;  // id -> extension
  BindingId nextId_ = 1;
};

}  // namespace duplex::registrar
