// A UDP transport address (IPv4 or IPv6 literal + port) as the relay keeps it:
// a plain value holding the sockaddr the kernel gives and takes, so that
// comparing a packet's source with a latched address and handing a
// destination to sendmmsg() costs no allocation.
//
// For: media internals, pbx/call (what to pass as the SDP address of a leg).
// Thread: a value; any thread.
// Errors: parse() returns std::nullopt for anything that is not an IP literal
// (hostnames are not resolved here: call control resolves them first).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::media {

class UdpAddress {
 public:
  UdpAddress();  // the unset address (family AF_UNSPEC)
  // "192.0.2.1" / "2001:db8::1" (no brackets) and a port; nullopt otherwise.
  static std::optional<UdpAddress> parse(std::string_view ip, std::uint16_t port);
  // From what recvmmsg() filled in; an unknown family gives the unset address.
  static UdpAddress fromSockaddr(const sockaddr* address, socklen_t length);

  bool isSet() const { return storage_.v4.sin_family != AF_UNSPEC; }
  int family() const { return storage_.v4.sin_family; }
  std::uint16_t port() const;
  void setPort(std::uint16_t port);
  // "192.0.2.1" / "2001:db8::1"; "" when unset.
  std::string ip() const;
  // "192.0.2.1:4000" / "[2001:db8::1]:4000"; "" when unset.
  std::string toString() const;

  // The address says "no media here": 0.0.0.0 / :: (RFC 3264 8.4 hold) or port 0.
  // Inline, like operator== and sockaddrLength(): the relay thread asks per packet.
  bool isNull() const {
    if (family() == AF_INET) return storage_.v4.sin_port == 0 || storage_.v4.sin_addr.s_addr == 0;
    if (family() == AF_INET6) {
      return storage_.v6.sin6_port == 0 || IN6_IS_ADDR_UNSPECIFIED(&storage_.v6.sin6_addr);
    }
    return true;  // unset
  }
  // RFC 1918, RFC 6598 (100.64/10), link-local, loopback, fc00::/7, fe80::/10:
  // an address that a peer on the Internet cannot send to.
  bool isPrivate() const;
  bool sameIp(const UdpAddress& other) const;
  // For an IPv6 socket: an IPv4 address as ::ffff:a.b.c.d; anything else unchanged.
  UdpAddress mappedTo(int socket_family) const;
  // "192.0.2.1:4000" / "[2001:db8::1]:4000" back into an address; nullopt otherwise.
  static std::optional<UdpAddress> parseHostPort(std::string_view text);
  // Same family, IP and port (two unset addresses are equal).
  bool operator==(const UdpAddress& other) const {
    const int f = family();
    if (f != other.family()) return false;
    if (f == AF_INET) {
      return storage_.v4.sin_port == other.storage_.v4.sin_port &&
             storage_.v4.sin_addr.s_addr == other.storage_.v4.sin_addr.s_addr;
    }
    if (f == AF_INET6) {
      return storage_.v6.sin6_port == other.storage_.v6.sin6_port &&
             std::memcmp(&storage_.v6.sin6_addr, &other.storage_.v6.sin6_addr, sizeof(in6_addr)) ==
                 0;
    }
    return f == AF_UNSPEC;
  }

  const sockaddr* sockaddrPtr() const { return &storage_.any; }
  socklen_t sockaddrLength() const {
    if (family() == AF_INET) return sizeof(sockaddr_in);
    if (family() == AF_INET6) return sizeof(sockaddr_in6);
    return 0;
  }
  // For recvmmsg() to write a packet's source straight into an address (the
  // relay's receive buffers; room for a sockaddr_in6). The socket's family
  // decides what is written: AF_INET or AF_INET6, never anything else.
  sockaddr* receiveBuffer() { return &storage_.any; }
  static constexpr socklen_t kReceiveBufferLength = sizeof(sockaddr_in6);

 private:
  union Storage {
    sockaddr any;
    sockaddr_in v4;
    sockaddr_in6 v6;
  } storage_;
};

}  // namespace duplex::media
