// Internals of the transaction layer, shared by its .cpp files only:
// the transaction record, the timer heap, the match keys and the message
// builders. Not part of pbx/sip's public interface: include
// transaction_layer.h instead. Thread: the SIP loop (see transaction_layer.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pbx/sip/transaction_layer.h"

namespace duplex::sip {

using std::chrono::milliseconds;

enum class TxKind : std::uint8_t {
  kInviteClient,
  kNonInviteClient,
  kInviteServer,
  kNonInviteServer
};

// RFC 3261 figures 5-8 plus RFC 6026 Accepted (figures 5 and 7 there).
enum class TxState : std::uint8_t {
  kCalling,     // INVITE client
  kTrying,      // non-INVITE client and server
  kProceeding,  // all four
  kCompleted,   // all four
  kConfirmed,   // INVITE server
  kAccepted,    // INVITE client and server (RFC 6026)
  kTerminated,
};

// RFC 3261 table 4 and RFC 6026 (L, M).
enum class TimerName : std::uint8_t { kA, kB, kD, kE, kF, kG, kH, kI, kJ, kK, kL, kM };

// A transaction runs at most one retransmission timer (A, E, G) and one
// timer that ends a state (B, D, F, H, I, J, K, L, M) at a time.
enum TimerSlot : std::uint8_t { kRetransmitSlot = 0, kLifetimeSlot = 1 };

struct Transaction {
  TransactionId id = 0;
  TxKind kind = TxKind::kNonInviteClient;
  TxState state = TxState::kTrying;
  bool reliable = false;  // TCP/TLS: no retransmissions, D/I/J/K are zero
  bool tu_knows = false;  // the TU has seen the id, so it gets onTerminated
  Destination destination;
  Message request;  // client: as sent; server: as received, Via stamped
  std::string request_wire;
  // Responses and ACKs are kept as bytes only: re-sending needs nothing else
  // (a parsed Message is ~1 KB before its buffers, and an INVITE's server
  // and client transactions live 32 s after the answer).
  std::string response_wire;    // server: the last response sent
  std::string response_to_tag;  // server, RFC 2543 peers: its To tag, for ACK matching
  std::string ack_wire;         // INVITE client: the ACK for a non-2xx
  std::string key;              // in client_index / server_index (empty for RFC 2543 ones)
  std::string legacy_key;       // in legacy_index (RFC 2543 matching only)
  std::string to_tag;           // RFC 2543: To tag of the request
  milliseconds interval{0};     // current retransmission interval (A, E, G)
  std::uint64_t timer_token[2] = {0, 0};  // per slot; 0 = not armed

  bool isClient() const {
    return kind == TxKind::kInviteClient || kind == TxKind::kNonInviteClient;
  }
  // An INVITE transaction that from now on only absorbs retransmissions
  // (or re-sends its ACK) until a timer ends it, without its request:
  // RFC 6026 Accepted (Timer L/M, 32 s: 2xx and ACKs pass to the TU), a
  // server's Confirmed (RFC 3261 17.2.1, Timer I: ACKs absorbed) and a
  // client's Completed (17.1.1.2, Timer D: its ACK re-sent to a
  // retransmitted final response).
  bool settled() const {
    return state == TxState::kAccepted ||
           (kind == TxKind::kInviteServer && state == TxState::kConfirmed) ||
           (kind == TxKind::kInviteClient && state == TxState::kCompleted);
  }
};

// A non-INVITE server transaction over UDP in Completed (RFC 3261 17.2.2):
// for Timer J's 64*T1 it only re-sends its final response to
// retransmissions, so it leaves the transaction table and is kept as the
// response's bytes and where they go (a REGISTER burst at 10,000/s holds
// 320,000 of them). Indexed by its server key; expiries are in arming order
// because every entry lives exactly Timer J.
struct CompletedServer {
  TransactionId id = 0;
  bool tu_knows = false;  // the TU gets onTerminated when Timer J ends it
  Destination destination;
  std::string response_wire;
};

struct CompletedExpiry {
  Clock::TimePoint when;
  const std::string* key;  // the map node's key: stable across rehashing
};

// Lazy deletion: cancelling a timer only forgets its token; the heap entry
// stays until it reaches the top and is found stale.
struct TimerEntry {
  Clock::TimePoint when;
  std::uint64_t token;  // unique, increasing: also breaks ties in arming order
  TransactionId id;
  TimerName name;
  TimerSlot slot;
};

struct TransactionLayer::Impl {
  Impl(const Clock& clock, TransactionTransport& transport, TransactionUser& tu,
       TransactionTimers timers);

  const Clock& clock;
  TransactionTransport& transport;
  TransactionUser& tu;
  const TransactionTimers timers;

