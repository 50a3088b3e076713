// TransactionLayer: the public entry points, the transaction table, the
// timer heap and the life cycle shared by all four state machines. The state
// machines are in transaction_client.cpp and transaction_server.cpp, the
// matching rules in transaction_matching.cpp.
#include <algorithm>
#include <stdexcept>
#include <utility>

#include "pbx/sip/transaction_internal.h"

namespace duplex::sip {
namespace {

// Min-heap order for std::push_heap/pop_heap: earliest deadline on top, ties
// in arming order.
bool later(const TimerEntry& a, const TimerEntry& b) {
  if (a.when != b.when) return a.when > b.when;
  return a.token > b.token;
}

std::uint64_t randomSeed() {
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) ^ device();
}

}  // namespace

// ---------------------------------------------------------------- Impl core

TransactionLayer::Impl::Impl(const Clock& c, TransactionTransport& t, TransactionUser& u,
                             TransactionTimers timer_settings)
    : clock(c), transport(t), tu(u), timers(timer_settings), rng(randomSeed()) {
  if (timers.t1 <= milliseconds::zero()) throw std::invalid_argument("SIP timer T1 must be > 0");
  if (timers.t2 < timers.t1) throw std::invalid_argument("SIP timer T2 must be >= T1");
  if (timers.t4 < milliseconds::zero() || timers.timer_d < milliseconds::zero()) {
    throw std::invalid_argument("SIP timers T4 and D must be >= 0");
  }
}

TransactionLayer::Impl::Scope::~Scope() {
  if (--impl_.depth != 0) return;
  if (!impl_.settling.empty()) impl_.releaseSettledRequests();
  if (!impl_.graveyard.empty()) impl_.reap();
}

Transaction* TransactionLayer::Impl::find(TransactionId id) {
  auto it = transactions.find(id);
  return it == transactions.end() ? nullptr : &it->second;
}

const Transaction* TransactionLayer::Impl::find(TransactionId id) const {
  auto it = transactions.find(id);
  return it == transactions.end() ? nullptr : &it->second;
}

Transaction& TransactionLayer::Impl::create(TxKind kind, Message request,
                                            const Destination& destination) {
  const TransactionId id = next_id++;
  Transaction& t = transactions[id];
  t.id = id;
  t.kind = kind;
  t.destination = destination;
  t.reliable = destination.transport != Transport::kUdp;
  t.request = std::move(request);
  ++stats.live;
  return t;
}

void releaseRequest(Transaction& t) {
  // Not `t.request = Message{}`: a moved-in empty std::string keeps the
  // received bytes' heap buffer (libstdc++ keeps the capacity); exchange
  // moves them out into a temporary that frees them.
  (void)std::exchange(t.request, Message{});
}

// RFC 3261 17.1.1.2 ff.: "Terminated" — the record stops matching at once
// and is freed (and reported) when the outermost public call returns.
void TransactionLayer::Impl::terminate(Transaction& t) {
  if (t.state == TxState::kTerminated) return;
  t.state = TxState::kTerminated;
  disarm(t, kRetransmitSlot);
  disarm(t, kLifetimeSlot);
  if (!t.key.empty()) {
    auto& index = t.isClient() ? client_index : server_index;
    auto it = index.find(t.key);
    if (it != index.end() && it->second == t.id) index.erase(it);
  }
  if (!t.legacy_key.empty()) {
    auto [first, last] = legacy_index.equal_range(t.legacy_key);
    for (auto it = first; it != last; ++it) {
      if (it->second == t.id) {
        legacy_index.erase(it);
        break;
      }
    }
  }
  --stats.live;
  graveyard.push_back(t.id);
}

void TransactionLayer::Impl::releaseSettledRequests() {
  for (TransactionId id : settling) {
    Transaction* t = find(id);
    if (t == nullptr || !t->settled()) continue;
    releaseRequest(*t);
    std::string().swap(t->request_wire);
    // A server's Accepted passes the TU's own 2xx retransmissions, its
    // Confirmed re-sends nothing: the last response's bytes are not needed.
    if (!t->isClient()) std::string().swap(t->response_wire);
  }
  settling.clear();
}

