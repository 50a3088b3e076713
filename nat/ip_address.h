// IP address literals and CIDR networks for the NAT module: parse, print,
// compare, test membership, classify (private, carrier-grade, loopback).
// IPv4-mapped IPv6 addresses (::ffff:1.2.3.4) are folded to IPv4.
//
// For: the address book, the UPnP mapper (double-NAT check), the STUN codec.
// Thread: any (plain values, pure functions). Errors: parse() returns nullopt
// for anything that is not a literal (names, garbage, out-of-range prefix).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::nat {

struct IpAddress {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 uses the first 4

  // "10.0.0.1", "2001:db8::1", "[2001:db8::1]"; nullopt for anything else.
  static std::optional<IpAddress> parse(std::string_view text);
  static IpAddress v4(std::uint32_t host_order);
  std::uint32_t v4HostOrder() const;  // IPv4 only
  std::string toString() const;       // IPv6 without brackets
  bool operator==(const IpAddress&) const = default;
};

struct IpNetwork {
  IpAddress base;
  unsigned prefix = 0;

  // "10.0.0.0/8", "fc00::/7"; host bits are cleared. A bare address is a /32
  // or /128. nullopt for anything else.
  static std::optional<IpNetwork> parse(std::string_view text);
  bool contains(const IpAddress& address) const;
  std::string toString() const;
  bool operator==(const IpNetwork&) const = default;
};

// RFC 1918 (10/8, 172.16/12, 192.168/16) or RFC 6598 carrier-grade (100.64/10):
// a router whose WAN address is one of these sits behind another NAT.
bool isPrivateOrCarrierGrade(const IpAddress& address);
// Loopback (127/8, ::1) or link-local (169.254/16, fe80::/10).
bool isLoopbackOrLinkLocal(const IpAddress& address);

}  // namespace duplex::nat
