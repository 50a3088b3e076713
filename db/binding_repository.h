// Registration bindings: storage interface and record type. The registrar
// keeps bindings in memory and writes changes behind in batches; at start-up
// it reloads the unexpired ones, so phones stay reachable across a restart.
// For: the registrar (through its write-behind thread). Thread: see db/db.h.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "db/error.h"

namespace duplex::db {

struct BindingRecord {
  std::int64_t id = 0;  // assigned by the database; ignored by upsertMany()
  std::int64_t extensionId = 0;
  std::string aor;                        // address of record, e.g. sip:101@pbx
  std::string contactUri;                 // the Contact URI as the phone wrote it
  std::optional<std::string> instanceId;  // +sip.instance (RFC 5626 4.1)
  std::string callId;
  std::uint32_t cseq = 0;
  std::int64_t expiresAt = 0;  // unix seconds
  std::optional<double> q;     // Contact q parameter, if given
  std::string transport;       // "udp", "tcp", "tls"
  std::string localIp;         // our address the REGISTER arrived on
  std::uint16_t localPort = 0;
  std::string sourceIp;  // where the REGISTER really came from (rport)
  std::uint16_t sourcePort = 0;
  bool behindNat = false;
  std::string userAgent;
  std::optional<std::int64_t> connectionId;  // TCP/TLS connection; nullopt for UDP
  std::int64_t updatedAt = 0;                // unix seconds, from the registrar's clock

  // Which binding a new registration replaces: the instance id when the phone
  // sends one (it survives reboots, the contact port does not), else the
  // contact URI. Unique per extension.
  const std::string& key() const { return instanceId ? *instanceId : contactUri; }

  bool operator==(const BindingRecord&) const = default;
};

// Identifies one binding for removal: the extension and BindingRecord::key().
struct BindingKey {
  std::int64_t extensionId = 0;
  std::string key;

  bool operator==(const BindingKey&) const = default;
};

// Throws DbError on storage failures; a failed batch is rolled back whole.
class BindingRepository {
 public:
  virtual ~BindingRepository() = default;

  // Inserts each binding, or replaces the one with the same extension and
  // key(), all in one transaction. Throws DbError (SQLITE_CONSTRAINT_FOREIGNKEY)
  // if an extension does not exist.
  virtual void upsertMany(std::span<const BindingRecord> bindings) = 0;
  // Deletes the listed bindings in one transaction; missing ones are skipped.
  // Returns how many were deleted.
  virtual std::size_t removeMany(std::span<const BindingKey> keys) = 0;
  // Deletes every binding of an extension (REGISTER with "Contact: *").
  virtual std::size_t removeAllOf(std::int64_t extensionId) = 0;
  // Bindings with expiresAt > now, ordered by extension, then key.
  virtual std::vector<BindingRecord> loadUnexpired(std::int64_t now) = 0;
  // Deletes bindings with expiresAt <= now; returns how many.
  virtual std::size_t purgeExpired(std::int64_t now) = 0;
};

}  // namespace duplex::db
