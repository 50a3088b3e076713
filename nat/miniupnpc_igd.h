// The real Igd (nat/igd.h) on miniupnpc: SSDP discovery with a short timeout
// (optionally on one interface), UPNP_GetValidIGD, and the WANIPConnection
// SOAP actions. Internal to nat/. Thread: the NAT worker only (blocking).
// Errors: as in igd.h; miniupnpc's negative codes become kUpnpNoAnswer.
#pragma once

#include <memory>
#include <string>

#include "nat/igd.h"

namespace duplex::nat {

class MiniupnpcIgd final : public Igd {
 public:
  // `multicast_if`: the LAN interface name or address to discover on; "" = default route's.
  explicit MiniupnpcIgd(std::string multicast_if = "");
  ~MiniupnpcIgd() override;
  MiniupnpcIgd(const MiniupnpcIgd&) = delete;
  MiniupnpcIgd& operator=(const MiniupnpcIgd&) = delete;

  std::optional<IgdInfo> discover(std::chrono::milliseconds timeout, std::string& error) override;
  IgdResult externalIp(std::string& out) override;
  IgdResult addMapping(Protocol protocol, std::uint16_t external_port,
                       const std::string& internal_client, std::uint16_t internal_port,
                       const std::string& description, std::uint32_t lease_seconds) override;
  IgdResult getMapping(Protocol protocol, std::uint16_t external_port,
                       IgdMappingEntry& out) override;
  IgdResult deleteMapping(Protocol protocol, std::uint16_t external_port) override;
  IgdResult getMappingByIndex(int index, IgdMappingEntry& out) override;

 private:
  struct State;
  std::string multicast_if_;
  std::unique_ptr<State> state_;  // null until discovered
};

}  // namespace duplex::nat
