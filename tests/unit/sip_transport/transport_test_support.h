// Helpers for the transport tests: drive the loop until a condition holds
// (bounded, no sleeps), raw loopback peers, corpus files.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

#include "pbx/sip/event_loop.h"
#include "pbx/sip/message.h"
#include "pbx/sip/transaction.h"

namespace duplex::sip::test {

using namespace std::chrono_literals;

// Runs loop rounds until `done()` or the deadline; true when `done()` held.
inline bool runUntil(EventLoop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds deadline = 5000ms) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    loop.runOnce(5ms);
  }
  return true;
}

// A few loop rounds, for "nothing more happens" checks.
inline void spin(EventLoop& loop, int rounds = 5) {
  for (int i = 0; i < rounds; ++i) loop.runOnce(1ms);
}

inline sockaddr_storage toSockaddr(const Endpoint& e, socklen_t& length) {
  sockaddr_storage s{};
  if (e.ip.find(':') == std::string::npos) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&s);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(e.port);
    ::inet_pton(AF_INET, e.ip.c_str(), &v4->sin_addr);
    length = sizeof(sockaddr_in);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&s);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(e.port);
    ::inet_pton(AF_INET6, e.ip.c_str(), &v6->sin6_addr);
    length = sizeof(sockaddr_in6);
  }
  return s;
}

inline Endpoint endpointOf(const sockaddr_storage& s) {
  char text[INET6_ADDRSTRLEN] = {};
  if (s.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&s);
    ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
    return {text, ntohs(v4->sin_port)};
  }
  const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&s);
  ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
  return {text, ntohs(v6->sin6_port)};
}

inline Endpoint localOf(int fd) {
  sockaddr_storage s{};
  socklen_t length = sizeof s;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&s), &length);
  return endpointOf(s);
}

// A raw socket owned by a test.
class RawSocket {
 public:
  RawSocket(int family, int type) : fd_(::socket(family, type | SOCK_CLOEXEC, 0)) {}
  ~RawSocket() { close(); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  Endpoint local() const { return localOf(fd_); }

 protected:
  int fd_;
};

// A UDP peer bound to `ip`:0.
class UdpPeer : public RawSocket {
 public:
  explicit UdpPeer(const std::string& ip)
      : RawSocket(ip.find(':') == std::string::npos ? AF_INET : AF_INET6, SOCK_DGRAM) {
    socklen_t length = 0;
    sockaddr_storage s = toSockaddr({ip, 0}, length);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&s), length);
  }
  bool sendTo(const Endpoint& to, const std::string& bytes) {
    socklen_t length = 0;
    sockaddr_storage s = toSockaddr(to, length);
    return ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&s), length) ==
           static_cast<ssize_t>(bytes.size());
  }
  // One datagram if one is waiting.
  std::optional<std::string> tryReceive(Endpoint* from = nullptr) {
    char buffer[70000];
    sockaddr_storage s{};
    socklen_t length = sizeof s;
    const ssize_t n = ::recvfrom(fd_, buffer, sizeof buffer, MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&s), &length);
    if (n < 0) return std::nullopt;
    if (from != nullptr) *from = endpointOf(s);
    return std::string(buffer, static_cast<std::size_t>(n));
  }
};

// A TCP client: blocking connect (the kernel completes it from the listen
// backlog without the loop), blocking writes of small data, polled reads.
class TcpClient : public RawSocket {
 public:
  explicit TcpClient(const Endpoint& server, int receive_buffer = 0)
      : RawSocket(server.ip.find(':') == std::string::npos ? AF_INET : AF_INET6, SOCK_STREAM) {
    if (receive_buffer > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    socklen_t length = 0;
    sockaddr_storage s = toSockaddr(server, length);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&s), length) == 0;
  }
  bool connected() const { return connected_; }
  bool write(const std::string& bytes) {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  // Reads what is waiting; records EOF or reset.
  void poll() {
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        received.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) closed = true;
      return;
    }
  }
  bool pollClosed() {
    poll();
    return closed;
  }
  bool pollReceived(std::size_t bytes) {
    poll();
    return received.size() >= bytes;
  }

  std::string received;
  bool closed = false;

 private:
  bool connected_ = false;
};

// A port nobody listens on (bound, then released).
inline std::uint16_t closedTcpPort(const std::string& ip) {
  RawSocket s(ip.find(':') == std::string::npos ? AF_INET : AF_INET6, SOCK_STREAM);
  socklen_t length = 0;
  sockaddr_storage a = toSockaddr({ip, 0}, length);
  ::bind(s.fd(), reinterpret_cast<sockaddr*>(&a), length);
  return s.local().port;
}

// An RFC 4475 message, byte-exact, from tests/data/rfc4475; nullopt when missing.
inline std::optional<std::string> rfc4475(const std::string& name) {
  std::ifstream in(std::string(DUPLEX_TEST_DATA) + "/rfc4475/" + name, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string missingCorpus(const std::string& name) {
  return "missing test corpus file " + std::string(DUPLEX_TEST_DATA) + "/rfc4475/" + name +
         " (copy /work/shared/corpus/rfc4475/*.dat there byte-exact)";
}

inline Destination to(Transport transport, const Endpoint& endpoint,
                      std::uint64_t connection_id = 0) {
  Destination d;
  d.transport = transport;
  d.endpoint = endpoint;
  d.connection_id = connection_id;
  return d;
}

// A small request with a correct Content-Length.
inline std::string sipRequest(const std::string& call_id, const std::string& body = "") {
  return "OPTIONS sip:pbx@example.com SIP/2.0\r\n"
         "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK-" +
         call_id +
         "\r\n"
         "Call-ID: " +
         call_id + "\r\nCSeq: 1 OPTIONS\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace duplex::sip::test