  std::unordered_map<TransactionId, Transaction> transactions;
  std::unordered_map<std::string, TransactionId> client_index;       // RFC 3261 17.1.3
  std::unordered_map<std::string, TransactionId> server_index;       // RFC 3261 17.2.3
  std::unordered_multimap<std::string, TransactionId> legacy_index;  // RFC 2543
  std::unordered_map<std::string, CompletedServer> completed;        // by server key
  std::deque<CompletedExpiry> completed_expiry;                      // Timer J, oldest first
  std::vector<TimerEntry> heap;                                      // min-heap on (when, token)
  std::size_t armed_timers = 0;  // heap entries that are not stale
  std::uint64_t next_token = 1;
  TransactionId next_id = 1;
  std::vector<TransactionId> graveyard;  // terminated, freed by reap()
  // INVITE transactions that have settled (settled() below): their request
  // is released when the outermost public call returns (a TU may still read
  // it until then).
  std::vector<TransactionId> settling;
  int depth = 0;  // nesting of public calls (re-entrancy)
  std::mt19937_64 rng;
  std::uint64_t branch_counter = 0;
  std::string scratch;  // lookup key buffer, reused
  TransactionStats stats;

  // Entered by every public method: frees terminated transactions when the
  // outermost call returns, so no callback ever sees a dangling record.
  class Scope {
   public:
    explicit Scope(Impl& impl) : impl_(impl) { ++impl_.depth; }
    ~Scope();
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;

   private:
    Impl& impl_;
  };

  // --- lifecycle and timers (transaction_layer.cpp) ---
  Transaction* find(TransactionId id);
  const Transaction* find(TransactionId id) const;
  Transaction& create(TxKind kind, Message request, const Destination& destination);
  void terminate(Transaction& t);
  void reap();
  // A settled INVITE transaction needs neither the parsed INVITE nor its
  // bytes, nor (server) its response's bytes: they go (deferred, see
  // `settling`). A client keeps the bytes of its ACK for a non-2xx.
  void releaseSettledRequests();
  // Sends and, on failure, reports the transport error and terminates `t`.
  bool transmit(Transaction& t, const Message& message, std::string_view wire);
  void transportError(Transaction& t);
  void arm(Transaction& t, TimerSlot slot, TimerName name, milliseconds after,
           Clock::TimePoint now);
  void disarm(Transaction& t, TimerSlot slot);
  void fireDue(Clock::TimePoint now);
  void dropStaleTop();
  void compactHeap();
  std::string newBranch();

  // --- client transactions (transaction_client.cpp) ---
  Result<TransactionId> startClient(Message request, const Destination& to);
  void onClientResponse(Transaction& t, const Message& response);
  void onClientTimer(Transaction& t, TimerName name, Clock::TimePoint now);

  // --- server transactions (transaction_server.cpp) ---
  void startServer(Message request, std::string key, std::string legacy_key, std::string to_tag);
  void onServerRetransmission(Transaction& t);
  Inbound onServerAck(Transaction& t, const Message& ack);
  bool respond(Transaction& t, Message response);
  void onServerTimer(Transaction& t, TimerName name, Clock::TimePoint now);
  // Completed non-INVITE over UDP: `t` leaves the table for `completed`.
  void keepCompleted(Transaction& t, Clock::TimePoint now);
  // A retransmission of a request answered from `completed`: re-send.
  void resendCompleted(CompletedServer& c);
  // Timer J for `completed` entries due by `now`.
  void expireCompleted(Clock::TimePoint now);

  // --- matching (transaction_matching.cpp) ---
  Result<Inbound> onRequest(Message request);
  Result<Inbound> onResponse(const Message& response);
  // RFC 2543 lookup: the live transaction under `key` whose To tag matches
  // (for an ACK: the To tag of our response), or 0.
  TransactionId findLegacy(const std::string& key, std::string_view to_tag, bool ack) const;
  // RFC 3261 9.2 (see TransactionLayer::findInviteServerTransactionForCancel).
  std::optional<TransactionId> findCancelled(const Message& cancel) const;
};

// Frees the transaction's request (parsed message and received bytes) and
// leaves an empty one (transaction_layer.cpp).
void releaseRequest(Transaction& t);

// --- match keys (transaction_matching.cpp) ---
// True when `branch` starts with the RFC 3261 magic cookie (17.2.3).
bool hasMagicCookie(std::string_view branch);
// RFC 3261 17.2.3: branch, sent-by (host case-folded) and method, where
// the method of an ACK is INVITE.
void buildServerKey(std::string& out, const Via& top, std::string_view method);
// RFC 3261 17.1.3: branch and CSeq method.
void buildClientKey(std::string& out, std::string_view branch, std::string_view method);
// RFC 3261 17.2.3, last paragraph (RFC 2543 peers): Request-URI, From tag,
// Call-ID, CSeq number and method (ACK counted as INVITE), top Via. The To
// tag is compared separately: an ACK carries the tag of our response.
// `to_tag` receives the request's To tag. False when From/To/CSeq/Call-ID
// are missing or bad.
bool buildLegacyKey(std::string& out, std::string_view& to_tag, const Message& request,
                    std::string_view method);

// --- message building (transaction_via.cpp) ---
// The first element of the first Via line, as written, and the rest of that
// line after its comma ("" when it holds one Via).
std::string_view topViaText(const Message& m, std::string_view* rest = nullptr);
// Replaces the first Via value with `top`, keeping any other Vias.
void replaceTopVia(Message& m, std::string_view top);
// RFC 3261 17.1.1.3: the ACK for a non-2xx final response to `invite`.
Message buildAckForNon2xx(const Message& invite, const Message& response);
// Makes sure a generated message says "Content-Length: 0" (needed on streams).
void ensureContentLength(Message& m);

}  // namespace duplex::sip