void TransactionLayer::Impl::reap() {
  ++depth;  // callbacks below may call in again: they must not reap
  for (std::size_t i = 0; i < graveyard.size(); ++i) {
    const TransactionId id = graveyard[i];
    auto it = transactions.find(id);
    if (it == transactions.end()) continue;
    const bool notify = it->second.tu_knows;
    transactions.erase(it);
    if (notify) tu.onTerminated(id);
  }
  graveyard.clear();
  --depth;
}

bool TransactionLayer::Impl::transmit(Transaction& t, const Message& message,
                                      std::string_view wire) {
  if (transport.send(message, wire, t.destination)) return true;
  transportError(t);
  return false;
}

// RFC 3261 17.1.4 and 17.2.4: inform the TU, go straight to Terminated.
void TransactionLayer::Impl::transportError(Transaction& t) {
  if (t.state == TxState::kTerminated) return;
  ++stats.transport_errors;
  if (t.tu_knows) tu.onTransportError(t.id);
  terminate(t);
}

void TransactionLayer::Impl::arm(Transaction& t, TimerSlot slot, TimerName name, milliseconds after,
                                 Clock::TimePoint now) {
  if (t.timer_token[slot] == 0) ++armed_timers;
  const std::uint64_t token = next_token++;
  t.timer_token[slot] = token;
  heap.push_back(TimerEntry{now + after, token, t.id, name, slot});
  std::push_heap(heap.begin(), heap.end(), later);
  // Lazy deletion leaves stale entries behind (a Timer B cancelled by a
  // 180 stays 32 s); rebuild when they outnumber the live ones.
  if (heap.size() > 1024 && heap.size() > 2 * armed_timers) compactHeap();
}

void TransactionLayer::Impl::disarm(Transaction& t, TimerSlot slot) {
  if (t.timer_token[slot] == 0) return;
  t.timer_token[slot] = 0;
  --armed_timers;
}

void TransactionLayer::Impl::dropStaleTop() {
  while (!heap.empty()) {
    const TimerEntry& top = heap.front();
    const Transaction* t = find(top.id);
    if (t != nullptr && t->timer_token[top.slot] == top.token) return;
    std::pop_heap(heap.begin(), heap.end(), later);
    heap.pop_back();
  }
}

void TransactionLayer::Impl::compactHeap() {
  std::erase_if(heap, [this](const TimerEntry& e) {
    const Transaction* t = find(e.id);
    return t == nullptr || t->timer_token[e.slot] != e.token;
  });
  std::make_heap(heap.begin(), heap.end(), later);
}

void TransactionLayer::Impl::fireDue(Clock::TimePoint now) {
  expireCompleted(now);
  while (true) {
    dropStaleTop();
    if (heap.empty() || heap.front().when > now) return;
    const TimerEntry entry = heap.front();
    std::pop_heap(heap.begin(), heap.end(), later);
    heap.pop_back();
    Transaction& t = *find(entry.id);  // dropStaleTop() checked it
    disarm(t, entry.slot);
    if (t.isClient()) {
      onClientTimer(t, entry.name, now);
    } else {
      onServerTimer(t, entry.name, now);
    }
  }
}

std::string TransactionLayer::Impl::newBranch() {
  // RFC 3261 8.1.1.7: magic cookie + a value unique across space and time:
  // 64 random bits (per process start) plus a counter (per branch).
  static constexpr char kHex[] = "0123456789abcdef";
  std::string branch = "z9hG4bK";
  branch.reserve(7 + 16 + 1 + 16);
  const std::uint64_t r = rng();
  for (int shift = 60; shift >= 0; shift -= 4) branch += kHex[(r >> shift) & 0xf];
  branch += '.';
  std::uint64_t n = ++branch_counter;
  char digits[16];
  int count = 0;
  do {
    digits[count++] = kHex[n & 0xf];
    n >>= 4;
  } while (n != 0);
  while (count > 0) branch += digits[--count];
  return branch;
}

// ---------------------------------------------------------------- facade

