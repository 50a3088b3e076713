// The trunk directory of the running PBX (trunk_directory.h) read from the
// database: trunks, outbound routes and inbound numbers from their
// repositories (db/trunk_repository.h), the dialing rules from the admin
// settings "dialing.*" (a key that is not set keeps the DialingRules default):
//   dialing.international_prefixes  comma-separated, e.g. "00,+"
//   dialing.premium_prefixes        comma-separated, e.g. "0900,0137"
//   dialing.national_prefix         e.g. "0"
//   dialing.inbound_default         extension for unknown DIDs ("" = 404)
//   dialing.allow_premium           "true" / "false"
// Everything is cached in memory; reload() re-reads it (the daemon does so on
// the SIP loop at start and at once after an admin change, see
// pbx/app/trunk_wiring.h; the tables are a handful of rows).
//
// For: pbx/app (creates and reloads it), call control and the trunk
// registration client (read it). Thread: the SIP loop. Errors: the
// constructor and reload() let db::DbError through (the caller keeps the last
// good cache: reload() changes nothing when it throws); lookups never throw.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "db/settings_repository.h"
#include "db/trunk_repository.h"
#include "pbx/call/trunk_directory.h"

namespace duplex::call {

struct TrunkSources {
  db::TrunkRepository& trunks;
  db::OutboundRouteRepository& routes;
  db::InboundNumberRepository& numbers;
  db::SettingsRepository& settings;
};

// The dialing rules as stored under dialing.* (defaults for keys not set).
DialingRules dialingRulesFrom(db::SettingsRepository& settings);
TrunkConfig toTrunkConfig(const db::TrunkRecord& record);

class RepositoryTrunkDirectory final : public TrunkDirectory {
 public:
  explicit RepositoryTrunkDirectory(const TrunkSources& sources) { reload(sources); }
  void reload(const TrunkSources& sources);

  std::vector<TrunkConfig> trunks() const override { return trunks_; }
  std::optional<TrunkConfig> trunk(std::int64_t id) const override;
  std::vector<OutboundRoute> outboundRoutes() const override { return routes_; }
  std::optional<InboundNumber> inboundNumber(std::string_view did) const override;
  DialingRules dialingRules() const override { return rules_; }

 private:
  std::vector<TrunkConfig> trunks_;  // ordered by name
  std::vector<OutboundRoute> routes_;
  std::map<std::string, InboundNumber, std::less<>> numbers_;
  DialingRules rules_;
};

}  // namespace duplex::call
