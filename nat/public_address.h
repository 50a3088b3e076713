// Which public address to believe, from the sources the NAT worker asks, and
// what to say when they disagree. Internal to nat/. Pure functions, any thread.
//
// Order of trust: a configured main address that is an IP literal (the user
// said so); then STUN (what the internet really sees, even through double
// NAT); then the router's UPnP external address unless it is private or
// carrier-grade (double NAT); then the DNS answer for the DynDNS name (which
// may be stale: it is what we last told the provider).
#pragma once

#include <string>
#include <vector>

#include "nat/nat_status.h"

namespace duplex::nat {

struct PublicAddressDecision {
  std::string address;       // "" = unknown
  std::string source;        // which source it came from
  std::string disagreement;  // "" when every answering source agrees
};

PublicAddressDecision decidePublicAddress(const std::vector<AddressSource>& sources,
                                          const std::string& dyndns_name = "");

}  // namespace duplex::nat
