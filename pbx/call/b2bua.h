// Call control: a back-to-back user agent (B2BUA). The PBX is the far end of
// each leg: toward the caller it is the UAS of dialog A, toward the callee
// it is the UAC of dialog B (one INVITE per binding: parallel ringing), and
// every SDP body that crosses it is rewritten to the media relay.
//
// An INVITE goes through: authenticate (407 with Proxy-Authenticate, the
// registrar's digest rules; unauthenticated calls are never routed) ->
// the routing chain of call_routing.h (Max-Forwards, dial plan, extension,
// features, bindings) -> a media session and the caller's SDP rewritten
// (488 with the reason when it cannot be used) -> one leg per binding.
// Then: 180/183 passed back (SDP rewritten), the first 2xx wins (ACKed, the
// other legs CANCELed, 200 to the caller and retransmitted until its ACK),
// busy / no answer lead to the extension's forwards, CANCEL from the caller,
// BYE from either side, re-INVITE / UPDATE / INFO relayed to the other leg
// (SDP rewritten, so hold and media moves reach the relay), and one call
// record per call at its end.
//
// Before the answer (b2bua_early.cpp):
// - Parallel forks: the caller's offer is rewritten per fork, toward the
//   address chosen for that binding (a LAN phone gets the LAN address, a
//   remote phone the public one; same relay port), once per distinct address.
// - 100rel/PRACK (RFC 3262): offered to the callees (Supported: 100rel) only
//   when the caller's INVITE has Supported or Require: 100rel. A callee's
//   reliable 18x reaches the caller as a reliable 18x with an RSeq of the
//   PBX, retransmitted by the PBX from T1 (doubling) until the caller's
//   PRACK, which goes on to that callee with its RAck mapped back (SDP in
//   18x, PRACK and their 200s rewritten); the callee's retransmissions are
//   not relayed again. No PRACK within 64*T1: the caller gets 500 and the
//   callees a CANCEL. One reliable 18x is outstanding at a time; later 18x
//   wait for its PRACK (RFC 3262 3). A caller with Require: 100rel gets even
//   the callee's unreliable 18x reliably (its PRACK is answered by the PBX);
//   a callee that sends reliable 18x unasked is PRACKed by the PBX and the
//   caller gets them unreliably. A PRACK matching no reliable 18x gets 481.
// - Late offer: an INVITE without SDP goes to the callees without SDP; the
//   winning 2xx carries the offer (rewritten toward the caller, in our 200)
//   and its ACK waits for the caller's ACK, whose SDP answer is rewritten
//   into it. An ACK without (usable) SDP, a BYE instead of the ACK, or no ACK
//   within 64*T1 (on any transport) ends the call: ACK to the callee, then
//   BYE to both, "late offer: ..." in the record. The offer may also come in
//   a reliable 18x and the answer in the PRACK (then the 2xx needs no SDP).
// - UPDATE and INFO in the early dialogs (RFC 3311 5.1, RFC 6086): the
//   caller's go to the fork that sent the last provisional with a To tag
//   (with forks, the early dialog the caller is in), a callee's go to the
//   caller; SDP rewritten both ways, UPDATE glare gets 491. Before any callee
//   has an early dialog (a 180 without To tag) they get 491, like a re-INVITE
//   before the answer.
//
// 3xx from a callee is not followed unless follow_redirects_internal is set,
// and then only to internal extensions (toll fraud: a phone could redirect a
// call to a premium number); otherwise the caller gets 480 "Redirect Not
// Followed". A 401/407 a peer answers to a relayed request becomes 500
// toward the other side (the PBX holds no credentials for phones), except
// toward a trunk: there the request is re-sent once with the trunk's
// credentials (registrar/digest_client.h) — INVITE, re-INVITE, BYE, UPDATE,
// INFO alike.
//
// Trunks (b2bua_trunks.cpp, after setTrunks()): a dialled number that is
// no extension goes through outbound_routing.h (route, digits, permissions,
// limits) to the route's trunks in order, failing over on 5xx/408, timeout,
// transport error, an unresolvable host or failed authentication; other
// final answers (busy, not found) reach the caller. An INVITE from a trunk's
// address (trunk_addresses.h) is not challenged: its DID (Request-URI user,
// else To user) maps through the inbound numbers to an extension (or
// dialing.inbound_default; else 404 "Not Found (unknown number <did>)") and
// then the normal routing chain. Unknown sources still get the 407. Limits:
// an outbound trunk call needs the caller's SDP offer (late offer: 488
// "SDP offer required (calls through a trunk)"); a trunk that never answers
// fails over only after Timer B (64*T1, 32 s); one digest retry per request.
//
// Addresses: every message on a leg (Via, Contact, SDP, retransmissions,
// ACK, CANCEL, BYE, re-INVITE) uses the address chosen for that leg once,
// from the peer's real packet source (address_choice.h).
//
// For: pbx/app (CallWiring registers it for INVITE, BYE, UPDATE, INFO,
// PRACK; ACK and CANCEL reach it through the INVITE handler; arms a loop
// timer at nextDeadline()). Thread: the SIP loop only, like the endpoint,
// registrar and authenticator it uses. Untrusted input never throws: every
// problem is a response (400/403/404/407/480/481/482/483/484/486/487/488/
// 491/500/503) with a precise reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "pbx/call/address_choice.h"
#include "pbx/call/call_record_writer.h"
#include "pbx/call/call_routing.h"
#include "pbx/call/call_snapshot.h"
#include "pbx/call/credential_source.h"
#include "pbx/call/extension_directory.h"
#include "pbx/call/media_sessions.h"
#include "pbx/call/trunk_addresses.h"
#include "pbx/call/trunk_directory.h"
#include "pbx/call/trunk_registration.h"
#include "pbx/sip/clock.h"
#include "pbx/sip/dialog.h"
#include "pbx/sip/endpoint.h"
#include "registrar/digest_authenticator.h"
#include "registrar/registrar.h"

