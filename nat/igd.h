// The Internet Gateway Device as the UPnP mapper sees it: the few IGD:1/2
// WANIPConnection actions it uses, blocking. Internal to nat/.
//
// MiniupnpcIgd (miniupnpc_igd.cpp) talks to a real router; tests use
// tests/fakes/fake_igd.h. Only the NAT worker thread calls it.
//
// Errors: every action returns an IgdResult: code 0 = done; a UPnP error code
// from the router (718 ConflictInMappingEntry, 725 OnlyPermanentLeasesSupported,
// 714 NoSuchEntryInArray, 713 SpecifiedArrayIndexInvalid, 606 Action not
// authorized, ...); or a negative miniupnpc code (-3 = the router did not
// answer: timeout, connection refused, vanished).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "nat/address_book.h"

namespace duplex::nat {

inline constexpr int kUpnpNoSuchEntry = 714;
inline constexpr int kUpnpInvalidIndex = 713;
inline constexpr int kUpnpConflict = 718;
inline constexpr int kUpnpSamePortValuesRequired = 724;
inline constexpr int kUpnpOnlyPermanentLeases = 725;
inline constexpr int kUpnpNoAnswer = -3;

struct IgdResult {
  int code = 0;
  std::string text;  // miniupnpc's strupnperror() or the router's description
  bool ok() const { return code == 0; }
};

struct IgdInfo {
  std::string location;     // root description URL
  std::string lan_address;  // our address on the interface that reaches it
  bool connected = true;    // UPNP_GetValidIGD == 1; 2 = "not connected" (still usable)
};

struct IgdMappingEntry {
  Protocol protocol = Protocol::kUdp;
  std::uint16_t external_port = 0;
  std::string internal_client;
  std::uint16_t internal_port = 0;
  std::string description;
  std::uint32_t lease_seconds = 0;  // remaining; 0 = permanent
};

class Igd {
 public:
  virtual ~Igd() = default;
  // Finds an IGD on the LAN; nullopt with `error` set when none answers.
  virtual std::optional<IgdInfo> discover(std::chrono::milliseconds timeout,
                                          std::string& error) = 0;
  virtual IgdResult externalIp(std::string& out) = 0;
  virtual IgdResult addMapping(Protocol protocol, std::uint16_t external_port,
                               const std::string& internal_client, std::uint16_t internal_port,
                               const std::string& description, std::uint32_t lease_seconds) = 0;
  virtual IgdResult getMapping(Protocol protocol, std::uint16_t external_port,
                               IgdMappingEntry& out) = 0;  // GetSpecificPortMappingEntry
  virtual IgdResult deleteMapping(Protocol protocol, std::uint16_t external_port) = 0;
  virtual IgdResult getMappingByIndex(int index, IgdMappingEntry& out) = 0;  // Generic...Entry
};

}  // namespace duplex::nat
