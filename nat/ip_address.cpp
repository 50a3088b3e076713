#include "nat/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace duplex::nat {

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress out;
  if (text.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, out.bytes.data()) != 1) return std::nullopt;
    return out;
  }
  if (inet_pton(AF_INET6, buf, out.bytes.data()) != 1) return std::nullopt;
  out.v6 = true;
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out.bytes.data(), kMapped, 12) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), out.bytes.data() + 12, 4);
    return v4;
  }
  return out;
}

IpAddress IpAddress::v4(std::uint32_t host_order) {
  IpAddress out;
  out.bytes[0] = static_cast<std::uint8_t>(host_order >> 24);
  out.bytes[1] = static_cast<std::uint8_t>(host_order >> 16);
  out.bytes[2] = static_cast<std::uint8_t>(host_order >> 8);
  out.bytes[3] = static_cast<std::uint8_t>(host_order);
  return out;
}

std::uint32_t IpAddress::v4HostOrder() const {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

std::string IpAddress::toString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
  const auto slash = text.find('/');
  const auto address = IpAddress::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  const unsigned max = address->v6 ? 128 : 32;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const auto digits = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        prefix > max) {
      return std::nullopt;
    }
  }
  IpNetwork net{*address, prefix};
  for (unsigned bit = prefix; bit < max; ++bit) {
    net.base.bytes[bit / 8] &= static_cast<std::uint8_t>(~(0x80u >> (bit % 8)));
  }
  return net;
}

bool IpNetwork::contains(const IpAddress& address) const {
  if (address.v6 != base.v6) return false;
  const unsigned whole = prefix / 8;
  if (std::memcmp(address.bytes.data(), base.bytes.data(), whole) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff00u >> rest);
  return (address.bytes[whole] & mask) == (base.bytes[whole] & mask);
}

std::string IpNetwork::toString() const {
  return base.toString() + "/" + std::to_string(prefix);
}

namespace {
bool inV4(const IpAddress& a, std::uint32_t net, unsigned prefix) {
  if (a.v6) return false;
  const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
  return (a.v4HostOrder() & mask) == net;
}
}  // namespace

bool isPrivateOrCarrierGrade(const IpAddress& a) {
  return inV4(a, 0x0A000000, 8) || inV4(a, 0xAC100000, 12) || inV4(a, 0xC0A80000, 16) ||
         inV4(a, 0x64400000, 10);
}

bool isLoopbackOrLinkLocal(const IpAddress& a) {
  if (!a.v6) return inV4(a, 0x7F000000, 8) || inV4(a, 0xA9FE0000, 16);
  static constexpr std::uint8_t kLoop[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  if (std::memcmp(a.bytes.data(), kLoop, 16) == 0) return true;
  return a.bytes[0] == 0xfe && (a.bytes[1] & 0xc0) == 0x80;
}

}  // namespace duplex::nat