TransactionLayer::TransactionLayer(const Clock& clock, TransactionTransport& transport,
                                   TransactionUser& tu, TransactionTimers timers)
    : impl_(std::make_unique<Impl>(clock, transport, tu, timers)) {}

TransactionLayer::~TransactionLayer() = default;

Result<Inbound> TransactionLayer::onMessage(Message message) {
  Impl::Scope scope(*impl_);
  if (!message.origin()) {
    ++impl_->stats.invalid_messages;
    return SipError{500, "Message without origin"};
  }
  if (message.isRequest()) return impl_->onRequest(std::move(message));
  return impl_->onResponse(message);
}

void TransactionLayer::onConnectionFailed(std::uint64_t connection_id) {
  Impl::Scope scope(*impl_);
  // Collect first: callbacks may start transactions and rehash the table.
  std::vector<TransactionId> failed;
  for (const auto& [id, t] : impl_->transactions) {
    const bool waiting = t.state == TxState::kCalling || t.state == TxState::kTrying ||
                         t.state == TxState::kProceeding;
    if (t.isClient() && waiting && t.destination.connection_id == connection_id) {
      failed.push_back(id);
    }
  }
  for (TransactionId id : failed) {
    if (Transaction* t = impl_->find(id)) impl_->transportError(*t);
  }
}

Result<TransactionId> TransactionLayer::sendRequest(Message request, const Destination& to) {
  Impl::Scope scope(*impl_);
  return impl_->startClient(std::move(request), to);
}

bool TransactionLayer::sendResponse(TransactionId id, Message response) {
  Impl::Scope scope(*impl_);
  Transaction* t = impl_->find(id);
  if (t == nullptr || t->isClient() || t->state == TxState::kTerminated) return false;
  return impl_->respond(*t, std::move(response));
}

bool TransactionLayer::sendFinalResponseStateless(TransactionId id, Message response) {
  Impl::Scope scope(*impl_);
  Transaction* t = impl_->find(id);
  if (t == nullptr || t->kind != TxKind::kNonInviteServer) return false;
  if (t->state != TxState::kTrying && t->state != TxState::kProceeding) return false;
  if (!response.isResponse() || response.statusCode() < 200) return false;
  const std::string wire = response.serialize();
  const bool sent = impl_->transport.send(response, wire, t->destination);
  impl_->terminate(*t);
  return sent;
}

bool TransactionLayer::sendStateless(const Message& message, const Destination& to) {
  return impl_->transport.send(message, message.serialize(), to);
}

const Message* TransactionLayer::request(TransactionId id) const {
  const Transaction* t = impl_->find(id);
  if (t == nullptr || t->state == TxState::kTerminated) return nullptr;
  // A completed non-INVITE server transaction keeps only its response's
  // bytes (transaction_server.cpp).
  if (t->kind == TxKind::kNonInviteServer && t->state == TxState::kCompleted && !t->reliable) {
    return nullptr;
  }
  // Nor does a settled INVITE transaction (Accepted, a server's Confirmed,
  // a client's Completed).
  if (t->settled()) return nullptr;
  return &t->request;
}

std::optional<Destination> TransactionLayer::destination(TransactionId id) const {
  const Transaction* t = impl_->find(id);
  if (t == nullptr || t->state == TxState::kTerminated) return std::nullopt;
  return t->destination;
}

std::string TransactionLayer::newBranch() {
  return impl_->newBranch();
}

const TransactionStats& TransactionLayer::stats() const {
  return impl_->stats;
}

void TransactionLayer::onTimer(Clock::TimePoint now) {
  Impl::Scope scope(*impl_);
  impl_->fireDue(now);
}

std::optional<Clock::TimePoint> TransactionLayer::nextDeadline() const {
  impl_->dropStaleTop();  // logically const: only forgets cancelled timers
  std::optional<Clock::TimePoint> next;
  if (!impl_->heap.empty()) next = impl_->heap.front().when;
  if (!impl_->completed_expiry.empty()) {
    const Clock::TimePoint j = impl_->completed_expiry.front().when;
    if (!next || j < *next) next = j;
  }
  return next;
}

}  // namespace duplex::sip
