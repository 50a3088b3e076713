// The state behind B2bua (b2bua.h), shared by b2bua.cpp (new calls:
// authentication, routing, legs), b2bua_legs.cpp (responses of the callee
// legs, forwarding, the end of a call and its record), b2bua_dialog.cpp
// (in-dialog requests: ACK, BYE, re-INVITE, UPDATE, INFO) and
// b2bua_early.cpp (before the answer: offers per fork, 100rel/PRACK, late
// offer, early UPDATE/INFO). Internal to pbx/call. Thread: the SIP loop.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "pbx/call/b2bua.h"
#include "pbx/call/concat.h"
#include "pbx/call/outbound_routing.h"
#include "pbx/call/trunk_addresses.h"
#include "registrar/digest_client.h"

namespace duplex::call {

// One INVITE toward one binding of the callee.
struct Fork {
  sip::TransactionId tx = 0;
  // The INVITE as sent, serialized: parsed again for its CANCEL and its
  // dialog (inviteMessage()). Released once the fork has its final answer,
  // so an answered call keeps no INVITE of its callee leg.
  std::string invite;
  std::uint32_t inviteCSeq = 1;  // its CSeq number (2 after a trunk's 401/407), for ACK/PRACK
  sip::Destination to;
  std::optional<sip::Dialog> dialog;  // once a response with a To tag came
  bool provisional = false;           // a 1xx came: CANCEL may be sent
  bool cancelWanted = false;          // cancel as soon as a 1xx comes
  bool cancelSent = false;
  bool done = false;  // final response (or timeout) received
  int status = 0;     // that final status
  std::string reason;
  std::string contactUser;     // 3xx: the first Contact's user part
  std::string advertised;      // our host toward this binding
  std::uint16_t port = 0;      // our SIP port toward it
  std::uint32_t lastRSeq = 0;  // RFC 3262: the highest RSeq of its reliable 1xx seen
  bool offerAnswered = false;  // an offer/answer completed in its early dialog
  bool trunk = false;          // an INVITE toward a trunk (b2bua_trunks.cpp)

