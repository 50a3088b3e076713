// Socket plumbing shared by the UDP and TCP transports; see transport_socket.h.
#include "pbx/sip/transport_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace duplex::sip::transport_detail {

void UniqueFd::reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool SocketAddress::isAny() const {
  if (family() == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr.s_addr == htonl(INADDR_ANY);
  }
  if (family() == AF_INET6) {
    return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr);
  }
  return false;
}

bool toSocketAddress(const Endpoint& endpoint, SocketAddress& out) {
  out = SocketAddress{};
  if (endpoint.ip.empty() || endpoint.ip.size() >= INET6_ADDRSTRLEN) return false;
  char text[INET6_ADDRSTRLEN];
  std::memcpy(text, endpoint.ip.data(), endpoint.ip.size());
  text[endpoint.ip.size()] = '\0';
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.storage);
  if (::inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(endpoint.port);
    out.length = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
  if (::inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(endpoint.port);
    out.length = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

Endpoint toEndpoint(const sockaddr* address) {
  Endpoint endpoint;
  char text[INET6_ADDRSTRLEN] = {};
  if (address->sa_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    endpoint.port = ntohs(v4->sin_port);
  } else if (address->sa_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    endpoint.port = ntohs(v6->sin6_port);
  }
  endpoint.ip = text;
  return endpoint;
}

Endpoint localEndpointOf(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (::getsockname(fd, address.get(), &address.length) != 0) return {};
  return toEndpoint(address.get());
}

Endpoint peerEndpointOf(int fd) {
  SocketAddress address;
  address.length = sizeof address.storage;
  if (::getpeername(fd, address.get(), &address.length) != 0) return {};
  return toEndpoint(address.get());
}

std::string endpointText(const Endpoint& endpoint) {
  const bool v6 = endpoint.ip.find(':') != std::string::npos;
  std::string text = v6 ? "[" + endpoint.ip + "]" : endpoint.ip;
  return text + ":" + std::to_string(endpoint.port);
}

void throwListenError(Transport protocol, const Endpoint& bind, int error) {
  throw TransportError("cannot listen on " + std::string(transportName(protocol)) + " " +
                       endpointText(bind) + ": " + std::strerror(error));
}

UniqueFd openBoundSocket(Transport protocol, const Endpoint& bind, int type) {
  SocketAddress address;
  if (!toSocketAddress(bind, address)) throwListenError(protocol, bind, EINVAL);
  UniqueFd fd(::socket(address.family(), type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) throwListenError(protocol, bind, errno);
  const int on = 1;
  if (address.family() == AF_INET6) {
    // One socket per family: "::" must not take the IPv4 port as well.
    ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  }
  if (type == SOCK_STREAM) {
    // Restarting the daemon must not wait for TIME_WAIT; Linux still refuses
    // a second listener on the port. (Not for UDP: there it would share the port.)
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  if (::bind(fd.get(), address.get(), address.length) != 0) throwListenError(protocol, bind, errno);
  return fd;
}

}  // namespace duplex::sip::transport_detail
