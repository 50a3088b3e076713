// The SIP transaction layer (RFC 3261 17): the INVITE and non-INVITE client
// and server state machines, request/response matching, retransmissions and
// timers A-M, with no socket and no wall clock (STYLE.md 4).
//
// For: the SIP loop. Below it the transport adapter hands in parsed messages
// (onMessage) and implements TransactionTransport; above it call control
// implements TransactionUser and starts client transactions (sendRequest)
// and answers server transactions (sendResponse).
//
// Thread: one TransactionLayer is owned by the SIP loop thread; every method
// and every callback runs on that thread, without locks (STYLE.md 7). The
// loop arms one timer at nextDeadline() and calls onTimer() when it fires,
// and again after any call that may have scheduled an earlier deadline.
//
// Re-entrancy: callbacks may call back into the layer. Transactions that end
// during a call are reported (onTerminated) and freed just before the
// outermost call into the layer returns.
//
// Behaviour beyond RFC 3261 that the PBX chooses:
// - An INVITE server transaction sends 100 Trying at once on creation
//   (RFC 3261 17.2.1 allows waiting 200 ms; call control may take longer).
// - RFC 6026 is implemented: a 2xx moves the INVITE client transaction to
//   Accepted (Timer M) and the INVITE server transaction to Accepted
//   (Timer L), so retransmitted 2xx, INVITEs and ACKs are matched and
//   absorbed or passed up instead of leaking out as stray messages.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "pbx/sip/clock.h"
#include "pbx/sip/transaction.h"

namespace duplex::sip {

// Counters for the status page and load tests; all monotonic except `live`.
struct TransactionStats {
  std::uint64_t client_created = 0;
  std::uint64_t server_created = 0;
  std::uint64_t retransmissions_sent = 0;      // requests, responses and ACKs re-sent
  std::uint64_t retransmissions_absorbed = 0;  // received duplicates handled in the layer
  std::uint64_t timeouts = 0;                  // Timer B, F and H
  std::uint64_t transport_errors = 0;
  std::uint64_t stray_responses = 0;
  std::uint64_t invalid_messages = 0;  // onMessage() errors
  std::uint64_t live = 0;              // transactions not yet terminated
};

// What onMessage() did with a message.
enum class Inbound : std::uint8_t {
  kNewServerTransaction,  // request passed to TransactionUser::onRequest
  kMatched,               // handled by an existing transaction
  kAckToTu,               // ACK passed to TransactionUser::onAck
  kStrayResponse,         // passed to TransactionUser::onStrayResponse
};

class TransactionLayer {
 public:
  // `clock`, `transport` and `tu` must outlive the layer. Throws
  // std::invalid_argument for timers that cannot work (T1 <= 0, T2 < T1,
  // negative T4 or D): a configuration error, found at start-up.
  TransactionLayer(const Clock& clock, TransactionTransport& transport, TransactionUser& tu,
                   TransactionTimers timers = {});
  ~TransactionLayer();
  TransactionLayer(const TransactionLayer&) = delete;
  TransactionLayer& operator=(const TransactionLayer&) = delete;

  // --- input from the transport adapter ---
  // A parsed message with origin() set. Requests are matched to server
  // transactions (RFC 3261 17.2.3, with the RFC 2543 fallback when the
  // branch lacks the magic cookie) or create one; responses are matched to
  // client transactions (RFC 3261 17.1.3). Errors (no origin, bad top Via,
  // bad CSeq, missing Call-ID for RFC 2543 matching) mean the message was
  // dropped; for a request the adapter may answer statelessly with the
  // error's status and reason.
  Result<Inbound> onMessage(Message message);

  // Fails every client transaction that waits on stream connection
  // `connection_id` (closed or refused): onTransportError, then terminated.
  void onConnectionFailed(std::uint64_t connection_id);

  // --- client transactions (RFC 3261 17.1) ---
  // Starts a client transaction and sends `request` to `to`. The request
  // needs a top Via (sent-by chosen by the caller) and a CSeq; when the Via
  // has no branch, one from newBranch() is added. Errors: ACK (never a
  // transaction: use sendStateless), missing/bad Via or CSeq, a branch and
  // method already in use, or {503, "Transport Error"} when the first send
  // failed (RFC 3261 8.1.3.1); no callbacks follow an error.
  Result<TransactionId> sendRequest(Message request, const Destination& to);

  // --- server transactions (RFC 3261 17.2) ---
  // Sends the TU's response on server transaction `id` (a provisional, or a
  // final; a 2xx again in the Accepted state). Returns true when it went
  // out. Returns false, sending nothing, when the transaction is gone or
  // the state does not allow it (e.g. a second final response: RFC 3261
  // 17.2.2); or when the send failed, after onTransportError and with the
  // transaction terminated (RFC 3261 17.2.4).
  bool sendResponse(TransactionId id, Message response);
  // Sends a final response on non-INVITE server transaction `id` and ends
  // the transaction at once, keeping no state: a retransmitted request is
  // then a new transaction and gets a new answer. For answers that are safe
  // to compute again, such as digest challenges, which RFC 3261 26.3.2.4
  // asks servers to send statelessly so that unauthenticated requests cost
  // no memory. Returns false (sending nothing) for an INVITE, a client or a
  // dead transaction, or a provisional response; false after a failed send.
  bool sendFinalResponseStateless(TransactionId id, Message response);

  // RFC 3261 9.2: the INVITE server transaction a CANCEL refers to (same
  // branch and sent-by, or for RFC 2543 peers same Request-URI, tags,
  // Call-ID, CSeq number and top Via), if it is still alive.
  std::optional<TransactionId> findInviteServerTransactionForCancel(const Message& cancel) const;

  // --- outside transactions ---
  // Sends a message that is no transaction's business: the ACK for a 2xx
  // and its retransmissions (RFC 3261 13.2.2.4), 2xx retransmissions after a
  // server transaction ended, stateless responses. Returns send()'s result.
  bool sendStateless(const Message& message, const Destination& to);

  // --- inspection ---
  // The request of a live transaction (server: as stored, with received/
  // rport stamped), or nullptr. nullptr too for a non-INVITE server
  // transaction over UDP once it sent its final response: for Timer J it
  // keeps only the response's bytes; and for an INVITE transaction once it
  // only absorbs retransmissions: after a 2xx (RFC 6026 Accepted), a
  // server's Confirmed (the ACK for its non-2xx came) and a client's
  // Completed (it got a non-2xx and ACKed it).
  const Message* request(TransactionId id) const;
  // Where a live transaction sends (client: the request; server: responses).
  std::optional<Destination> destination(TransactionId id) const;
  // A new RFC 3261 branch: "z9hG4bK" + random, unique for this layer's life
  // and, with overwhelming probability, across restarts (RFC 3261 8.1.1.7).
  std::string newBranch();
  const TransactionStats& stats() const;

  // --- timers ---
  // Fires every timer due at or before `now` (A-M), in deadline order.
  void onTimer(Clock::TimePoint now);
  // The earliest pending deadline, or nullopt when no timer is armed.
  std::optional<Clock::TimePoint> nextDeadline() const;

  struct Impl;  // transaction_internal.h

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::sip
