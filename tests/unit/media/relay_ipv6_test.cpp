// MediaRelay on an IPv6 address (::1): bytes go both ways from the advertised
// ports, and a dual-stack wildcard relay ("::") relays IPv4 phones whose SDP
// addresses are mapped to ::ffff:a.b.c.d.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <optional>
#include <vector>

#include "media/relay.h"

namespace duplex::media {
namespace {

struct Got {
  std::vector<std::uint8_t> bytes;
  std::uint16_t from_port = 0;
};

// A phone on ::1 (family AF_INET6) or 127.0.0.1 (AF_INET).
class Phone {
 public:
  explicit Phone(int family) : family_(family) {
    fd_ = ::socket(family, SOCK_DGRAM, 0);
    sockaddr_storage a{};
    socklen_t len = fill(a, 0);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), len);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&a)->sin6_port
                                     : reinterpret_cast<sockaddr_in*>(&a)->sin_port);
  }
  ~Phone() { ::close(fd_); }
  std::uint16_t port() const { return port_; }
  void sendTo(std::uint16_t port, const std::vector<std::uint8_t>& bytes) const {
    sockaddr_storage a{};
    const socklen_t len = fill(a, port);
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), len);
  }
  std::optional<Got> receive() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return std::nullopt;
    Got g;
    g.bytes.resize(2048);
    sockaddr_storage from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, g.bytes.data(), g.bytes.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    g.bytes.resize(static_cast<std::size_t>(n));
    g.from_port =
        ntohs(from.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&from)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&from)->sin_port);
    return g;
  }

 private:
  socklen_t fill(sockaddr_storage& a, std::uint16_t port) const {
    if (family_ == AF_INET6) {
      auto* v6 = reinterpret_cast<sockaddr_in6*>(&a);
      v6->sin6_family = AF_INET6;
      v6->sin6_addr = in6addr_loopback;
      v6->sin6_port = htons(port);
      return sizeof(sockaddr_in6);
    }
    auto* v4 = reinterpret_cast<sockaddr_in*>(&a);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    v4->sin_port = htons(port);
    return sizeof(sockaddr_in);
  }

  int family_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::vector<std::uint8_t> rtp(std::uint8_t fill) {
  std::vector<std::uint8_t> p(172, fill);
  p[0] = 0x80;
  p[1] = 8;  // PCMA
  return p;
}

RelayConfig config(const char* bind) {
  RelayConfig c;
  c.bind_address = bind;
  c.port_min = static_cast<std::uint16_t>(46000 + (::getpid() % 100) * 40);
  c.port_max = static_cast<std::uint16_t>(c.port_min + 39);
  return c;
}

void relaysBothWays(MediaRelay& relay, int family, const char* sdp_ip) {
  relay.start();
  const CreateResult s = relay.createSession();
  ASSERT_TRUE(s) << s.error;
  Phone a(family);
  Phone b(family);
  RemoteMedia ra;
  ra.address = sdp_ip;
  ra.rtp_port = a.port();
  RemoteMedia rb = ra;
  rb.rtp_port = b.port();
  relay.setRemote(s.id, Leg::kA, ra);
  relay.setRemote(s.id, Leg::kB, rb);
  a.sendTo(s.a.rtp, rtp(0x11));
  auto at_b = b.receive();
  ASSERT_TRUE(at_b);
  EXPECT_EQ(at_b->bytes, rtp(0x11));
  EXPECT_EQ(at_b->from_port, s.b.rtp);
  b.sendTo(s.b.rtp, rtp(0x22));
  auto at_a = a.receive();
  ASSERT_TRUE(at_a);
  EXPECT_EQ(at_a->bytes, rtp(0x22));
  EXPECT_EQ(at_a->from_port, s.a.rtp);
}

bool haveIpv6Loopback() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  if (fd >= 0) ::close(fd);
  return ok;
}

TEST(RelayIpv6, RelaysOnIpv6Loopback) {
  if (!haveIpv6Loopback()) GTEST_SKIP() << "no ::1 on this machine";
  MediaRelay relay(config("::1"));
  relaysBothWays(relay, AF_INET6, "::1");
}

TEST(RelayIpv6, DualStackWildcardRelaysIpv4Phones) {
  if (!haveIpv6Loopback()) GTEST_SKIP() << "no IPv6 on this machine";
  MediaRelay relay(config("::"));
  relaysBothWays(relay, AF_INET, "127.0.0.1");
}

}  // namespace
}  // namespace duplex::media
