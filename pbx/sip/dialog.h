// SIP dialog state (RFC 3261 12): Call-ID, local and remote tag, local and
// remote CSeq, the remote target and the route set, and the in-dialog
// requests built from them (RFC 3261 12.2.1.1).
//
// For: call control (pbx/call), which keeps one Dialog per call leg: as UAS
// toward the caller (fromIncomingInvite) and as UAC toward each callee
// (fromOutgoingInvite + confirm/early on a response with a To tag).
// Thread: a Dialog is a plain value owned by the SIP loop thread.
//
// Not covered: strict routing (RFC 3261 12.2.1.1, a route set whose first
// entry lacks ;lr) is sent as loose routing; phones and the PBX's own peers
// record-route loosely. Where requests go (the Destination) is not kept here:
// call control sends to where the peer's packets come from (DESIGN.md
// "trust the packet"), which a Contact behind NAT does not tell.
//
// Errors: the constructors return SipError {400, reason} for a request or
// response missing what a dialog needs (tags, Contact, CSeq); checkRemoteCSeq
// returns {500, "Out of order CSeq"} (RFC 3261 12.2.2). Nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pbx/sip/error.h"
#include "pbx/sip/message.h"

namespace duplex::sip {

class Dialog {
 public:
  enum class State : std::uint8_t { kEarly, kConfirmed, kTerminated };

  // UAS side (RFC 3261 12.1.1): from an INVITE (with origin) that we answer
  // with To tag `local_tag` and Contact `<local_contact>`.
  static Result<Dialog> fromIncomingInvite(const Message& invite, std::string local_tag,
                                           std::string local_contact);
  // UAC side before any response: the INVITE we sent (its From tag is ours).
  // The remote tag and target come with confirm()/early().
  static Result<Dialog> fromOutgoingInvite(const Message& invite, std::string local_contact);
  // UAC side (RFC 3261 12.1.2): a 1xx (early) or 2xx (confirmed) with a To
  // tag fixes the remote tag, target (Contact) and route set (Record-Route,
  // reversed). A 2xx moves an early dialog to confirmed.
  std::optional<SipError> onResponse(const Message& response);

  // RFC 3261 12.2.2: an in-dialog request's CSeq must be above the last one;
  // the first sets it. ACK and CANCEL carry the INVITE's number and are not
  // checked. On success the remote CSeq is updated.
  std::optional<SipError> checkRemoteCSeq(const Message& request);
  // RFC 3261 12.2: a re-INVITE, UPDATE or its 2xx refreshes the remote
  // target from its Contact (no-op without a Contact).
  void refreshTarget(const Message& message);

  // A new in-dialog request (RFC 3261 12.2.1.1): Request-URI the remote
  // target, Route the route set, From/To with our and their tags, Call-ID,
  // the next local CSeq (ACK: `ack_cseq`, the INVITE's number), Contact, and
  // a top Via `SIP/2.0/<transport> <via_sent_by>;rport;branch=<branch>`.
  Message makeRequest(Method method, std::string_view via_transport, std::string_view via_sent_by,
                      std::string_view branch, std::uint32_t ack_cseq = 0);

  // True when `message` (request or response) belongs to this dialog: same
  // Call-ID, and the tags in the positions this side expects.
  bool matches(const Message& message) const;

  const std::string& callId() const { return call_id_; }
  const std::string& localTag() const { return local_tag_; }
  const std::string& remoteTag() const { return remote_tag_; }
  const std::string& remoteTarget() const { return remote_target_; }
  const std::string& localContact() const { return local_contact_; }
  void setLocalContact(std::string contact) { local_contact_ = std::move(contact); }
  const std::vector<std::string>& routeSet() const { return route_set_; }
  std::uint32_t localCSeq() const { return local_cseq_; }
  std::uint32_t remoteCSeq() const { return remote_cseq_; }
  State state() const { return state_; }
  void confirm() { state_ = State::kConfirmed; }
  void terminate() { state_ = State::kTerminated; }
  bool isUac() const { return uac_; }

 private:
  Dialog() = default;

  bool uac_ = false;
  State state_ = State::kEarly;
  std::string call_id_;
  std::string local_tag_;
  std::string remote_tag_;
  std::string local_uri_;   // From (UAC) / To (UAS) URI, as a name-addr without tag
  std::string remote_uri_;  // the other one
  std::string local_contact_;
  std::string remote_target_;
  std::vector<std::string> route_set_;
  std::uint32_t local_cseq_ = 0;
  std::uint32_t remote_cseq_ = 0;
  bool remote_cseq_set_ = false;
};

// A name-addr without its tag parameter, as "<uri>" plus the other header
// parameters ("\"Alice\" <sip:101@pbx>"), for building From/To.
std::string nameAddrWithoutTag(const NameAddr& address);

}  // namespace duplex::sip
