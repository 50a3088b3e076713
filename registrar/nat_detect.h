// Decides whether a registering phone sits behind NAT, from the addresses it
// wrote (Contact, top Via) and the address its packet really came from.
// Internal to the registrar. Any thread (pure functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace duplex::registrar {

// RFC 1918, RFC 6598 shared (100.64/10), link-local, loopback; IPv6 unique
// local (fc00::/7), link-local (fe80::/10) and loopback. False for names and
// anything that is not an address literal. IPv6 may be in [brackets].
bool isPrivateAddress(std::string_view host);

struct NatFacts {
  std::string_view contactHost;
  std::optional<std::uint16_t> contactPort;  // as written; default by transport
  std::string_view viaHost;
  std::optional<std::uint16_t> viaPort;
  std::string_view sourceIp;
  std::uint16_t sourcePort = 0;
  bool connectionOriented = false;   // TCP/TLS: the source port is ephemeral
  std::uint16_t defaultPort = 5060;  // 5061 for TLS (RFC 3261 19.1.2)
};

// Behind NAT when
//  - the Contact host differs from the source IP (a name always differs), or
//    for UDP the Contact or Via port (default 5060/5061) differs from the
//    source port. Over TCP/TLS the client port is ephemeral (RFC 3261 18.1.1), so
//    only the host is compared; or
//  - the Contact or Via host is a private address while the source is not.
bool isBehindNat(const NatFacts& facts);

}  // namespace duplex::registrar
