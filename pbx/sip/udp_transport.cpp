// SIP over UDP; see udp_transport.h.
#include "pbx/sip/udp_transport.h"

#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace duplex::sip {

using transport_detail::SocketAddress;

namespace {

// Room for one IP_PKTINFO or IPV6_PKTINFO control message per datagram.
constexpr std::size_t kControlSize =
    CMSG_SPACE(sizeof(in6_pktinfo)) + CMSG_SPACE(sizeof(in_pktinfo));
// recvmmsg calls per readiness event: bounded so one busy socket cannot
// starve the rest of the loop (epoll is level-triggered; it comes back).
constexpr int kMaxBatchesPerWakeup = 4;

bool isAllCrlf(const char* data, std::size_t length) {
  return std::all_of(data, data + length, [](char c) { return c == '\r' || c == '\n'; });
}

// The header section of a truncated datagram, for a 513 answer.
RejectedMessage oversized(Origin origin, std::string_view data) {
  RejectedMessage rejected{std::move(origin), SipError{513, "Message Too Large"}, data, false};
  if (const std::size_t blank = data.find("\r\n\r\n"); blank != std::string_view::npos) {
    rejected.head = data.substr(0, blank + 4);
    rejected.head_complete = true;
  }
  return rejected;
}

}  // namespace

UdpTransport::UdpTransport(EventLoop& loop, UdpConfig config, TransportHandlers handlers)
    : loop_(loop), config_(std::move(config)), handlers_(std::move(handlers)) {
  fd_ = transport_detail::openBoundSocket(Transport::kUdp, config_.bind, SOCK_DGRAM);
  SocketAddress bound;
  transport_detail::toSocketAddress(config_.bind, bound);
  family_ = bound.family();
  wildcard_ = bound.isAny();
  local_ = transport_detail::localEndpointOf(fd_.get());

  // Bursts of REGISTER refreshes and retransmissions must not overflow the
  // default ~200 KB buffer while the loop is busy. SO_RCVBUF is capped at
  // net.core.rmem_max; SO_RCVBUFFORCE passes the cap where the daemon may
  // (CAP_NET_ADMIN, e.g. run as root); the package raises rmem_max instead
  // (installer/60-duplex.conf). receiveBufferBytes() tells what the
  // kernel granted, for the start-up log.
  const int rcvbuf = config_.receive_buffer_bytes;
  if (rcvbuf > 0 &&
      ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) != 0) {
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  if (wildcard_) {
    // On a wildcard bind, the address a datagram arrived on is only known from
    // PKTINFO; the registrar and Via/Contact rewriting need it.
    const int on = 1;
    if (family_ == AF_INET) {
      ::setsockopt(fd_.get(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on);
    } else {
      ::setsockopt(fd_.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    }
  }

  const std::size_t batch = std::max<std::size_t>(1, config_.receive_batch);
  const std::size_t size = std::max<std::size_t>(1, config_.max_message_size);
  // Not zero-filled: pages become resident only as datagrams land in them,
  // so the idle daemon stays small (a vector<char> would touch them all).
  buffers_.reset(new char[batch * size]);
  headers_.resize(batch);
  iovecs_.resize(batch);
  sources_.resize(batch);
  controls_.resize(batch * kControlSize);
  for (std::size_t i = 0; i < batch; ++i) {
    iovecs_[i].iov_base = buffers_.get() + i * size;
    iovecs_[i].iov_len = size;
  }
  watch_ = IoWatch(loop_, fd_.get(), [this] { onReadable(); });
}

int UdpTransport::receiveBufferBytes() const {
  int granted = 0;
  socklen_t length = sizeof granted;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &granted, &length) != 0) return 0;
  return granted;
}

UdpTransport::~UdpTransport() = default;

