// SIP transports (RFC 3261 18): move bytes between sockets and the layer
// above, with the Origin of every message (source address and port as seen
// on the wire: "trust the packet", RFC 3581). They never parse SIP beyond
// stream framing (RFC 3261 18.3); the transaction layer parses.
//
// For: pbx/app (wiring), the transaction layer (send, handlers), tests/fakes.
// Thread: the SIP loop only; constructed on the loop thread (or before the
// loop runs) and destroyed there; the EventLoop must outlive it. Handlers run
// on the loop thread. From inside a handler, do not destroy the transport or
// call setHandlers() (post() that instead); send() and close() are fine.
//
// Errors: start-up (bind/listen) throws TransportError naming the protocol,
// address and port. At run time nothing throws: failures are counted in
// TransportCounters and reported through SendResult / handlers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "pbx/sip/error.h"
#include "pbx/sip/message.h"
#include "pbx/sip/transaction.h"

namespace duplex::sip {

// A start-up failure: "cannot listen on UDP 0.0.0.0:5060: Address already in use".
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where to send: Destination (pbx/sip/transaction.h), shared with the
// transaction layer so that its choice (RFC 3261 18.1.1 requests, 18.2.2
// responses) reaches the socket unchanged. The transports read:
//   endpoint       an IP literal and port (the adapter resolves host names)
//   connection_id  streams: that connection while it lives
//   local.ip       UDP on a wildcard bind: the address to send from, so a
//                  reply leaves from the address the request arrived on

struct SendResult {
  bool accepted = false;            // written, or queued on a live/connecting connection
  std::uint64_t connection_id = 0;  // streams: the connection used or opened
};

// A message the transport will not deliver as a message. `error` says why:
//   {513, "Message Too Large"}       larger than max_message_size
//   {400, "Missing Content-Length"}  streams only (RFC 3261 18.3), also
//   {400, "Invalid Content-Length"} / {400, "Conflicting Content-Length"}.
// The layer above may answer it (a stateless 400/513 built from `head`) by
// send()ing to Destination{origin.transport, origin.source, origin.connection_id}
// from inside the handler; for streams the transport then flushes what was
// queued, shuts the connection down and closes it (RFC 4475 3.1.2.3, 3.3.9:
// on TCP the framing is lost, so the connection must go). UDP datagrams are
// dropped.
struct RejectedMessage {
  Origin origin;
  SipError error;
  // The start line and headers as received, up to and including the empty
  // line when `head_complete`; otherwise the first bytes received (at most
  // max_message_size). Valid only during the handler call.
  std::string_view head;
  bool head_complete = false;
};

enum class CloseReason : std::uint8_t {
  kPeerClosed,     // EOF or reset from the peer
  kError,          // socket error (read/write failed)
  kConnectFailed,  // outbound connect refused, unreachable, or timed out
  kIdle,           // no traffic for idle_timeout, or an incomplete message too long
  kFramingError,   // see RejectedMessage (framing error or oversized)
  kOverloaded,     // write queue cap exceeded (backpressure)
  kLocal,          // close() by the layer above, or transport shutdown
};
std::string_view closeReasonName(CloseReason reason);

// A stream connection is gone. Delivered from a later loop round, never from
// inside send(), so handlers need not expect re-entry.
struct ConnectionClosed {
  std::uint64_t connection_id = 0;
  Endpoint peer;
  CloseReason reason = CloseReason::kLocal;
  std::size_t unsent_bytes =
      0;  // queued bytes that never left (transaction layer: transport error)
};

struct TransportHandlers {
  // One message: a whole datagram, or one framed stream message without the
  // CRLF keep-alives around it. `bytes` is the caller's to keep (Message::parse).
  std::function<void(std::string bytes, const Origin& origin)> on_message;
  std::function<void(const RejectedMessage& rejected)> on_rejected;
  std::function<void(const ConnectionClosed& closed)> on_closed;  // streams only
};

// Per transport, read on the loop thread (admin status is posted over).
struct TransportCounters {
  std::uint64_t messages_received = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;  // written or queued
  std::uint64_t bytes_sent = 0;
  std::uint64_t keepalives_received = 0;  // CRLF keep-alives (RFC 5626 4.4.1), all-CRLF datagrams
  std::uint64_t keepalives_answered = 0;  // single CRLF pongs to double-CRLF pings
  std::uint64_t dropped_oversized = 0;    // messages above max_message_size
  std::uint64_t framing_errors = 0;       // streams: bad/missing Content-Length
  std::uint64_t send_failures = 0;        // send() not accepted
  std::uint64_t receive_errors = 0;       // socket errors while reading
  std::uint64_t connections_open = 0;     // gauge: live connections (connecting included)
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_opened = 0;   // outbound connects started
  std::uint64_t connections_refused = 0;  // closed at accept: per-IP or total limit
  std::uint64_t connections_timed_out = 0;
  std::uint64_t connections_overloaded = 0;
};

// What the transaction layer sends through; UdpTransport and TcpTransport
// implement it, tests/fakes can too.
class SipTransport {
 public:
  virtual ~SipTransport() = default;
  virtual Transport protocol() const = 0;
  // The bound address and the real port (port 0 in the config is resolved).
  virtual const Endpoint& localEndpoint() const = 0;
  virtual void setHandlers(TransportHandlers handlers) = 0;
  // Never throws, never blocks; counts failures.
  virtual SendResult send(std::string_view bytes, const Destination& to) = 0;
  virtual const TransportCounters& counters() const = 0;
};

}  // namespace duplex::sip