namespace duplex::call {

struct CallSettings {
  std::chrono::seconds noAnswerTimeout{25};  // no forward: 480 after this
  bool followRedirectsInternal = false;      // call.follow_redirects = internal
  std::uint32_t maxForwards = 70;            // cap on the legs' Max-Forwards
  std::string serverHeader = "Duplex PBX";   // Server / User-Agent text
  std::uint16_t sipPort = 5060;              // our SIP port, when a leg's local port is unknown
  // An outbound trunk call that rings this long without an answer gets 480
  // (the provider usually gives up first).
  std::chrono::seconds outboundNoAnswerTimeout{180};
  std::chrono::milliseconds t1{500};  // RFC 3261 timers for 2xx retransmission
  std::chrono::milliseconds t2{4000};
};

struct CallStats {
  std::uint64_t invites = 0;
  std::uint64_t challenged = 0;  // 407 sent
  std::uint64_t routed = 0;      // legs started
  std::uint64_t answered = 0;
  std::uint64_t rejected = 0;  // final non-2xx to the caller
  std::uint64_t ended = 0;     // call records written
  std::uint64_t active = 0;    // calls alive now
};

class B2bua final : public sip::RequestHandler, public sip::ClientHandler {
 public:
  // Wall-clock time for nonces, registrar lookups and call records.
  using WallClock = std::function<registrar::Instant()>;

  struct Services {
    sip::SipEndpoint& endpoint;
    const sip::Clock& clock;  // timers (monotonic)
    WallClock wallNow;
    registrar::DigestAuthenticator& authenticator;
    const CredentialSource& credentials;
    const ExtensionDirectory& directory;
    const registrar::Registrar& registrar;
    const AddressChoice& addresses;
    MediaSessions& media;
    CallRecordSink& records;
  };

  B2bua(Services services, CallSettings settings);
  ~B2bua() override;
  B2bua(const B2bua&) = delete;
  B2bua& operator=(const B2bua&) = delete;

  // Enables trunk calls (all must outlive the B2bua). SIP loop. `contacts`:
  // the host and port to write toward a provider (the public address and the
  // UPnP-mapped SIP port, as the trunk registration advertises them); null:
  // the leg's address choice and our local SIP port.
  void setTrunks(const TrunkDirectory& directory, const TrunkAddresses& addresses,
                 const TrunkContactChoice* contacts = nullptr);

  // sip::RequestHandler: INVITE (new and re-INVITE), BYE, UPDATE, INFO,
  // PRACK; ACK and CANCEL of INVITEs.
  void onRequest(sip::SipEndpoint& endpoint, sip::TransactionId id,
                 const sip::Message& request) override;
  void onAck(sip::SipEndpoint& endpoint, sip::TransactionId id, const sip::Message& ack) override;
  void onCancel(sip::SipEndpoint& endpoint, sip::TransactionId invite) override;
  // sip::ClientHandler: the legs' INVITEs, CANCELs, BYEs and relayed requests.
  void onResponse(sip::SipEndpoint& endpoint, sip::TransactionId id,
                  const sip::Message& response) override;
  void onClientTimeout(sip::SipEndpoint& endpoint, sip::TransactionId id) override;
  void onTransportError(sip::SipEndpoint& endpoint, sip::TransactionId id) override;

  // A media report (timeout, one-way audio) for a session.
  void onMediaEvent(const MediaEvent& event);

  // Timers (no-answer, 2xx retransmission, ACK wait).
  std::optional<sip::Clock::TimePoint> nextDeadline() const;
  void onTimer(sip::Clock::TimePoint now);
  // Called whenever nextDeadline() may have moved earlier.
  void setScheduleObserver(std::function<void()> fn) { scheduled_ = std::move(fn); }

  const CallStats& stats() const { return stats_; }
  // The calls in progress (ringing or answered), oldest first, as plain
  // values for the admin status (call_snapshot.h; b2bua_snapshot.cpp).
  std::vector<CallSnapshot> activeCalls() const;

  struct Call;  // b2bua_internal.h

 private:
  void done();  // after every entry point: frees ended calls, tells the observer
  std::unique_ptr<struct B2buaState> state_;
  std::function<void()> scheduled_;
  CallStats stats_;
};

}  // namespace duplex::call
