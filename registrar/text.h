// Internal to registrar/: ASCII text helpers its .cpp files share (header
// names, parameter names and algorithm tokens compare case-insensitively).
// Thread: any (pure functions). Errors: none.
#pragma once

#include <string_view>

namespace duplex::registrar::detail {

constexpr char asciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// ASCII case-insensitive equality (no locale: protocol tokens only).
constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace duplex::registrar::detail
