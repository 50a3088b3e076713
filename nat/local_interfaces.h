// This host's network interfaces and their addresses (getifaddrs): up
// interfaces only, IPv4 and IPv6, loopback flagged. Internal to nat/.
// Thread: any (blocking but fast). Errors: an empty list if getifaddrs fails.
#pragma once

#include <vector>

#include "nat/address_book.h"

namespace duplex::nat {

std::vector<LocalInterface> readLocalInterfaces();

}  // namespace duplex::nat
