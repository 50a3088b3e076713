// The vocabulary of the SIP transaction layer (RFC 3261 17): transaction ids,
// where a message goes, the timer settings, the two interfaces the layer
// talks through, and the Via rules for routing responses (RFC 3261 18.2.2,
// RFC 3581). The layer itself is TransactionLayer in transaction_layer.h.
//
// For: the SIP loop (transport adapter below, call control / dialogs above).
// Thread: everything here runs on the SIP loop thread that owns the
// TransactionLayer; the free functions are pure and may run anywhere.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "pbx/sip/error.h"
#include "pbx/sip/message.h"

namespace duplex::sip {

// Identifies one transaction for its whole life; never reused by a layer.
// Client and server transactions share one id space; 0 is never an id.
using TransactionId = std::uint64_t;

// Where to send one message. For a client transaction the TU chooses it
// (RFC 3263 resolution happens above); for a server transaction
// responseDestination() computes it from the request.
struct Destination {
  Transport transport = Transport::kUdp;
  // The far end. An IP address except in one case: a response routed by a
  // Via sent-by host (no `received`), which the adapter resolves (RFC 3263 5).
  Endpoint endpoint;
  // Stream transports: the connection to use; 0 = find or open one.
  std::uint64_t connection_id = 0;
  // The local address to send from (a response leaves through the socket its
  // request arrived on, so NATs see the flow they opened); empty = any.
  Endpoint local;
  bool operator==(const Destination&) const = default;
};

// RFC 3261 17.1.1.1 and table 4. T1 is the RTT estimate, T2 the cap on
// non-INVITE and response retransmission intervals, T4 the time a message
// stays in the network. D has its own setting because the RFC gives it as
// "at least 32 s" for unreliable transports rather than a multiple of T1.
struct TransactionTimers {
  std::chrono::milliseconds t1{500};
  std::chrono::milliseconds t2{4000};
  std::chrono::milliseconds t4{5000};
  std::chrono::milliseconds timer_d{32000};
};

// The transport adapter, as the transaction layer sees it.
class TransactionTransport {
 public:
  virtual ~TransactionTransport() = default;
  // Sends one message. `wire` is message.serialize(), made once per message
  // and reused for every retransmission; `message` is there for logging and
  // tests. Returns false when the message could not be handed to the
  // network (no route, connection refused or closed): the transaction then
  // reports a transport error (RFC 3261 17.1.4, 17.2.4).
  virtual bool send(const Message& message, std::string_view wire, const Destination& to) = 0;
};

// The transaction user (call control, dialogs, registrar adapter). Every
// callback may call back into the TransactionLayer, e.g. answer a request
// from onRequest(). Messages passed by reference live only for the call.
class TransactionUser {
 public:
  virtual ~TransactionUser() = default;

  // --- server side ---
  // A request (never ACK) that created server transaction `id`. The request
  // is the stored copy: its top Via carries `received`/`rport` (RFC 3581),
  // so Message::responseTo(request, ...) builds correctly routed responses.
  virtual void onRequest(TransactionId id, const Message& request) = 0;
  // An ACK the layer does not absorb: the ACK for a 2xx (its own
  // transaction-less request, RFC 3261 13.3.1.4, 17.2.3), with `id` 0, or an
  // ACK matching an INVITE server transaction in the Accepted state
  // (RFC 6026 8.7), with that transaction's id.
  virtual void onAck(TransactionId id, const Message& ack) = 0;
  // Timer H fired: the final non-2xx response was never acknowledged
  // (RFC 3261 17.2.1).
  virtual void onAckTimeout(TransactionId id) = 0;

  // --- client side ---
  // A response for client transaction `id`: every 1xx, the first final
  // response, and 2xx retransmissions in the Accepted state (RFC 6026 8.4).
  // Retransmitted non-2xx finals are absorbed (the transaction re-sends ACK).
  virtual void onResponse(TransactionId id, const Message& response) = 0;
  // Timer B or F fired. `timeout` is the 408 Request Timeout the layer
  // generated from the request, to be handled like a received one
  // (RFC 3261 8.1.3.1).
  virtual void onClientTimeout(TransactionId id, const Message& timeout) = 0;
  // A response matching no client transaction, e.g. a 2xx retransmission
  // after Timer M (RFC 3261 17.1.1.2 and 13.2.2.4: the core sees those).
  virtual void onStrayResponse(const Message& response) = 0;

  // --- both ---
  // Sending failed (TransactionTransport::send returned false, or the
  // connection of a client transaction failed). For a client transaction the
  // TU treats it as a 503 (RFC 3261 8.1.3.1). The transaction terminates.
  virtual void onTransportError(TransactionId id) = 0;
  // The transaction is gone; its id will never be reported again. Called
  // once per transaction the TU has seen, after every other callback for it.
  virtual void onTerminated(TransactionId id) = 0;
};

// --- Via rules (pure functions; unit-tested on their own) ---

// RFC 3261 18.2.2 with RFC 3581 4: where a server sends the responses to a
// request with top Via `top` that arrived as `origin`:
// - reliable transport: the connection it came on (origin.source + id);
// - else `rport` (the PBX adds it to every UDP request): `received` or the
//   packet's source address, with the rport value or the source port; a
//   maddr does not override this (see transaction_via.cpp for why);
// - else `maddr`: that address, sent-by port or 5060;
// - else `received`: that address, with the sent-by port or 5060;
// - else the sent-by host and port (5060 when absent).
// `local` is always origin.local.
Destination responseDestination(const Via& top, const Origin& origin);

// RFC 3261 18.2.1 and RFC 3581 4, on a received request (origin() set):
// adds `received=<source IP>` to the top Via when the sent-by host differs
// from the source address or the Via has `rport`, and fills a bare `rport`
// with the source port. Other Vias and parameters are kept as they were.
// Returns false and leaves the message alone when it has no origin or its
// top Via does not parse.
// With `force_rport` the Via is stamped as if it carried `rport` (the PBX
// does this for every UDP request: see SipEndpoint), in one rewrite.
bool stampReceived(Message& request, bool force_rport = false);

// A CANCEL for `invite` built per RFC 3261 9.1: same Request-URI, Call-ID,
// From, To, CSeq number and Route set, the top Via only (same branch), CSeq
// method CANCEL. Send it through TransactionLayer::sendRequest() to the
// INVITE's destination, and only once a provisional response has arrived.
Result<Message> buildCancel(const Message& invite);

}  // namespace duplex::sip
