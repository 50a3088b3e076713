// Address choice per leg; see address_choice.h.
#include "pbx/call/address_choice.h"

#include <arpa/inet.h>

#include <cstring>

namespace duplex::call {
namespace {

bool parseIp(std::string_view text, unsigned char (&out)[16], bool& v6) {
  std::string s(text);
  if (inet_pton(AF_INET, s.c_str(), out) == 1) {
    v6 = false;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), out) == 1) {
    v6 = true;
    return true;
  }
  return false;
}

bool isWildcard(std::string_view ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "::";
}

}  // namespace

ConfiguredAddressChoice::ConfiguredAddressChoice(std::string main_address,
                                                 const std::vector<std::string>& local_networks,
                                                 std::string lan_fallback)
    : main_(std::move(main_address)), lan_fallback_(std::move(lan_fallback)) {
  for (const std::string& cidr : local_networks) {
    const auto slash = cidr.find('/');
    Net net;
    if (!parseIp(std::string_view(cidr).substr(0, slash), net.bytes, net.v6)) continue;
    net.prefix = slash == std::string::npos
                     ? (net.v6 ? 128U : 32U)
                     : static_cast<unsigned>(std::stoul(cidr.substr(slash + 1)));
    nets_.push_back(net);
  }
}

bool ConfiguredAddressChoice::isLocal(std::string_view peer_ip) const {
  unsigned char ip[16] = {};
  bool v6 = false;
  if (!parseIp(peer_ip, ip, v6)) return false;
  for (const Net& net : nets_) {
    if (net.v6 != v6) continue;
    unsigned bits = net.prefix;
    std::size_t i = 0;
    bool match = true;
    for (; bits >= 8; bits -= 8, ++i) {
      if (ip[i] != net.bytes[i]) {
        match = false;
        break;
      }
    }
    if (match && bits > 0) {
      const auto mask = static_cast<unsigned char>(0xff << (8 - bits));
      match = (ip[i] & mask) == (net.bytes[i] & mask);
    }
    if (match) return true;
  }
  return false;
}

std::string ConfiguredAddressChoice::advertisedFor(std::string_view peer_ip,
                                                   std::string_view local_ip) const {
  const std::string lan = isWildcard(local_ip) ? lan_fallback_ : std::string(local_ip);
  if (isLocal(peer_ip) || main_.empty()) return lan.empty() ? main_ : lan;
  return main_;
}

}  // namespace duplex::call
