#include "admin/address_syntax.h"

#include <Poco/Net/IPAddress.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace duplex::admin {
namespace {

bool allDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool validHostname(std::string_view h) {
  if (h.empty() || h.size() > 253) return false;
  while (true) {
    const auto dot = h.find('.');
    const std::string_view label = h.substr(0, dot);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    }
    if (dot == std::string_view::npos) return true;
    h = h.substr(dot + 1);
  }
}

bool validIp(std::string_view item) {
  Poco::Net::IPAddress ip;
  return !item.empty() && Poco::Net::IPAddress::tryParse(std::string(item), ip);
}

bool validHost(std::string_view h) {
  return validIp(h) || validHostname(h);
}

bool validPort(std::string_view p) {
  if (p.empty() || p.size() > 5 || !allDigits(p)) return false;
  const int v = std::stoi(std::string(p));
  return v >= 1 && v <= 65535;
}

bool validHostPort(std::string_view item) {
  if (!item.empty() && item.front() == '[') {
    const auto close = item.find(']');
    if (close == item.npos) return false;
    if (!validIp(item.substr(1, close - 1))) return false;
    const auto rest = item.substr(close + 1);
    return rest.empty() || (rest.front() == ':' && validPort(rest.substr(1)));
  }
  const auto colon = item.find(':');
  if (colon != item.npos && item.find(':', colon + 1) == item.npos) {
    return validHost(item.substr(0, colon)) && validPort(item.substr(colon + 1));
  }
  return validHost(item);
}

bool validCidr(std::string_view item) {
  const auto slash = item.find('/');
  if (slash == item.npos) return false;
  Poco::Net::IPAddress ip;
  if (!Poco::Net::IPAddress::tryParse(std::string(item.substr(0, slash)), ip)) return false;
  const auto bits = item.substr(slash + 1);
  if (bits.empty() || bits.size() > 3 || !allDigits(bits)) return false;
  return std::stoi(std::string(bits)) <= (ip.family() == Poco::Net::AddressFamily::IPv4 ? 32 : 128);
}

bool validPhoneNumber(std::string_view number) {
  if (!number.empty() && number.front() == '+') number.remove_prefix(1);
  return !number.empty() && number.size() <= 32 && allDigits(number);
}

bool validDialPrefix(std::string_view prefix) {
  if (prefix == "+") return true;
  if (!prefix.empty() && prefix.front() == '+') prefix.remove_prefix(1);
  return !prefix.empty() && prefix.size() <= 16 &&
         std::all_of(prefix.begin(), prefix.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; });
}

bool validSipUser(std::string_view user) {
  if (user.empty() || user.size() > 64) return false;
  return std::all_of(user.begin(), user.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("-_.!~*'()&=+$,;?/").find(c) != std::string_view::npos;
  });
}

}  // namespace duplex::admin