  // The INVITE parsed from `invite`; an error once it is released.
  sip::Result<sip::Message> inviteMessage() const;
  // Its final answer came: what only a ringing fork needs goes.
  void finish() { std::string().swap(invite); }
};

// A request relayed from one leg to the other, waiting for its answer.
struct Relay {
  std::uint64_t call = 0;
  CallSide from = CallSide::kCaller;  // the side that sent the request
  sip::TransactionId server = 0;      // its server transaction
  sip::Method method = sip::Method::kUnknown;
  std::optional<std::size_t> fork{};  // early dialog: the callee fork it went to / came from
  bool answered = false;  // INVITE: its 2xx came and was ACKed; a retransmission is ACKed again
};

// A 2xx we retransmit until the ACK (RFC 3261 13.3.1.4): UDP only.
struct PendingTwoHundred {
  sip::TransactionId server = 0;
  std::uint32_t cseq = 0;  // the INVITE's CSeq number the ACK will carry
  std::string wire;        // the 2xx, serialized once
  sip::Clock::TimePoint next{};
  sip::Clock::TimePoint giveUp{};
  std::chrono::milliseconds interval{};
  bool active = false;
  // ACKed or given up: the bytes go too (a held call keeps nothing of it).
  void stop() {
    active = false;
    std::string().swap(wire);
  }
};

struct Leg {
  std::optional<sip::Dialog> dialog;
  sip::Destination to;     // where this leg's peer is reached (its packets' source)
  std::string advertised;  // our host toward this peer
  std::uint16_t port = 0;  // our SIP port toward this peer
  PendingTwoHundred twoHundred;
  std::string ack;  // callee leg: the ACK for its 2xx, to resend on a 2xx retransmission
  sip::Transport transport = sip::Transport::kUdp;
  std::string viaSentBy() const;
  std::string contact() const;
};

enum class CallState : std::uint8_t { kRinging, kAnswered, kEnded };

// A provisional response toward the caller (b2bua_early.cpp). Reliable ones
// (RFC 3262) carry our own RSeq and are retransmitted until the caller's
// PRACK; `fork`/`forkRSeq` name the callee's reliable 1xx it relays (the
// PRACK goes on to that fork), unset when the PBX made it reliable itself.
struct Provisional {
  int status = 180;
  std::string reason;
  std::string sdp;
  std::optional<std::size_t> fork;
  std::uint32_t forkRSeq = 0;  // 0: the callee's was unreliable
  bool reliable = false;       // toward the caller
};

struct ReliableProvisionals {
  bool callerSupports = false;  // Supported or Require: 100rel in the caller's INVITE
  bool callerRequires = false;  // Require: 100rel: every 1xx but 100 must be reliable
  std::uint32_t nextRSeq = 1;
  // The one unacknowledged reliable 1xx (RFC 3262 3: only one at a time).
  std::optional<Provisional> outstanding;
  std::uint32_t outstandingRSeq = 0;
  std::uint32_t lastAckedRSeq = 0;
  std::string wire;
  sip::Clock::TimePoint next{};
  sip::Clock::TimePoint giveUp{};
  std::chrono::milliseconds interval{};
  std::vector<Provisional> queued;  // waiting for that PRACK (a vector: no allocation while empty)
};

// A call to or from a trunk (b2bua_trunks.cpp). Outbound: the callee leg is
// the provider; inbound: the caller leg is.
struct TrunkCall {
  bool outbound = true;
  OutboundPlan plan;     // outbound: the route and the trunks to try in order
  std::size_t next = 0;  // outbound: the plan.trunks index to try next
  TrunkConfig trunk;     // the trunk in use (outbound: the one tried last)
  std::string failures;  // outbound: "main: 503 Service Unavailable; ..."
  bool counted = false;  // counted in trunkCalls / outsideCalls
  std::int64_t countedTrunk = 0;
  CallSide side() const { return outbound ? CallSide::kCallee : CallSide::kCaller; }
};

// A request sent toward a trunk, kept until its final response so that a
// 401/407 can be answered once with credentials (RFC 3261 22.2, 22.3).
struct TrunkAuthRetry {
  std::string wire;  // the request as sent
  sip::Destination to;
  std::uint64_t call = 0;
  CallSide toward = CallSide::kCallee;
  std::int64_t trunkId = 0;
  std::optional<std::size_t> fork;  // sent in the early dialog of this fork
  bool retried = false;
};

struct B2bua::Call {
  std::uint64_t id = 0;
  CallState state = CallState::kRinging;
  sip::TransactionId inviteTx = 0;  // the caller's INVITE
  // A copy of the caller's INVITE while the call rings: the responses to it
  // (RFC 3261 8.2.6.2) and its SDP offer for forks started later. Released
  // with the answer; the call keeps its CSeq (callerCSeq) and its Call-ID
  // (caller.dialog) for what comes after.
  std::unique_ptr<sip::Message> callerInvite;
  std::uint32_t callerCSeq = 0;  // the caller's INVITE's CSeq number (ACK, PRACK)
  Leg caller;
  Leg callee;
  std::string calleeCallId;  // Call-ID of every fork
  std::string calleeTag;     // our From tag toward every fork
  std::vector<Fork> forks;
  std::optional<std::size_t> winner;
  RoutingContext routing;
  // The caller's offer rewritten per address advertised to a binding
  // (parallel forks: a LAN phone and a remote phone each get theirs);
  // released with the answer.
  std::vector<std::pair<std::string, std::string>> offersByAddress;
  bool lateOffer = false;          // the caller's INVITE had no SDP
  bool awaitingAckAnswer = false;  // late offer: the callee's 2xx waits for the caller's ACK
  std::optional<sip::Clock::TimePoint> ackAnswerBy;  // ... until then (64*T1)
  std::optional<std::size_t> earlyFork;              // the fork of the last 1xx with a To tag
  ReliableProvisionals prov;
  MediaSessions::SessionId media = 0;
  std::optional<sip::Clock::TimePoint> noAnswerAt;
  std::uint64_t timerGeneration = 0;
  bool reinviteInProgress = false;
  // For the call record.
  std::int64_t startAt = 0;
  std::optional<std::int64_t> answerAt;
  std::string hangupSide;
  std::string hangupCause;
  db::Disposition disposition = db::Disposition::failed;
  std::unique_ptr<TrunkCall> trunk;  // null for a call between extensions
};

struct TimerEntry {
  sip::Clock::TimePoint when;
  std::uint64_t call = 0;
  bool operator>(const TimerEntry& o) const { return when > o.when; }
};

struct B2buaState {
  B2buaState(B2bua& owner, B2bua::Services s, CallSettings c, CallStats& st)
      : self(owner), svc(s), settings(std::move(c)), stats(st) {}

