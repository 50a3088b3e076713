// What call control and the trunk registration client need to know about the
// office's VoIP providers (trunks), its outbound routes and its inbound
// numbers (DIDs), read from an in-memory cache that admin changes refresh (no
// database on the SIP loop).
//
// The records are plain values: the db component stores them (migration
// "trunks, routes and inbound numbers"), the admin API edits them under
// /api/v1/trunks, /api/v1/outbound-routes and /api/v1/inbound-numbers, and
// RepositoryTrunkDirectory (pbx/call, with the db repository) serves them to
// the SIP loop.
//
// For: call control (outbound routing, inbound acceptance), the trunk
// registration client, the status API. Thread: the SIP loop; tests pass a
// fake. Errors: lookups never throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::call {

struct TrunkConfig {
  std::int64_t id = 0;
  std::string name;  // unique, shown in the status and the call records
  bool enabled = true;
  // The provider: host name or IP literal, port, transport ("udp" or "tcp").
  std::string host;
  std::uint16_t port = 5060;
  std::string transport = "udp";
  std::string username;      // the AOR user part (and digest user unless authUsername)
  std::string password;      // plain: needed for client digests; never returned by GET
  std::string authUsername;  // empty: username
  std::string realm;         // empty: accept the realm the provider challenges with
  bool registration = true;  // send REGISTER to the provider
  int registerIntervalSeconds = 600;
  std::string outboundProxy;  // "host[:port]"; empty: send to host:port
  std::string callerId;       // number presented on outbound calls; empty: username
  std::optional<int> maxCalls;      // concurrent calls on this trunk; nullopt: no limit
  std::vector<std::string> codecs;  // allowed encoding names (pass-through); empty: all
  std::string fromDomain;           // From host override; empty: host
  std::string fromUser;             // From user override; empty: callerId or username
  // Sources accepted for inbound calls besides the host's resolved addresses
  // (IP literals or CIDR prefixes).
  std::vector<std::string> extraAddresses;
};

// Which class of number a dialled number is, for the extension permissions
// (db::CallPermission) and the premium-rate block.
enum class NumberClass { internal, local, national, international, premium };

struct OutboundRoute {
  std::int64_t id = 0;
  std::string name;
  int position = 0;  // routes are tried in ascending position
  bool enabled = true;
  // "0X." style pattern (X any digit, Z 1-9, N 2-9, [1-5] a set, '.' one or
  // more of anything, '!' zero or more) or, when it starts with '/', a regex
  // matched against the whole dialled number.
  std::string pattern;
  std::vector<std::int64_t> trunkIds;  // in order of preference (failover)
  int stripDigits = 0;                 // removed from the front first
  std::string prefix;                  // then added to the front
  std::string callerId;                // overrides the trunk's; empty: trunk's
};

struct InboundNumber {
  std::int64_t id = 0;
  std::string number;     // the DID as the provider sends it (Request-URI or To user)
  std::string extension;  // the internal extension it rings
  std::optional<std::int64_t> trunkId;  // only from this trunk; nullopt: any trunk
};

// Office-wide rules (admin settings "dialing.*"): how a dialled number is
// classified, and where inbound calls to an unknown DID go.
struct DialingRules {
  std::vector<std::string> internationalPrefixes{"00", "+"};
  std::vector<std::string> premiumPrefixes{"0900", "0137", "0190", "1900", "976"};
  std::string nationalPrefix = "0";  // numbers starting with it are national, others local
  std::string inboundDefault;        // extension for unknown DIDs; empty: 404
  bool allowPremium = false;         // premium-rate numbers are refused unless set
};

class TrunkDirectory {
 public:
  virtual ~TrunkDirectory() = default;
  virtual std::vector<TrunkConfig> trunks() const = 0;
  virtual std::optional<TrunkConfig> trunk(std::int64_t id) const = 0;
  // Ordered by position.
  virtual std::vector<OutboundRoute> outboundRoutes() const = 0;
  virtual std::optional<InboundNumber> inboundNumber(std::string_view did) const = 0;
  virtual DialingRules dialingRules() const = 0;
};

}  // namespace duplex::call
