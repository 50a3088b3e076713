#include "nat/local_interfaces.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <bit>
#include <cstring>

namespace duplex::nat {

std::vector<LocalInterface> readLocalInterfaces() {
  std::vector<LocalInterface> out;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (!i->ifa_addr || !(i->ifa_flags & IFF_UP)) continue;
    const int family = i->ifa_addr->sa_family;
    if (family != AF_INET && family != AF_INET6) continue;
    IpAddress ip;
    unsigned prefix = 0;
    if (family == AF_INET) {
      std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(i->ifa_addr)->sin_addr, 4);
      if (i->ifa_netmask) {
        std::uint32_t mask = 0;
        std::memcpy(&mask, &reinterpret_cast<const sockaddr_in*>(i->ifa_netmask)->sin_addr, 4);
        prefix = static_cast<unsigned>(std::popcount(mask));
      }
    } else {
      ip.v6 = true;
      std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(i->ifa_addr)->sin6_addr,
                  16);
      if (i->ifa_netmask) {
        const auto* m = reinterpret_cast<const sockaddr_in6*>(i->ifa_netmask);
        for (int b = 0; b < 16; ++b)
          prefix += static_cast<unsigned>(std::popcount(m->sin6_addr.s6_addr[b]));
      }
    }
    out.push_back({i->ifa_name, ip.toString(), prefix, (i->ifa_flags & IFF_LOOPBACK) != 0});
  }
  freeifaddrs(list);
  return out;
}

}  // namespace duplex::nat
