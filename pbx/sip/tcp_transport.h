// SIP over TCP (RFC 3261 18): a listening socket, accepted and outbound
// connections, stream framing by Content-Length (18.3), CRLF keep-alives
// (RFC 5626 4.4.1), connection reuse (18.1.1, 18.2.2), per-connection write
// queues with a cap, idle timeouts and connection limits.
//
// For: pbx/app. Thread: the SIP loop only (see transport.h).
//
// Choices worth knowing:
//   - A framing error or an oversized message (RejectedMessage) ends the
//     connection: the framing of the rest of the stream cannot be trusted
//     (RFC 4475 3.1.2.3, 3.3.9). The handler may still queue a 400/513 on it;
//     the transport flushes that, half-closes (FIN) and drops whatever the peer
//     still sends until it closes or closing_timeout passes ("lingering close",
//     so the answer is not lost to a reset).
//   - An incomplete message (e.g. Content-Length larger than what was sent,
//     RFC 4475 3.1.2.2) closes the connection after incomplete_message_timeout
//     (CloseReason::kIdle).
//   - Origin.local of a connection is its own local address and port
//     (getsockname); for outbound connections that is an ephemeral port, not
//     the listening port that Via carries.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pbx/sip/event_loop.h"
#include "pbx/sip/transport.h"
#include "pbx/sip/transport_socket.h"

namespace duplex::sip {

struct TcpConfig {
  Endpoint bind{"0.0.0.0", 5060};  // port 0 = any free port
  std::size_t max_message_size = 65535;
  std::chrono::milliseconds idle_timeout{600'000};
  std::chrono::milliseconds incomplete_message_timeout{32'000};  // 64*T1 (RFC 3261 17.1.1.2)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds closing_timeout{5'000};  // lingering close after a rejection
  std::size_t max_connections = 1024;                // total, inbound and outbound
  std::size_t max_connections_per_ip = 64;           // inbound, per peer IP address
  std::size_t max_queued_bytes =
      std::size_t{1024} * 1024;  // per connection; beyond: dropped (kOverloaded)
  int listen_backlog = 128;
};

class TcpTransport final : public SipTransport {
 public:
  // Binds and listens at once; throws TransportError ("cannot listen on TCP
  // 0.0.0.0:5060: Address already in use").
  TcpTransport(EventLoop& loop, TcpConfig config, TransportHandlers handlers = {});
  ~TcpTransport() override;  // closes every connection without on_closed
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  Transport protocol() const override { return Transport::kTcp; }
  const Endpoint& localEndpoint() const override { return local_; }
  void setHandlers(TransportHandlers handlers) override { handlers_ = std::move(handlers); }
  // Writes on to.connection_id while it lives; else on a live connection to
  // to.endpoint (the peer's address and port); else opens one (non-blocking
  // connect; bytes wait until it is up). Not accepted: no usable endpoint,
  // connection limit reached, the connection is closing, or its queue would
  // pass max_queued_bytes (the connection is then dropped: kOverloaded).
  SendResult send(std::string_view bytes, const Destination& to) override;
  const TransportCounters& counters() const override { return counters_; }

  // Closes a connection now (CloseReason::kLocal, on_closed follows).
  void close(std::uint64_t connection_id);
  bool isOpen(std::uint64_t connection_id) const;
  // The live connection to `peer`, or 0.
  std::uint64_t connectionTo(const Endpoint& peer) const;

 private:
  struct Connection;

  void onAcceptable();
  // nullptr when the socket cannot be watched (it is closed then).
  Connection* adopt(transport_detail::UniqueFd fd, bool inbound, const Endpoint& peer,
                    bool connecting = false);
  Connection* connect(const transport_detail::SocketAddress& address, const Endpoint& peer);
  void onReadable(std::uint64_t id);
  void onWritable(std::uint64_t id);
  void frame(Connection& c);
  bool answerKeepalives(Connection& c, std::string_view crlfs);  // false: connection closed
  void reject(Connection& c, SipError error, const std::string& head, bool head_complete);
  bool write(Connection& c, std::string_view bytes);  // false: connection closed
  bool flush(Connection& c);                          // false: connection closed
  EventLoop::TimePoint deadlineOf(const Connection& c) const;
  void armTimer(Connection& c);
  void onTimer(std::uint64_t id);
  void closeConnection(std::uint64_t id, CloseReason reason);
  void notifyClosed();

  EventLoop& loop_;
  TcpConfig config_;
  TransportHandlers handlers_;
  transport_detail::UniqueFd listen_fd_;
  Endpoint local_;
  bool bind_specific_ = false;  // outbound connections bind to the listening IP
  TransportCounters counters_;

  std::uint64_t next_connection_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> connections_;
  std::unordered_map<std::string, std::uint64_t> by_peer_;       // "ip|port" -> id
  std::unordered_map<std::string, std::size_t> inbound_per_ip_;  // peer IP -> inbound count
  std::vector<ConnectionClosed> closed_;                         // waiting for notify_timer_
  std::vector<std::unique_ptr<Connection>> dying_;               // closed this round, freed next
  std::string read_buffer_;                                      // scratch for recv()
  IoWatch listen_watch_;
  Timer accept_pause_;  // EMFILE: stop accepting for a moment
  Timer notify_timer_;  // delivers on_closed in a later round
};

}  // namespace duplex::sip