void UdpTransport::onReadable() {
  const std::size_t batch = headers_.size();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    for (std::size_t i = 0; i < batch; ++i) {
      msghdr& h = headers_[i].msg_hdr;
      h = msghdr{};
      h.msg_name = sources_[i].get();
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &iovecs_[i];
      h.msg_iovlen = 1;
      if (wildcard_) {
        h.msg_control = controls_.data() + i * kControlSize;
        h.msg_controllen = kControlSize;
      }
      headers_[i].msg_len = 0;
    }
    const int n =
        ::recvmmsg(fd_.get(), headers_.data(), static_cast<unsigned>(batch), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) ++counters_.receive_errors;
      return;
    }
    for (int i = 0; i < n; ++i) {
      deliver(headers_[static_cast<std::size_t>(i)],
              static_cast<const char*>(iovecs_[static_cast<std::size_t>(i)].iov_base));
    }
    if (static_cast<std::size_t>(n) < batch) return;
  }
}

void UdpTransport::deliver(const mmsghdr& header, const char* data) {
  const std::size_t length = header.msg_len;
  if (length == 0) return;
  if (isAllCrlf(data, length)) {
    ++counters_.keepalives_received;  // CRLF pings over UDP: nothing to answer
    return;
  }
  Origin origin;
  origin.transport = Transport::kUdp;
  origin.source =
      transport_detail::toEndpoint(static_cast<const sockaddr*>(header.msg_hdr.msg_name));
  origin.local = local_;
  if (wildcard_) {
    msghdr& h = const_cast<msghdr&>(header.msg_hdr);
    for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(&h, c)) {
      SocketAddress address;
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
        v4->sin_family = AF_INET;
        v4->sin_addr = info.ipi_addr;  // the destination address in the IP header
      } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo info;
        std::memcpy(&info, CMSG_DATA(c), sizeof info);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_addr = info.ipi6_addr;
      } else {
        continue;
      }
      origin.local.ip = transport_detail::toEndpoint(address.get()).ip;
    }
  }
  if ((header.msg_hdr.msg_flags & MSG_TRUNC) != 0) {
    // Larger than max_message_size: dropped; the layer above may answer 513
    // (RFC 3261 21.5.14) from the headers, when they fit.
    ++counters_.dropped_oversized;
    if (handlers_.on_rejected) handlers_.on_rejected(oversized(std::move(origin), {data, length}));
    return;
  }
  ++counters_.messages_received;
  counters_.bytes_received += length;
  if (handlers_.on_message) handlers_.on_message(std::string(data, length), origin);
}

SendResult UdpTransport::send(std::string_view bytes, const Destination& to) {
  SocketAddress destination;
  if (!transport_detail::toSocketAddress(to.endpoint, destination) ||
      destination.family() != family_ || to.endpoint.port == 0) {
    ++counters_.send_failures;
    return {};
  }
  iovec iov{const_cast<char*>(bytes.data()), bytes.size()};
  msghdr message{};
  message.msg_name = destination.get();
  message.msg_namelen = destination.length;
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[kControlSize] = {};
  SocketAddress source;
  if (wildcard_ && !to.local.ip.empty() &&
      transport_detail::toSocketAddress(Endpoint{to.local.ip, 0}, source) && !source.isAny() &&
      source.family() == family_) {
    // Reply from the address the request arrived on (multi-homed hosts).
    message.msg_control = control;
    cmsghdr* c = nullptr;
    if (family_ == AF_INET) {
      message.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
      c = CMSG_FIRSTHDR(&message);
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo info{};
      info.ipi_spec_dst = reinterpret_cast<const sockaddr_in*>(source.get())->sin_addr;
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    } else {
      message.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
      c = CMSG_FIRSTHDR(&message);
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo info{};
      info.ipi6_addr = reinterpret_cast<const sockaddr_in6*>(source.get())->sin6_addr;
      std::memcpy(CMSG_DATA(c), &info, sizeof info);
    }
  }
  ssize_t n;
  do {
    n = ::sendmsg(fd_.get(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  // EAGAIN/ENOBUFS: the socket buffer is full; EMSGSIZE: too big for UDP
  // (RFC 3261 18.1.1 wants such requests on TCP: the caller's choice).
  if (n < 0 || static_cast<std::size_t>(n) != bytes.size()) {
    ++counters_.send_failures;
    return {};
  }
  ++counters_.messages_sent;
  counters_.bytes_sent += bytes.size();
  return {true, 0};
}

}  // namespace duplex::sip
