// Host and host:port grammar shared by the URI and Via parsers
// (RFC 3261 25.1 hostport; RFC 5118 for IPv6 references). Internal to pbx/sip.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "pbx/sip/uri.h"

namespace duplex::sip::detail {

bool isIpv4(std::string_view s);
// IPv6address without brackets. Tolerates the ":::" of RFC 5118 4.10
// (the RFC 3261 ABNF bug) as if it were "::".
bool isIpv6(std::string_view s);
// hostname / IPv4address / IPv6 (without brackets); kNone when none of them.
HostType classifyHost(std::string_view host);

// Scans alphanum / "-" / "." from p and returns where that run ends; `type`
// is what classifyHost says of the run (kName, kIpv4 or kNone). One pass.
const char* scanHost(const char* p, const char* end, HostType& type);

struct HostPort {
  std::string_view host;  // without brackets
  HostType type = HostType::kNone;
  std::optional<std::uint16_t> port;
};
// host [":" port] with host = hostname / IPv4address / "[" IPv6address "]".
// Ports above 65535 and empty ports are errors.
std::optional<HostPort> parseHostPort(std::string_view text);

// %HH checks: every '%' is followed by two hex digits.
bool escapesValid(std::string_view s);

}  // namespace duplex::sip::detail
