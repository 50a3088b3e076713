// concat(a, b, ...): one std::string from string-like parts, sized once.
// Used instead of `"literal" + std::string` chains, which GCC 12 at -O3
// reports as a false -Wrestrict error. For pbx/call; any thread.
#pragma once

#include <string>
#include <string_view>

namespace duplex::call {

template <class... Parts>
std::string concat(const Parts&... parts) {
  const std::string_view views[] = {std::string_view(parts)...};
  std::size_t size = 0;
  for (std::string_view v : views) size += v.size();
  std::string out;
  out.reserve(size);
  for (std::string_view v : views) out.append(v);
  return out;
}

}  // namespace duplex::call
