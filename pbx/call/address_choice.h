// Which address of the PBX to write toward one peer (DESIGN.md "advertise per
// peer"): into Via, Contact and SDP of every message on that peer's leg. A
// peer on a local network gets the LAN address (the one its packets arrived
// on), every other peer the main (public) address.
//
// For: call control (one choice per leg, made once from the leg's real packet
// source and reused for retransmissions, ACK, BYE and re-INVITEs). The NAT
// issue's nat::AddressBook can replace ConfiguredAddressChoice behind the same
// interface. Thread: the SIP loop. Errors: none (a peer that is not an IP
// literal is never local).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace duplex::call {

class AddressChoice {
 public:
  virtual ~AddressChoice() = default;
  // The host to advertise toward `peer_ip` (the packets' real source), given
  // `local_ip`, the PBX address the peer's packets reach (may be a wildcard
  // "0.0.0.0"/"::" or empty when unknown).
  virtual std::string advertisedFor(std::string_view peer_ip, std::string_view local_ip) const = 0;
};

// From configuration alone: `main_address` (may be empty: then the local
// address is used for everyone), `local_networks` as CIDR text, and a
// fallback LAN address for a wildcard local address.
class ConfiguredAddressChoice final : public AddressChoice {
 public:
  ConfiguredAddressChoice(std::string main_address, const std::vector<std::string>& local_networks,
                          std::string lan_fallback);
  std::string advertisedFor(std::string_view peer_ip, std::string_view local_ip) const override;
  bool isLocal(std::string_view peer_ip) const;

 private:
  struct Net {
    unsigned char bytes[16] = {};
    bool v6 = false;
    unsigned prefix = 0;
  };
  std::string main_;
  std::vector<Net> nets_;
  std::string lan_fallback_;
};

}  // namespace duplex::call