  B2bua& self;
  B2bua::Services svc;
  CallSettings settings;
  CallStats& stats;
  std::uint64_t nextCallId = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<B2bua::Call>> calls;
  std::unordered_map<sip::TransactionId, std::uint64_t> byInviteTx;  // caller INVITE -> call
  std::unordered_map<sip::TransactionId, std::pair<std::uint64_t, std::size_t>> byForkTx;
  std::unordered_map<sip::TransactionId, Relay> relays;  // relayed requests and BYEs
  std::unordered_map<std::string, std::pair<std::uint64_t, CallSide>> byDialog;  // callid|tag
  std::priority_queue<TimerEntry, std::vector<TimerEntry>, std::greater<>> timers;
  std::vector<std::uint64_t> graveyard;  // ended calls, freed once their legs are done
  // Trunks (b2bua_trunks.cpp); null until B2bua::setTrunks().
  const TrunkDirectory* trunks = nullptr;
  const TrunkAddresses* trunkAddresses = nullptr;
  const TrunkContactChoice* trunkContacts = nullptr;  // may stay null
  registrar::DigestClient digestClient;
  std::unordered_map<sip::TransactionId, TrunkAuthRetry> trunkAuth;
  std::unordered_map<std::int64_t, int> trunkCalls;   // trunk id -> calls now
  std::unordered_map<std::string, int> outsideCalls;  // extension -> outbound calls now

  void reap();

  // b2bua.cpp
  void onInvite(sip::TransactionId id, const sip::Message& invite);
  // The routed call: media session, caller dialog, legs (ctx has bindings).
  void placeCall(sip::TransactionId id, const sip::Message& invite, RoutingContext ctx,
                 std::unique_ptr<TrunkCall> trunk);
  bool authenticate(sip::TransactionId id, const sip::Message& invite, std::string& caller);
  void startForks(B2bua::Call& call);
  void reject(sip::TransactionId id, int status, std::string_view reason,
              const std::vector<std::pair<std::string, std::string>>& headers = {});
  void schedule(B2bua::Call& call, sip::Clock::TimePoint when);
  void fireTimers(sip::Clock::TimePoint now);
  B2bua::Call* find(std::uint64_t id);

  // b2bua_legs.cpp
  void onForkResponse(B2bua::Call& call, std::size_t fork, const sip::Message& response);
  void onForkFinal(B2bua::Call& call, std::size_t fork, int status, std::string_view reason);
  void answer(B2bua::Call& call, std::size_t fork, const sip::Message& response);
  // The call is answered: what only ringing needed (the caller's INVITE, the
  // offers per address, the bindings) goes.
  void releaseRinging(B2bua::Call& call);
  void cancelForks(B2bua::Call& call, std::optional<std::size_t> except);
  void allForksFailed(B2bua::Call& call);
  void noAnswer(B2bua::Call& call);
  void failCall(B2bua::Call& call, int status, std::string_view reason,
                db::Disposition disposition);
  void endCall(B2bua::Call& call, std::string_view side, std::string_view cause,
               db::Disposition disposition);
  void sendBye(B2bua::Call& call, CallSide to);
  void ackAndBye(const Fork& fork, const sip::Message& response, const B2bua::Call& call);
  bool sendToCaller(B2bua::Call& call, int status, std::string_view reason,
                    std::string_view sdp = {});
  void forget(B2bua::Call& call);
  void recordRejected(const B2bua::Call* call, const sip::Message& invite,
                      const RoutingContext& ctx, int status, std::string_view reason);
  db::Disposition dispositionFor(int status) const;

