// Call control, part 3: requests inside a call's dialogs (ACK, BYE,
// re-INVITE, UPDATE, INFO, PRACK) and the 2xx retransmissions until the ACK
// (RFC 3261 13.3.1.4). See b2bua.h.
#include "pbx/call/b2bua_internal.h"

namespace duplex::call {
namespace {

// Headers that travel with a relayed request or response besides the body.
constexpr std::string_view kCopied[] = {"Info-Package", "Content-Disposition", "Event",
                                        "Recv-Info"};

void copyHeaders(const sip::Message& from, sip::Message& to) {
  for (std::string_view name : kCopied) {
    for (std::string_view v : from.headerValues(name)) to.addHeader(name, v);
  }
}

}  // namespace

std::pair<B2bua::Call*, CallSide> B2buaState::findDialog(const sip::Message& message) {
  auto to = message.to();
  auto from = message.from();
  if (!to || !from) return {nullptr, CallSide::kCaller};
  auto it = byDialog.find(dialogKey(message.callId().value_or(""), to->tag()));
  if (it == byDialog.end()) return {nullptr, CallSide::kCaller};
  B2bua::Call* call = find(it->second.first);
  if (call == nullptr) return {nullptr, CallSide::kCaller};
  const CallSide side = it->second.second;
  const Leg& leg = side == CallSide::kCaller ? call->caller : call->callee;
  if (!leg.dialog || leg.dialog->remoteTag() != from->tag()) return {nullptr, CallSide::kCaller};
  return {call, side};
}

void B2buaState::onInDialog(sip::TransactionId id, const sip::Message& request) {
  auto [call, side] = findDialog(request);
  std::optional<std::size_t> fork;
  if (std::size_t i = 0; call == nullptr && findEarlyDialog(request, call, i)) {
    side = CallSide::kCallee;  // from a callee's early dialog
    fork = i;
  }
  if (call == nullptr || call->state == CallState::kEnded) {
    // RFC 3261 12.2.2: a request for a dialog we do not know.
    svc.endpoint.respond(id, 481, "Call/Transaction Does Not Exist");
    return;
  }
  const sip::Method method = request.method();
  if (fork || method == sip::Method::kPrack ||
      (call->state == CallState::kRinging && method != sip::Method::kBye)) {
    onEarlyRequest(id, request, *call, side, fork);  // b2bua_early.cpp
    return;
  }
  Leg& from = side == CallSide::kCaller ? call->caller : call->callee;
  Leg& to = side == CallSide::kCaller ? call->callee : call->caller;
  if (auto error = from.dialog->checkRemoteCSeq(request)) {
    svc.endpoint.respond(id, error->status, error->reason);
    return;
  }
  if (method == sip::Method::kBye) {
    svc.endpoint.respond(id, 200, "OK");
    if (call->awaitingAckAnswer && side == CallSide::kCaller) {
      // Late offer: a BYE instead of the ACK; the callee's 2xx still gets
      // its ACK before the BYE.
      call->awaitingAckAnswer = false;
      sip::Message ack = call->callee.dialog->makeRequest(
          sip::Method::kAck, sip::transportName(call->callee.transport), call->callee.viaSentBy(),
          newBranch(svc.endpoint), 1);
      call->callee.ack = ack.serialize();
      svc.endpoint.transactions().sendStateless(ack, call->callee.to);
    }
    from.dialog->terminate();
    from.twoHundred.stop();
    const std::string_view who = side == CallSide::kCaller ? "caller" : "callee";
    if (call->state == CallState::kRinging) {
      // A BYE before the answer (RFC 3261 15: the caller should CANCEL).
      cancelForks(*call, std::nullopt);
      sendToCaller(*call, 487, "Request Terminated");
      endCall(*call, who, "BYE", db::Disposition::cancelled);
      return;
    }
    sendBye(*call, side == CallSide::kCaller ? CallSide::kCallee : CallSide::kCaller);
    endCall(*call, who, "BYE", db::Disposition::answered);
    return;
  }
  if (call->state != CallState::kAnswered || !to.dialog || call->awaitingAckAnswer) {
    svc.endpoint.respond(id, 491, "Request Pending");
    return;
  }
  const bool offerCarrying = method == sip::Method::kInvite || method == sip::Method::kUpdate;
  if (offerCarrying && call->reinviteInProgress) {
    svc.endpoint.respond(id, 491, "Request Pending");  // RFC 3261 14.2 glare
    return;
  }
  sip::Message out = to.dialog->makeRequest(method, sip::transportName(to.transport),
                                            to.viaSentBy(), newBranch(svc.endpoint));
  if (offerCarrying) from.dialog->refreshTarget(request);  // RFC 3261 12.2 target refresh
  copyHeaders(request, out);
  if (isSdp(request)) {
    // Hold (sendonly/inactive), resume, a new codec or a new media address:
    // the relay learns it and reopens latching for that side.
    SdpRewrite sdp =
        svc.media.rewrite(call->media, side, request.body(), from.to.endpoint.ip, to.advertised);
    if (!sdp.ok()) {
      svc.endpoint.respond(id, sdp.status, sdp.reason);
      return;
    }
    out.setBody("application/sdp", sdp.body);
  } else if (!request.body().empty()) {
    out.setBody(request.contentType().value_or("application/octet-stream"), request.body());
  }
  const CallSide toward = otherSide(side);
  std::string wire = isTrunkSide(*call, toward) ? out.serialize() : std::string();
  auto tx = svc.endpoint.sendRequest(std::move(out), to.to, &self);
  if (!tx) {
    svc.endpoint.respond(id, 503, "Service Unavailable");
    return;
  }
  relays[*tx] = Relay{call->id, side, id, method};
  if (!wire.empty()) noteTrunkRequest(*call, toward, *tx, std::move(wire), to.to);
  if (offerCarrying) call->reinviteInProgress = true;
}

void B2buaState::onRelayResponse(sip::TransactionId /*id*/, const Relay& relay,
                                 const sip::Message& response) {
  if (relay.fork) {
    onEarlyRelayResponse(relay, response);  // b2bua_early.cpp
    return;
  }
  B2bua::Call* call = find(relay.call);
  const int status = response.statusCode();
  if (call == nullptr || relay.method == sip::Method::kBye || status < 200) return;
  Leg& from = relay.from == CallSide::kCaller ? call->caller : call->callee;
  Leg& to = relay.from == CallSide::kCaller ? call->callee : call->caller;
  const bool offerCarrying =
      relay.method == sip::Method::kInvite || relay.method == sip::Method::kUpdate;
  if (offerCarrying) call->reinviteInProgress = false;
  if (relay.method == sip::Method::kInvite && status < 300 && to.dialog) {
    to.dialog->refreshTarget(response);
    // ACK the re-INVITE's 2xx on this leg at once (the B2BUA's ACK is
    // hop-by-hop); the sender's ACK ends our 2xx retransmissions.
    auto cseq = response.cseq();
    sip::Message ack =
        to.dialog->makeRequest(sip::Method::kAck, sip::transportName(to.transport), to.viaSentBy(),
                               newBranch(svc.endpoint), cseq ? cseq->number : 0);
    to.ack = ack.serialize();
    svc.endpoint.transactions().sendStateless(ack, to.to);
  }
  const sip::Message* request = svc.endpoint.transactions().request(relay.server);
  if (request == nullptr || call->state == CallState::kEnded) return;
  const int forwarded = status == 401 || status == 407 ? 500 : status;  // their auth is not ours
  sip::Message r = sip::Message::responseTo(
      *request, forwarded,
      forwarded == status ? response.reasonPhrase() : std::string_view("Server Internal Error"));
  if (offerCarrying && status < 300) r.addHeader("Contact", concat("<", from.contact(), ">"));
  if (!settings.serverHeader.empty()) r.addHeader("Server", settings.serverHeader);
  copyHeaders(response, r);
  if (isSdp(response)) {
    SdpRewrite sdp = svc.media.rewrite(call->media, otherSide(relay.from), response.body(),
                                       to.to.endpoint.ip, from.advertised);
    if (sdp.ok()) r.setBody("application/sdp", sdp.body);
  } else if (!response.body().empty()) {
    r.setBody(response.contentType().value_or("application/octet-stream"), response.body());
  }
  if (relay.method == sip::Method::kInvite && status < 300) {
    startTwoHundred(*call, from, relay.server, r);
  }
  svc.endpoint.transactions().sendResponse(relay.server, std::move(r));
}

void B2buaState::reAck(const Relay& relay) {
  B2bua::Call* call = find(relay.call);
  if (call == nullptr) return;
  Leg& to = relay.from == CallSide::kCaller ? call->callee : call->caller;
  if (to.ack.empty()) return;
  auto ack = sip::Message::parse(to.ack);
  if (ack) svc.endpoint.transactions().sendStateless(*ack, to.to);
}

void B2buaState::onAck(sip::TransactionId id, const sip::Message& ack) {
  B2bua::Call* call = nullptr;
  CallSide side = CallSide::kCaller;
  if (auto it = byInviteTx.find(id); id != 0 && it != byInviteTx.end()) {
    call = find(it->second);
  } else {
    std::tie(call, side) = findDialog(ack);
  }
  if (call == nullptr) return;
  Leg& leg = side == CallSide::kCaller ? call->caller : call->callee;
  auto cseq = ack.cseq();
  if (leg.twoHundred.active && cseq && cseq->number == leg.twoHundred.cseq) {
    leg.twoHundred.stop();
  }
  if (side == CallSide::kCaller && call->awaitingAckAnswer && cseq &&
      cseq->number == call->callerCSeq) {
    finishLateOffer(*call, &ack);  // the answer to the callee's offer
  }
}

void B2buaState::startTwoHundred(B2bua::Call& call, Leg& leg, sip::TransactionId server,
                                 const sip::Message& response) {
  if (leg.transport != sip::Transport::kUdp) return;  // reliable: no retransmission
  auto cseq = response.cseq();
  const sip::Clock::TimePoint now = svc.clock.now();
  PendingTwoHundred& p = leg.twoHundred;
  p.server = server;
  p.cseq = cseq ? cseq->number : 0;
  p.wire = response.serialize();
  p.interval = settings.t1;
  p.next = now + settings.t1;
  p.giveUp = now + 64 * settings.t1;
  p.active = true;
  schedule(call, p.next);
}

void B2buaState::retransmitTwoHundreds(B2bua::Call& call, sip::Clock::TimePoint now) {
  for (Leg* leg : {&call.caller, &call.callee}) {
    PendingTwoHundred& p = leg->twoHundred;
    if (!p.active || p.next > now) continue;
    if (now >= p.giveUp) {
      // RFC 3261 13.3.1.4: no ACK within 64*T1: end the session with a BYE.
      p.stop();
      if (call.awaitingAckAnswer) {
        finishLateOffer(call, nullptr);  // late offer: ACK without answer, BYE both
        return;
      }
      if (call.state == CallState::kAnswered) {
        sendBye(call, CallSide::kCaller);
        sendBye(call, CallSide::kCallee);
        endCall(call, "pbx", "no ACK for 2xx", db::Disposition::answered);
      }
      return;
    }
    auto message = sip::Message::parse(p.wire);
    if (message) {
      if (!svc.endpoint.transactions().sendResponse(p.server, message->clone())) {
        svc.endpoint.transactions().sendStateless(*message, leg->to);
      }
    }
    p.next = now + p.interval;
    p.interval = std::min(2 * p.interval, settings.t2);
    schedule(call, p.next);
  }
}

}  // namespace duplex::call
