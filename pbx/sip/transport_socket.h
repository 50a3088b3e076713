// Internal to pbx/sip: socket plumbing shared by the UDP and TCP transports
// (address conversion, owned descriptors, the bound listening socket).
// Loop thread; start-up helpers throw TransportError.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>
#include <utility>

#include "pbx/sip/message.h"
#include "pbx/sip/transport.h"

namespace duplex::sip::transport_detail {

// An owned file descriptor; closes on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset();

 private:
  int fd_ = -1;
};

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* get() { return reinterpret_cast<sockaddr*>(&storage); }
  int family() const { return storage.ss_family; }
  bool isAny() const;  // 0.0.0.0 or ::
};

// IP literal (IPv4 dotted quad, IPv6 without brackets) + port; false if not a literal.
bool toSocketAddress(const Endpoint& endpoint, SocketAddress& out);
// Canonical text (inet_ntop) and port of an AF_INET/AF_INET6 address.
Endpoint toEndpoint(const sockaddr* address);
Endpoint localEndpointOf(int fd);  // getsockname
Endpoint peerEndpointOf(int fd);   // getpeername

// "1.2.3.4:5060" or "[::1]:5060".
std::string endpointText(const Endpoint& endpoint);

// A non-blocking socket of `type` bound to `bind` (IPv6 sockets are V6ONLY,
// so 0.0.0.0 and :: can share a port); throws TransportError
// "cannot listen on <PROTO> <addr>:<port>: <strerror>".
UniqueFd openBoundSocket(Transport protocol, const Endpoint& bind, int type);
[[noreturn]] void throwListenError(Transport protocol, const Endpoint& bind, int error);

}  // namespace duplex::sip::transport_detail
