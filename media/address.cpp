#include "media/address.h"

#include <arpa/inet.h>

#include <cstring>

namespace duplex::media {

UdpAddress::UdpAddress() {
  std::memset(&storage_, 0, sizeof storage_);
}

std::optional<UdpAddress> UdpAddress::parse(std::string_view ip, std::uint16_t port) {
  char text[INET6_ADDRSTRLEN + 1];
  if (ip.empty() || ip.size() >= sizeof text) return std::nullopt;
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  UdpAddress address;
  if (inet_pton(AF_INET, text, &address.storage_.v4.sin_addr) == 1) {
    address.storage_.v4.sin_family = AF_INET;
    address.storage_.v4.sin_port = htons(port);
    return address;
  }
  if (inet_pton(AF_INET6, text, &address.storage_.v6.sin6_addr) == 1) {
    address.storage_.v6.sin6_family = AF_INET6;
    address.storage_.v6.sin6_port = htons(port);
    return address;
  }
  return std::nullopt;
}

UdpAddress UdpAddress::fromSockaddr(const sockaddr* address, socklen_t length) {
  UdpAddress result;
  if (address == nullptr) return result;
  if (address->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    std::memcpy(&result.storage_.v4, address, sizeof(sockaddr_in));
  } else if (address->sa_family == AF_INET6 &&
             length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(&result.storage_.v6, address, sizeof(sockaddr_in6));
  }
  return result;
}

std::uint16_t UdpAddress::port() const {
  switch (family()) {
    case AF_INET:
      return ntohs(storage_.v4.sin_port);
    case AF_INET6:
      return ntohs(storage_.v6.sin6_port);
    default:
      return 0;
  }
}

void UdpAddress::setPort(std::uint16_t port) {
  if (family() == AF_INET) storage_.v4.sin_port = htons(port);
  if (family() == AF_INET6) storage_.v6.sin6_port = htons(port);
}

namespace {

// Decimal digits of `value` at `out`; returns the end. Hand-made because the
// relay thread formats a packet's source when it first latches (inet_ntop's
// sprintf costs ~2,000 instructions per address, this ~50).
char* appendDecimal(char* out, unsigned value) {
  char digits[10];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) *out++ = digits[--n];
  return out;
}

}  // namespace

std::string UdpAddress::ip() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    const auto* b = reinterpret_cast<const unsigned char*>(&storage_.v4.sin_addr);
    char* end = text;
    for (int i = 0; i < 4; ++i) {
      if (i != 0) *end++ = '.';
      end = appendDecimal(end, b[i]);
    }
    return std::string(text, end);
  }
  if (family() == AF_INET6) inet_ntop(AF_INET6, &storage_.v6.sin6_addr, text, sizeof text);
  return text;
}

std::string UdpAddress::toString() const {
  if (!isSet()) return {};
  std::string out;
  out.reserve(INET6_ADDRSTRLEN + 8);
  if (family() == AF_INET6) out.push_back('[');
  out.append(ip());
  if (family() == AF_INET6) out.push_back(']');
  char port_text[8] = {':'};
  out.append(port_text, appendDecimal(port_text + 1, port()));
  return out;
}

bool UdpAddress::isPrivate() const {
  if (family() == AF_INET) {
    const std::uint32_t a = ntohl(storage_.v4.sin_addr.s_addr);
    auto in = [a](std::uint32_t net, int bits) {
      return (a >> (32 - bits)) == (net >> (32 - bits));
    };
    return in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10) ||
           in(0xA9FE0000, 16) || in(0x7F000000, 8);
  }
  if (family() == AF_INET6) {
    const auto* b = storage_.v6.sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&storage_.v6.sin6_addr)) {
      std::uint32_t v4;
      std::memcpy(&v4, b + 12, 4);
      UdpAddress mapped;
      mapped.storage_.v4.sin_family = AF_INET;
      mapped.storage_.v4.sin_addr.s_addr = v4;
      return mapped.isPrivate();
    }
    return (b[0] & 0xFE) == 0xFC || (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) ||
           IN6_IS_ADDR_LOOPBACK(&storage_.v6.sin6_addr);
  }
  return false;
}

bool UdpAddress::sameIp(const UdpAddress& other) const {
  if (family() != other.family()) return false;
  if (family() == AF_INET) return storage_.v4.sin_addr.s_addr == other.storage_.v4.sin_addr.s_addr;
  if (family() == AF_INET6) {
    return std::memcmp(&storage_.v6.sin6_addr, &other.storage_.v6.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

UdpAddress UdpAddress::mappedTo(int socket_family) const {
  if (socket_family != AF_INET6 || family() != AF_INET) return *this;
  UdpAddress mapped;
  mapped.storage_.v6.sin6_family = AF_INET6;
  mapped.storage_.v6.sin6_port = storage_.v4.sin_port;
  auto* b = mapped.storage_.v6.sin6_addr.s6_addr;
  b[10] = 0xFF;
  b[11] = 0xFF;
  std::memcpy(b + 12, &storage_.v4.sin_addr, 4);
  return mapped;
}

std::optional<UdpAddress> UdpAddress::parseHostPort(std::string_view text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= text.size()) return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return std::nullopt;
  }
  unsigned port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + static_cast<unsigned>(c - '0');
    if (port > 65535) return std::nullopt;
  }
  return parse(host, static_cast<std::uint16_t>(port));
}

}  // namespace duplex::media
