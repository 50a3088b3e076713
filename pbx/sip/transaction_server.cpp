// Server transactions: INVITE (RFC 3261 17.2.1, figure 7, with the RFC 6026
// Accepted state) and non-INVITE (RFC 3261 17.2.2, figure 8).
//
// RFC 6026 instead of RFC 3261 for a 2xx: RFC 3261 ends the INVITE server
// transaction when the TU sends a 2xx, so INVITE retransmissions that cross
// the 2xx would create a second server transaction (and a second call), and
// the TU's 2xx retransmissions would go out with no transaction behind them.
// RFC 6026 keeps the transaction in Accepted for Timer L = 64*T1: INVITE
// retransmissions are absorbed silently, the TU's 2xx retransmissions are
// sent through it, and ACKs matching it go to the TU.
#include <algorithm>

#include "pbx/sip/transaction_internal.h"

namespace duplex::sip {

namespace {

// RFC 2543 peers' ACKs are matched by the To tag of our response
// (RFC 3261 17.2.3); RFC 3261 peers' by the branch alone.
void rememberToTag(Transaction& t, const Message& response) {
  if (t.legacy_key.empty()) return;
  const Result<NameAddr> to = response.to();
  t.response_to_tag = to ? std::string(to->tag()) : std::string();
}

}  // namespace

void TransactionLayer::Impl::startServer(Message request, std::string key, std::string legacy_key,
                                         std::string to_tag) {
  // RFC 3261 18.2.1, RFC 3581 4: record where the request really came from
  // in its top Via, then route every response by it (RFC 3261 18.2.2).
  stampReceived(request);
  const Origin origin = *request.origin();
  const Result<Via> top = request.topVia();
  Destination destination;
  if (top) {
    destination = responseDestination(*top, origin);
  } else {  // cannot happen: the Via parsed before stamping
    destination = Destination{origin.transport, origin.source, origin.connection_id, origin.local};
  }
  const bool invite = request.method() == Method::kInvite;
  Transaction& t = create(invite ? TxKind::kInviteServer : TxKind::kNonInviteServer,
                          std::move(request), destination);
  t.reliable = origin.transport != Transport::kUdp;
  t.state = invite ? TxState::kProceeding : TxState::kTrying;
  t.key = std::move(key);
  t.legacy_key = std::move(legacy_key);
  t.to_tag = std::move(to_tag);
  if (!t.key.empty()) server_index.emplace(t.key, t.id);
  if (!t.legacy_key.empty()) legacy_index.emplace(t.legacy_key, t.id);
  ++stats.server_created;
  t.tu_knows = true;

  if (invite) {
    // RFC 3261 17.2.1 lets the transaction wait 200 ms for the TU; the
    // PBX's TU may need longer (authentication, database), so 100 Trying
    // goes out at once and stops the caller's Timer A.
    Message trying = Message::responseTo(t.request, 100, "Trying");
    if (auto timestamp = t.request.header("Timestamp")) {
      trying.addHeader("Timestamp", *timestamp);  // RFC 3261 8.2.6.1
    }
    ensureContentLength(trying);
    t.response_wire = trying.serialize();
    rememberToTag(t, trying);
    // A 100 that cannot be sent is not worth failing the call for: the
    // TU's own responses will report a dead transport.
    (void)transport.send(trying, t.response_wire, t.destination);
  }
  tu.onRequest(t.id, t.request);
}

void TransactionLayer::Impl::onServerRetransmission(Transaction& t) {
  ++stats.retransmissions_absorbed;
  // RFC 3261 17.2.1 (INVITE): Proceeding re-sends the latest provisional,
  // Completed the final; Confirmed and (RFC 6026) Accepted absorb.
  // RFC 3261 17.2.2 (non-INVITE): Trying discards; Proceeding and Completed
  // re-send. So for both kinds: re-send in Proceeding and Completed only.
  const bool resend = t.state == TxState::kProceeding || t.state == TxState::kCompleted;
  if (resend && !t.response_wire.empty() && transmit(t, t.request, t.response_wire)) {
    ++stats.retransmissions_sent;
  }
}

Inbound TransactionLayer::Impl::onServerAck(Transaction& t, const Message& ack) {
  switch (t.state) {
    case TxState::kCompleted:
      // RFC 3261 17.2.1: stop G and H; Confirmed absorbs further ACKs for
      // Timer I (zero over reliable transports).
      t.state = TxState::kConfirmed;
      disarm(t, kRetransmitSlot);
      disarm(t, kLifetimeSlot);
      if (t.reliable || timers.t4 == milliseconds::zero()) {
        terminate(t);
      } else {
        arm(t, kLifetimeSlot, TimerName::kI, timers.t4, clock.now());
        settling.push_back(t.id);  // for Timer I it only absorbs ACKs
      }
      return Inbound::kMatched;
    case TxState::kAccepted:
      // RFC 6026 8.7: an ACK matching an Accepted transaction goes to the TU.
      tu.onAck(t.id, ack);
      return Inbound::kAckToTu;
    default:
      ++stats.retransmissions_absorbed;  // Confirmed, or a stray ACK in Proceeding
      return Inbound::kMatched;
  }
}

bool TransactionLayer::Impl::respond(Transaction& t, Message response) {
  const int code = response.statusCode();
  if (!response.isResponse() || code < 100 || code > 699) return false;
  const Clock::TimePoint now = clock.now();

  if (t.kind == TxKind::kInviteServer) {
    if (t.state == TxState::kAccepted) {
      // RFC 6026 8.5: the TU's 2xx retransmissions pass through; nothing
      // else may follow a 2xx.
      if (code < 200 || code >= 300) return false;
      const std::string wire = response.serialize();
      return transmit(t, response, wire);
    }
    if (t.state != TxState::kProceeding) return false;  // RFC 3261 17.2.1
    ensureContentLength(response);
    t.response_wire = response.serialize();
    rememberToTag(t, response);
    if (code >= 200 && code < 300) {
      t.state = TxState::kAccepted;  // RFC 6026 8.5, Timer L on all transports
      settling.push_back(t.id);
      arm(t, kLifetimeSlot, TimerName::kL, 64 * timers.t1, now);
    } else if (code >= 300) {
      // RFC 3261 17.2.1: Completed; G over unreliable transports, H always.
      t.state = TxState::kCompleted;
      if (!t.reliable) {
        t.interval = timers.t1;
        arm(t, kRetransmitSlot, TimerName::kG, timers.t1, now);
      }
      arm(t, kLifetimeSlot, TimerName::kH, 64 * timers.t1, now);
    }
    return transmit(t, response, t.response_wire);
  }

  // Non-INVITE server, RFC 3261 17.2.2: any other final response from the
  // TU in Completed is discarded.
  if (t.state != TxState::kTrying && t.state != TxState::kProceeding) return false;
  ensureContentLength(response);
  t.response_wire = response.serialize();
  rememberToTag(t, response);
  if (code < 200) {
    t.state = TxState::kProceeding;
    return transmit(t, response, t.response_wire);
  }
  t.state = TxState::kCompleted;
  if (!transmit(t, response, t.response_wire)) return false;
  if (t.reliable) {
    terminate(t);  // Timer J is zero over reliable transports
  } else if (!t.key.empty()) {
    keepCompleted(t, now);
  } else {
    // RFC 2543 peers (matched by the legacy key): the transaction stays,
    // but for Timer J's 32 s it only re-sends the response's bytes.
    arm(t, kLifetimeSlot, TimerName::kJ, 64 * timers.t1, now);
    releaseRequest(t);
  }
  return true;
}

void TransactionLayer::Impl::keepCompleted(Transaction& t, Clock::TimePoint now) {
  auto [it, inserted] = completed.try_emplace(t.key);
  CompletedServer& c = it->second;
  c.id = t.id;
  c.tu_knows = t.tu_knows;
  c.destination = std::move(t.destination);
  c.response_wire = std::move(t.response_wire);
  if (inserted) completed_expiry.push_back(CompletedExpiry{now + 64 * timers.t1, &it->first});
  // Out of the table at once, but still live (and reported to the TU as
  // terminated) until Timer J.
  t.tu_knows = false;
  terminate(t);
  ++stats.live;
}

void TransactionLayer::Impl::resendCompleted(CompletedServer& c) {
  ++stats.retransmissions_absorbed;
  static const Message kNoMessage;
  if (transport.send(kNoMessage, c.response_wire, c.destination)) {
    ++stats.retransmissions_sent;
  } else {
    ++stats.transport_errors;  // over UDP: the next retransmission may pass
  }
}

void TransactionLayer::Impl::expireCompleted(Clock::TimePoint now) {
  while (!completed_expiry.empty() && completed_expiry.front().when <= now) {
    auto it = completed.find(*completed_expiry.front().key);
    completed_expiry.pop_front();
    if (it == completed.end()) continue;
    const TransactionId id = it->second.id;
    const bool notify = it->second.tu_knows;
    completed.erase(it);
    --stats.live;
    if (notify) tu.onTerminated(id);
  }
}

void TransactionLayer::Impl::onServerTimer(Transaction& t, TimerName name, Clock::TimePoint now) {
  switch (name) {
    case TimerName::kG:  // RFC 3261 17.2.1: re-send the final, double up to T2
      if (t.state != TxState::kCompleted) return;
      if (!transmit(t, t.request, t.response_wire)) return;
      ++stats.retransmissions_sent;
      t.interval = std::min(2 * t.interval, timers.t2);
      arm(t, kRetransmitSlot, TimerName::kG, t.interval, now);
      return;
    case TimerName::kH:  // no ACK arrived
      if (t.state != TxState::kCompleted) return;
      ++stats.timeouts;
      tu.onAckTimeout(t.id);
      terminate(t);
      return;
    case TimerName::kI:
    case TimerName::kJ:
    case TimerName::kL:
      terminate(t);
      return;
    default:
      return;
  }
}

}  // namespace duplex::sip
