// SIP trunks (the office's VoIP providers), outbound routes (which trunks a
// dialled number goes out through) and inbound numbers (DIDs and the
// extension each rings): storage interfaces and record types.
//
// For: the admin API (CRUD under /api/v1/trunks, /api/v1/outbound-routes,
// /api/v1/inbound-numbers) and the daemon's trunk directory cache
// (pbx/call/repository_trunk_directory.h). Thread: see db/db.h.
//
// The three tables are tied by foreign keys: a route lists trunks, an inbound
// number names an extension and optionally a trunk. A trunk that a route or an
// inbound number uses cannot be removed (TrunkInUseError, the admin API's
// 409); deleting an extension deletes its inbound numbers (ON DELETE CASCADE,
// like its bindings); deleting a route deletes its trunk list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/error.h"

namespace duplex::db {

struct TrunkRecord {
  std::int64_t id = 0;  // assigned by insert()
  std::string name;     // unique
  bool enabled = true;
  std::string host;  // provider host name or IP literal
  int port = 5060;
  std::string transport = "udp";  // "udp" or "tcp"
  std::string username;
  // Kept in plain text: a client digest (RFC 7616 3.4) needs the password
  // itself for whatever realm and algorithm the provider challenges with,
  // unlike the extensions' HA1s. The admin API never returns it.
  std::string password;
  std::string authUsername;  // "" = username
  std::string realm;         // "" = the realm of the challenge
  bool registration = true;  // REGISTER with the provider
  int registerIntervalSeconds = 600;
  std::string outboundProxy;  // "host[:port]"; "" = none
  std::string callerId;
  std::optional<int> maxCalls;  // nullopt: no limit
  std::vector<std::string> codecs;
  std::string fromDomain;
  std::string fromUser;
  std::vector<std::string> extraAddresses;  // IP literals or CIDR prefixes
  std::int64_t createdAt = 0;               // unix seconds, set by the database
  std::int64_t updatedAt = 0;

  bool operator==(const TrunkRecord&) const = default;
};

struct OutboundRouteRecord {
  std::int64_t id = 0;
  std::string name;  // unique
  int position = 0;  // routes are tried in ascending position, then id
  bool enabled = true;
  std::string pattern;                 // see pbx/call/trunk_directory.h
  std::vector<std::int64_t> trunkIds;  // in order of preference; each exists
  int stripDigits = 0;
  std::string prefix;
  std::string callerId;
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const OutboundRouteRecord&) const = default;
};

struct InboundNumberRecord {
  std::int64_t id = 0;
  std::string number;  // the DID; unique
  std::int64_t extensionId = 0;
  std::string extensionNumber;          // read only: the extension's number (joined)
  std::optional<std::int64_t> trunkId;  // nullopt: from any trunk
  std::int64_t createdAt = 0;
  std::int64_t updatedAt = 0;

  bool operator==(const InboundNumberRecord&) const = default;
};

// remove() of a trunk that routes or inbound numbers still use. The message
// names them ("trunk 3 is used by outbound route national, inbound number
// 4930123"); `users()` lists the same names for the API's 409.
class TrunkInUseError : public DbError {
 public:
  TrunkInUseError(const std::string& message, std::vector<std::string> users)
      : DbError(message), users_(std::move(users)) {}
  const std::vector<std::string>& users() const { return users_; }

 private:
  std::vector<std::string> users_;
};

// Every method throws DbError on storage failures.
class TrunkRepository {
 public:
  virtual ~TrunkRepository() = default;

  // Ordered by name.
  virtual std::vector<TrunkRecord> list() = 0;
  virtual std::optional<TrunkRecord> findById(std::int64_t id) = 0;
  // Ignores id/createdAt/updatedAt; returns the stored record. Throws
  // DuplicateKeyError if the name is taken.
  virtual TrunkRecord insert(const TrunkRecord& record) = 0;
  // Replaces every field of trunk record.id; false if there is none.
  // Throws DuplicateKeyError if the new name is taken.
  virtual bool update(const TrunkRecord& record) = 0;
  // False if absent. Throws TrunkInUseError while a route or an inbound
  // number uses the trunk (nothing is removed then).
  virtual bool remove(std::int64_t id) = 0;
};

class OutboundRouteRepository {
 public:
  virtual ~OutboundRouteRepository() = default;

  // Ordered by position, then id: the order routes are tried in.
  virtual std::vector<OutboundRouteRecord> list() = 0;
  virtual std::optional<OutboundRouteRecord> findById(std::int64_t id) = 0;
  // Throws DuplicateKeyError if the name is taken, DbError (foreign key) if a
  // trunk id does not exist.
  virtual OutboundRouteRecord insert(const OutboundRouteRecord& record) = 0;
  virtual bool update(const OutboundRouteRecord& record) = 0;
  virtual bool remove(std::int64_t id) = 0;
  // The names of the routes that list the trunk, ordered by position.
  virtual std::vector<std::string> routesUsing(std::int64_t trunkId) = 0;
};

class InboundNumberRepository {
 public:
  virtual ~InboundNumberRepository() = default;

  // Ordered by number.
  virtual std::vector<InboundNumberRecord> list() = 0;
  virtual std::optional<InboundNumberRecord> findById(std::int64_t id) = 0;
  virtual std::optional<InboundNumberRecord> findByNumber(std::string_view number) = 0;
  // Throws DuplicateKeyError if the number is taken, DbError (foreign key) if
  // the extension or trunk does not exist. extensionNumber is ignored.
  virtual InboundNumberRecord insert(const InboundNumberRecord& record) = 0;
  virtual bool update(const InboundNumberRecord& record) = 0;
  virtual bool remove(std::int64_t id) = 0;
};

}  // namespace duplex::db