  // b2bua_trunks.cpp
  // A new INVITE from a trunk's address: handled (true) without the 407.
  bool onTrunkInvite(sip::TransactionId id, const sip::Message& invite);
  // The dialled number is no extension: an outbound route may take it.
  // True when handled (placed or refused).
  bool tryOutbound(sip::TransactionId id, const sip::Message& invite, RoutingContext& ctx);
  void startTrunkFork(B2bua::Call& call);
  // A final answer (or timeout) of the trunk INVITE: failover or the end.
  void trunkForkFailed(B2bua::Call& call, int status, std::string_view reason);
  // 401/407 for a request toward a trunk: re-sent with credentials (true).
  bool retryWithCredentials(sip::TransactionId id, const sip::Message& response);
  void forgetTrunkRequest(sip::TransactionId id) { trunkAuth.erase(id); }
  // Remembers a request sent toward the trunk side of `call` (for a 401/407).
  void noteTrunkRequest(const B2bua::Call& call, CallSide toward, sip::TransactionId tx,
                        std::string wire, const sip::Destination& to,
                        std::optional<std::size_t> fork = std::nullopt);
  bool isTrunkSide(const B2bua::Call& call, CallSide side) const {
    return call.trunk && call.trunk->side() == side;
  }
  void countTrunkCall(B2bua::Call& call);
  // The trunk and the number sent, in the call record.
  void annotateTrunkRecord(const B2bua::Call& call, db::CallRecord& record) const;
  void uncountTrunkCall(B2bua::Call& call);

  // b2bua_dialog.cpp
  void onInDialog(sip::TransactionId id, const sip::Message& request);
  void onAck(sip::TransactionId id, const sip::Message& ack);
  void onRelayResponse(sip::TransactionId id, const Relay& relay, const sip::Message& response);
  void reAck(const Relay& relay);
  void retransmitTwoHundreds(B2bua::Call& call, sip::Clock::TimePoint now);
  void startTwoHundred(B2bua::Call& call, Leg& leg, sip::TransactionId server,
                       const sip::Message& response);
  std::pair<B2bua::Call*, CallSide> findDialog(const sip::Message& message);

  // b2bua_early.cpp: offers per fork, 100rel, late offer, early UPDATE/INFO
  std::optional<std::string> offerFor(B2bua::Call& call, const std::string& advertised);
  void relayProvisional(B2bua::Call& call, std::size_t fork, const sip::Message& response);
  void sendProvisional(B2bua::Call& call, Provisional p);
  void retransmitReliable(B2bua::Call& call, sip::Clock::TimePoint now);
  void stopProvisionals(B2bua::Call& call);
  void prackFork(B2bua::Call& call, std::size_t fork, std::uint32_t rseq);
  // A caller's PRACK, or an UPDATE/INFO in an early dialog (either side).
  bool findEarlyDialog(const sip::Message& request, B2bua::Call*& call, std::size_t& fork);
  void onEarlyRequest(sip::TransactionId id, const sip::Message& request, B2bua::Call& call,
                      CallSide side, std::optional<std::size_t> fork);
  void onPrack(sip::TransactionId id, const sip::Message& prack, B2bua::Call& call);
  void onEarlyRelayResponse(const Relay& relay, const sip::Message& response);
  void finishLateOffer(B2bua::Call& call, const sip::Message* ack);
};

std::string dialogKey(std::string_view call_id, std::string_view local_tag);
// A body that is SDP: Content-Type application/sdp (any case, parameters
// allowed) and not empty.
bool isSdp(const sip::Message& m);
std::string newBranch(sip::SipEndpoint& endpoint);

}  // namespace duplex::call
