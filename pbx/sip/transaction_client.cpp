// Client transactions: INVITE (RFC 3261 17.1.1, figure 5, with the RFC 6026
// Accepted state) and non-INVITE (RFC 3261 17.1.2, figure 6).
#include <algorithm>

#include "pbx/sip/transaction_internal.h"

namespace duplex::sip {
namespace {

// RFC 3261 8.1.3.1: a timeout is handled by the TU as a 408 response.
Message timeoutResponse(const Message& request) {
  return Message::responseTo(request, 408, "Request Timeout");
}

}  // namespace

Result<TransactionId> TransactionLayer::Impl::startClient(Message request, const Destination& to) {
  if (!request.isRequest()) return SipError{500, "Not a request"};
  // RFC 3261 17.1: an ACK for a 2xx is no transaction (and the ACK for a
  // non-2xx is sent by the INVITE client transaction itself).
  if (request.method() == Method::kAck) return SipError{500, "ACK is sent without a transaction"};
  Result<Via> top = request.topVia();
  if (!top) return top.error();
  if (top->branch.empty()) {
    // RFC 3261 8.1.1.7: every request gets a fresh, cookie-carrying branch.
    std::string via(topViaText(request));
    via += ";branch=";
    via += newBranch();
    replaceTopVia(request, via);
    top = request.topVia();
    if (!top) return top.error();
  }
  const Result<CSeq> cseq = request.cseq();
  if (!cseq) return cseq.error();
  // RFC 3261 17.1.3: responses come back under branch + CSeq method.
  buildClientKey(scratch, top->branch, cseq->method);
  if (client_index.contains(scratch)) return SipError{500, "Branch already in use"};

  const bool invite = request.method() == Method::kInvite;
  std::string wire = request.serialize();
  Transaction& t =
      create(invite ? TxKind::kInviteClient : TxKind::kNonInviteClient, std::move(request), to);
  t.state = invite ? TxState::kCalling : TxState::kTrying;
  t.request_wire = std::move(wire);
  t.key = scratch;
  client_index.emplace(t.key, t.id);
  if (!transport.send(t.request, t.request_wire, t.destination)) {
    // The TU gets an error instead of an id, so no callback follows.
    ++stats.transport_errors;
    terminate(t);
    return SipError{503, "Transport Error"};
  }
  ++stats.client_created;
  t.tu_knows = true;

  // RFC 3261 17.1.1.2 (A, B) and 17.1.2.2 (E, F): retransmit over
  // unreliable transports only; the transaction timeout runs on all.
  const Clock::TimePoint now = clock.now();
  if (!t.reliable) {
    t.interval = timers.t1;
    arm(t, kRetransmitSlot, invite ? TimerName::kA : TimerName::kE, timers.t1, now);
  }
  arm(t, kLifetimeSlot, invite ? TimerName::kB : TimerName::kF, 64 * timers.t1, now);
  return t.id;
}

void TransactionLayer::Impl::onClientResponse(Transaction& t, const Message& response) {
  const int code = response.statusCode();
  if (code < 100 || code > 699) return;
  const Clock::TimePoint now = clock.now();

  if (t.kind == TxKind::kInviteClient) {
    switch (t.state) {
      case TxState::kCalling:
      case TxState::kProceeding:
        if (code < 200) {
          // RFC 3261 17.1.1.2: Proceeding stops A and B; the TU decides how
          // long to wait for a final response (Timer C or CANCEL).
          t.state = TxState::kProceeding;
          disarm(t, kRetransmitSlot);
          disarm(t, kLifetimeSlot);
          tu.onResponse(t.id, response);
        } else if (code < 300) {
          // RFC 6026 8.4: Accepted, so 2xx retransmissions and 2xx from
          // other forks reach the TU through this transaction until Timer M.
          t.state = TxState::kAccepted;
          settling.push_back(t.id);
          disarm(t, kRetransmitSlot);
          arm(t, kLifetimeSlot, TimerName::kM, 64 * timers.t1, now);
          tu.onResponse(t.id, response);
        } else {
          // RFC 3261 17.1.1.2/17.1.1.3: ACK the non-2xx ourselves, same
          // branch, same destination; then Completed for Timer D.
          t.state = TxState::kCompleted;
          disarm(t, kRetransmitSlot);
          disarm(t, kLifetimeSlot);
          const Message ack = buildAckForNon2xx(t.request, response);
          t.ack_wire = ack.serialize();
          settling.push_back(t.id);  // Timer D needs only the ACK's bytes
          const bool ack_sent = transport.send(ack, t.ack_wire, t.destination);
          tu.onResponse(t.id, response);
          if (t.state != TxState::kCompleted) return;  // the TU ended it meanwhile
          if (!ack_sent) {
            transportError(t);
          } else if (t.reliable || timers.timer_d == milliseconds::zero()) {
            terminate(t);  // Timer D is zero over reliable transports
          } else {
            arm(t, kLifetimeSlot, TimerName::kD, timers.timer_d, now);
          }
        }
        return;
      case TxState::kCompleted:
        // RFC 3261 17.1.1.2: a retransmitted final response is answered
        // with the same ACK and not passed up.
        ++stats.retransmissions_absorbed;
        if (code >= 300 && transmit(t, t.request, t.ack_wire)) ++stats.retransmissions_sent;
        return;
      case TxState::kAccepted:
        // RFC 6026 8.4: 2xx to the TU (the dialog layer sends the ACK);
        // anything else is discarded.
        if (code >= 200 && code < 300) {
          tu.onResponse(t.id, response);
        } else {
          ++stats.retransmissions_absorbed;
        }
        return;
      default:
        return;
    }
  }

  // Non-INVITE client, RFC 3261 17.1.2.2.
  switch (t.state) {
    case TxState::kTrying:
    case TxState::kProceeding:
      if (code < 200) {
        // Timer E keeps running; from its next firing it uses T2.
        t.state = TxState::kProceeding;
        tu.onResponse(t.id, response);
        return;
      }
      t.state = TxState::kCompleted;
      disarm(t, kRetransmitSlot);
      disarm(t, kLifetimeSlot);
      tu.onResponse(t.id, response);
      if (t.state != TxState::kCompleted) return;
      if (t.reliable || timers.t4 == milliseconds::zero()) {
        terminate(t);  // Timer K is zero over reliable transports
      } else {
        arm(t, kLifetimeSlot, TimerName::kK, timers.t4, now);
      }
      return;
    case TxState::kCompleted:
      // Timer K exists to absorb retransmitted responses.
      ++stats.retransmissions_absorbed;
      return;
    default:
      return;
  }
}

void TransactionLayer::Impl::onClientTimer(Transaction& t, TimerName name, Clock::TimePoint now) {
  auto timeout = [&] {
    ++stats.timeouts;
    const Message response = timeoutResponse(t.request);
    tu.onClientTimeout(t.id, response);
    terminate(t);
  };
  switch (name) {
    case TimerName::kA:  // RFC 3261 17.1.1.2: retransmit, double, no cap
      if (t.state != TxState::kCalling) return;
      if (!transmit(t, t.request, t.request_wire)) return;
      ++stats.retransmissions_sent;
      t.interval *= 2;
      arm(t, kRetransmitSlot, TimerName::kA, t.interval, now);
      return;
    case TimerName::kE:  // RFC 3261 17.1.2.2: double up to T2; T2 once Proceeding
      if (t.state != TxState::kTrying && t.state != TxState::kProceeding) return;
      if (!transmit(t, t.request, t.request_wire)) return;
      ++stats.retransmissions_sent;
      t.interval = t.state == TxState::kTrying ? std::min(2 * t.interval, timers.t2) : timers.t2;
      arm(t, kRetransmitSlot, TimerName::kE, t.interval, now);
      return;
    case TimerName::kB:
      if (t.state == TxState::kCalling) timeout();
      return;
    case TimerName::kF:
      if (t.state == TxState::kTrying || t.state == TxState::kProceeding) timeout();
      return;
    case TimerName::kD:
    case TimerName::kK:
    case TimerName::kM:
      terminate(t);
      return;
    default:
      return;
  }
}

}  // namespace duplex::sip
