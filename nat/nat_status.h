// A read-only snapshot of what the NAT module knows and does: the public
// address and where it came from, UPnP and each port mapping, the manual
// forwarding plan when UPnP cannot help, the NAT-type verdict and DynDNS.
// Plain values only, so the admin API can serialize it to JSON as is; every
// `*_text` field is a plain-language sentence meant for the admin page.
//
// For: the admin API (GET status), the daemon's log. Built by the NAT worker;
// read from any thread through NatService::status() (a copy of a snapshot).
// Times: `WallTime` is system_clock (UTC), a default value = never/unknown.
// Stable: fields are only ever added.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "nat/address_book.h"

namespace duplex::nat {

using WallTime = std::chrono::system_clock::time_point;

// One source of the public address.
struct AddressSource {
  std::string source;   // "config", "upnp", "stun", "dyndns-dns"
  std::string address;  // "" = this source has no answer now
  std::string error;    // why not, e.g. "no IGD found", "no STUN reply from 198.51.100.1:3478"
  WallTime when{};      // last time this source was asked
};

enum class UpnpState : std::uint8_t {
  kOff,          // nat.upnp = off
  kDiscovering,  // looking for an Internet Gateway Device
  kNoIgd,        // none answered on the LAN
  kMapped,       // IGD found, mappings in place
  kRefused,      // IGD found but it refuses every mapping
  kFailing,      // IGD errors or vanished; retrying with backoff
};
std::string_view upnpStateName(UpnpState state);  // "off", "discovering", ...

struct MappingStatus {
  Protocol protocol = Protocol::kUdp;
  std::uint16_t external_port = 0;
  std::uint16_t internal_port = 0;
  std::string internal_client;  // our LAN address
  std::string purpose;          // "SIP", "RTP", "RTP (call)"
  bool permanent = false;       // router only supports permanent leases (725)
  bool verified = false;        // read back from the router after adding
  WallTime expires{};           // lease end; default when permanent
  WallTime renew_at{};          // next renewal (half-life); default when permanent
};

// One line of the manual forwarding plan: what to type into the router.
struct ForwardingRule {
  Protocol protocol = Protocol::kUdp;
  std::uint16_t external_first = 0;
  std::uint16_t external_last = 0;
  std::string internal_ip;
  std::uint16_t internal_first = 0;
  std::uint16_t internal_last = 0;
  std::string purpose;  // "SIP", "RTP"
};

// RFC 5780 4.3 / 4.4 behaviour.
enum class MappingBehavior : std::uint8_t {
  kUnknown,                  // not probed (no STUN server, or no OTHER-ADDRESS)
  kNoNat,                    // mapped address is a local address
  kEndpointIndependent,      // same mapping to every destination
  kAddressDependent,         // changes with the destination IP
  kAddressAndPortDependent,  // changes with the destination IP and port (symmetric)
};
enum class FilteringBehavior : std::uint8_t {
  kUnknown,
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent,
};
std::string_view mappingBehaviorName(MappingBehavior behavior);      // "endpoint-independent", ...
std::string_view filteringBehaviorName(FilteringBehavior behavior);  // "address-dependent", ...

struct NatTypeVerdict {
  MappingBehavior mapping = MappingBehavior::kUnknown;
  FilteringBehavior filtering = FilteringBehavior::kUnknown;
  std::string server;  // the STUN server probed
  std::string text;    // e.g. "endpoint-independent mapping: phones with STUN will work; ..."
  WallTime when{};
};

struct DynDnsStatus {
  bool enabled = false;
  std::string hostname;
  std::string last_result;  // the provider's code: "good", "nochg", "badauth", "911", ...
  std::string text;  // plain language, e.g. "the provider rejected the user name or password"
  std::string last_address;  // address sent with the last successful update
  WallTime last_attempt{};
  WallTime last_success{};
  bool stopped = false;  // a fatal answer: no more updates until the settings change
};

struct NatStatus {
  std::string public_address;  // the one advertised to WAN peers; "" = unknown
  std::vector<AddressSource> sources;
  std::string disagreement;  // "" when the sources agree

  UpnpState upnp = UpnpState::kOff;
  std::string upnp_text;        // what is going on, in a sentence
  std::string igd_location;     // root description URL of the IGD
  std::string igd_external_ip;  // the router's WAN address as it reports it
  bool double_nat = false;
  std::string double_nat_text;  // what double NAT means for the user

  std::vector<MappingStatus> mappings;
  int mapping_budget = 0;
  bool rtp_on_demand = false;  // the RTP range did not fit the budget

  std::vector<ForwardingRule> manual_forwarding;  // non-empty when UPnP is off/missing/refusing
  std::string manual_forwarding_text;             // the same as sentences

  NatTypeVerdict nat_type;
  DynDnsStatus dyndns;
  WallTime updated{};
};

}  // namespace duplex::nat
