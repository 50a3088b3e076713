// SIP over UDP (RFC 3261 18): one bound socket per address family; every
// datagram is one message with its real source (RFC 3581), and replies go
// out of the same socket so NAT bindings stay right.
//
// For: pbx/app. Thread: the SIP loop only (see transport.h).
#pragma once

#include <sys/socket.h>  // mmsghdr, iovec

#include <cstddef>
#include <memory>
#include <vector>

#include "pbx/sip/event_loop.h"
#include "pbx/sip/transport.h"
#include "pbx/sip/transport_socket.h"

namespace duplex::sip {

struct UdpConfig {
  // "0.0.0.0", "::" or a specific local address; port 0 = any free port.
  Endpoint bind{"0.0.0.0", 5060};
  // Datagrams above this are dropped and counted (and reported as 513).
  std::size_t max_message_size = 65535;
  int receive_buffer_bytes = 4 * 1024 * 1024;  // SO_RCVBUF; the kernel caps it at rmem_max
  // recvmmsg batch; the receive buffers take batch * max_message_size bytes.
  std::size_t receive_batch = 32;
};

class UdpTransport final : public SipTransport {
 public:
  // Binds at once; throws TransportError ("cannot listen on UDP
  // 0.0.0.0:5060: Address already in use").
  UdpTransport(EventLoop& loop, UdpConfig config, TransportHandlers handlers = {});
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  Transport protocol() const override { return Transport::kUdp; }
  const Endpoint& localEndpoint() const override { return local_; }
  void setHandlers(TransportHandlers handlers) override { handlers_ = std::move(handlers); }
  // Sends one datagram to to.endpoint from the bound socket, from to.local.ip
  // on a wildcard bind when given (to.transport and to.connection_id are
  // ignored). Not accepted: bad address, other address
  // family, oversized for UDP, or the socket buffer is full (no queueing: SIP
  // retransmits over UDP, RFC 3261 17.1.1.2).
  SendResult send(std::string_view bytes, const Destination& to) override;
  const TransportCounters& counters() const override { return counters_; }
  // The receive buffer the kernel granted (SO_RCVBUF as read back, which
  // counts its bookkeeping too: about twice what was asked for).
  int receiveBufferBytes() const;

 private:
  void onReadable();
  void deliver(const mmsghdr& header, const char* data);

  EventLoop& loop_;
  UdpConfig config_;
  TransportHandlers handlers_;
  transport_detail::UniqueFd fd_;
  Endpoint local_;
  int family_ = 0;
  bool wildcard_ = false;  // bound to 0.0.0.0/::, so the local address comes from PKTINFO
  TransportCounters counters_;

  // recvmmsg state, allocated once (batch * max_message_size bytes of data).
  std::unique_ptr<char[]> buffers_;
  std::vector<mmsghdr> headers_;
  std::vector<iovec> iovecs_;
  std::vector<transport_detail::SocketAddress> sources_;
  std::vector<char> controls_;
  IoWatch watch_;
};

}  // namespace duplex::sip
