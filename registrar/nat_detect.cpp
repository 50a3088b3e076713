#include "registrar/nat_detect.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <string>

#include "registrar/text.h"

namespace duplex::registrar {
namespace {

std::string_view stripBrackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

using detail::iequals;

// The same address written two ways ("::1" and "0:0::1") compares equal.
bool sameHost(std::string_view a, std::string_view b) {
  a = stripBrackets(a);
  b = stripBrackets(b);
  if (iequals(a, b)) return true;
  const std::string sa(a), sb(b);
  std::array<unsigned char, 16> ba{}, bb{};
  if (inet_pton(AF_INET6, sa.c_str(), ba.data()) == 1 &&
      inet_pton(AF_INET6, sb.c_str(), bb.data()) == 1) {
    return ba == bb;
  }
  return false;
}

}  // namespace

bool isPrivateAddress(std::string_view host) {
  const std::string text(stripBrackets(host));
  std::array<unsigned char, 16> b{};
  if (inet_pton(AF_INET, text.c_str(), b.data()) == 1) {
    return b[0] == 10                               // RFC 1918
           || (b[0] == 172 && (b[1] & 0xF0) == 16)  // RFC 1918
           || (b[0] == 192 && b[1] == 168)          // RFC 1918
           || (b[0] == 100 && (b[1] & 0xC0) == 64)  // RFC 6598 carrier-grade NAT
           || (b[0] == 169 && b[1] == 254)          // RFC 3927 link-local
           || b[0] == 127;                          // loopback
  }
  if (inet_pton(AF_INET6, text.c_str(), b.data()) == 1) {
    const bool loopback =
        b == std::array<unsigned char, 16>{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return (b[0] & 0xFE) == 0xFC                       // RFC 4193 unique local
           || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)  // RFC 4291 link-local
           || loopback;
  }
  return false;
}

bool isBehindNat(const NatFacts& f) {
  if (!sameHost(f.contactHost, f.sourceIp)) return true;
  if (!f.connectionOriented) {
    if (f.contactPort.value_or(f.defaultPort) != f.sourcePort) return true;
    // RFC 3581 4: rport differing from the Via sent-by port is a rewrite too.
    if (!f.viaHost.empty() && f.viaPort.value_or(f.defaultPort) != f.sourcePort) return true;
  }
  // RFC 3261 18.2.1 / RFC 3581: a private address written in the message but
  // a public source means a NAT rewrote the packet on the way.
  const bool sourcePrivate = isPrivateAddress(f.sourceIp);
  if (!sourcePrivate && (isPrivateAddress(f.contactHost) || isPrivateAddress(f.viaHost))) {
    return true;
  }
  return false;
}

}  // namespace duplex::registrar
