// Syntax checks for the addresses and numbers the admin API accepts (settings,
// trunks, routes, inbound numbers). Internal to admin/. Any thread; pure.
#pragma once

#include <string_view>

namespace duplex::admin {

bool validHostname(std::string_view host);  // RFC 1123 labels
bool validHost(std::string_view host);      // a host name or an IPv4/IPv6 literal
bool validPort(std::string_view port);      // 1-65535, digits only
// host, host:port, [v6] or [v6]:port
bool validHostPort(std::string_view item);
bool validIp(std::string_view item);    // an IPv4/IPv6 literal
bool validCidr(std::string_view item);  // 192.168.1.0/24, 2001:db8::/32
// A telephone number as dialled or presented: 1-32 digits, optional leading +.
bool validPhoneNumber(std::string_view number);
// A dial prefix: 1-16 of digits, '*', '#', with an optional leading '+'
// ("+" alone is a prefix too).
bool validDialPrefix(std::string_view prefix);
// A SIP user part we put in From/To/Request-URI and REGISTER: 1-64
// characters of RFC 3261 25.1 "user" without escapes (unreserved and
// &=+$,;?/ -- but not ':' '@' or blanks).
bool validSipUser(std::string_view user);

}  // namespace duplex::admin
