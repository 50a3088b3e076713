// Call control, part 4: what happens between the INVITE and the answer
// besides ringing. The caller's offer rewritten per fork (each binding gets
// the relay address it can reach); provisional responses toward the caller,
// reliable ones with PRACK (RFC 3262) relayed to the fork that sent them;
// UPDATE and INFO inside the early dialogs (RFC 3311 5.1, RFC 6086); and the
// late offer (an INVITE without SDP: the callee's 2xx carries the offer, the
// caller's ACK the answer, RFC 3261 13.2.1). See b2bua.h.
#include <algorithm>
#include <charconv>

#include "pbx/call/b2bua_internal.h"

namespace duplex::call {
namespace {

bool sameToken(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool hasOptionTag(const sip::Message& m, sip::HeaderId id, std::string_view tag) {
  for (std::string_view t : m.optionTags(id)) {
    if (sameToken(t, tag)) return true;
  }
  return false;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

// RFC 3262 7.1: RSeq = 1*DIGIT, 1 to 2**32-1.
std::optional<std::uint32_t> number(std::string_view v) {
  v = trim(v);
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || end != v.data() + v.size() || n == 0) return std::nullopt;
  return n;
}

// The RSeq of a reliable provisional response (Require: 100rel and RSeq),
// unset for an unreliable one.
std::optional<std::uint32_t> reliableRSeq(const sip::Message& response) {
  if (!hasOptionTag(response, sip::HeaderId::kRequire, "100rel")) return std::nullopt;
  auto rseq = response.header(sip::HeaderId::kRSeq);
  return rseq ? number(*rseq) : std::nullopt;
}

// RFC 3262 7.2: RAck = response-num LWS CSeq-num LWS Method.
struct RAck {
  std::uint32_t rseq = 0;
  std::uint32_t cseq = 0;
  std::string_view method;
};

std::optional<RAck> parseRAck(std::string_view v) {
  v = trim(v);
  RAck out;
  auto word = [&v]() {
    v = trim(v);
    std::size_t end = v.find_first_of(" \t");
    std::string_view w = v.substr(0, end);
    v = end == std::string_view::npos ? std::string_view{} : v.substr(end);
    return w;
  };
  auto rseq = number(word());
  auto cseq = number(word());
  out.method = word();
  if (!rseq || !cseq || out.method.empty() || !trim(v).empty()) return std::nullopt;
  out.rseq = *rseq;
  out.cseq = *cseq;
  return out;
}

constexpr std::string_view kCopied[] = {"Info-Package", "Content-Disposition", "Event",
                                        "Recv-Info"};

void copyHeaders(const sip::Message& from, sip::Message& to) {
  for (std::string_view name : kCopied) {
    for (std::string_view v : from.headerValues(name)) to.addHeader(name, v);
  }
}

std::string forkContact(const Fork& f) {
  return concat("sip:", sip::Endpoint{f.advertised, f.port}.toString());
}

bool forkAlive(const Fork& f) {
  return !f.done && !f.cancelWanted && f.dialog.has_value();
}

std::string_view provisionalReason(int status) {
  switch (status) {
    case 181:
      return "Call Is Being Forwarded";
    case 182:
      return "Queued";
    case 183:
      return "Session Progress";
    default:
      return "Ringing";
  }
}

constexpr std::size_t kMaxQueuedProvisionals = 16;

}  // namespace

// ------------------------------------------------------------ offers per fork

std::optional<std::string> B2buaState::offerFor(B2bua::Call& call, const std::string& advertised) {
  for (const auto& [address, body] : call.offersByAddress) {
    if (address == advertised) return body;
  }
  // The relay port toward the callee side is one socket; only the address
  // written into c= differs between a LAN binding and a remote one.
  if (!call.callerInvite) return std::nullopt;  // answered: no more forks
  SdpRewrite offer = svc.media.rewrite(call.media, CallSide::kCaller, call.callerInvite->body(),
                                       call.caller.to.endpoint.ip, advertised);
  if (!offer.ok()) return std::nullopt;
  call.offersByAddress.emplace_back(advertised, offer.body);
  return std::move(offer.body);
}

// ------------------------------------------------ provisionals toward the caller

void B2buaState::relayProvisional(B2bua::Call& call, std::size_t i, const sip::Message& response) {
  Fork& f = call.forks[i];
  const int status = response.statusCode();
  std::optional<std::uint32_t> rseq = f.dialog ? reliableRSeq(response) : std::nullopt;
  if (rseq) {
    // RFC 3262 4: a retransmission repeats its RSeq; ours retransmits on
    // its own schedule toward the caller.
    if (*rseq <= f.lastRSeq) return;
    f.lastRSeq = *rseq;
  }
  std::string sdp;
  if (isSdp(response)) {
    // Early media (183): the callee's SDP rewritten toward the caller. A
    // second 183 with other SDP is rewritten again (the relay re-learns).
    SdpRewrite early = svc.media.rewrite(call.media, CallSide::kCallee, response.body(),
                                         f.to.endpoint.ip, call.caller.advertised);
    if (early.ok()) sdp = std::move(early.body);
  }
  if (f.dialog) call.earlyFork = i;
  Provisional p;
  p.status = status == 181 || status == 182 || status == 183 ? status : 180;
  p.reason = std::string(provisionalReason(p.status));
  p.fork = i;
  if (rseq && !call.prov.callerSupports) {
    // A callee that sends reliable provisionals although we did not offer
    // 100rel: acknowledge it here, the caller gets it unreliably.
    prackFork(call, i, *rseq);
  } else if (rseq) {
    p.forkRSeq = *rseq;
    // RFC 3261 13.2.1: the answer in a reliable provisional completes the
    // offer/answer; the 2xx may then come without SDP.
    if (!sdp.empty() && !call.lateOffer) f.offerAnswered = true;
  }
  p.sdp = std::move(sdp);
  p.reliable = p.forkRSeq != 0 || call.prov.callerRequires;
  sendProvisional(call, std::move(p));
}

void B2buaState::sendProvisional(B2bua::Call& call, Provisional p) {
  ReliableProvisionals& prov = call.prov;
  if (prov.outstanding) {
    // RFC 3262 3: no second reliable provisional before the first is
    // PRACKed; later ones (of any kind, to keep their order) wait.
    if (prov.queued.size() >= kMaxQueuedProvisionals) prov.queued.erase(prov.queued.begin());
    prov.queued.push_back(std::move(p));
    return;
  }
  if (!p.reliable) {
    sendToCaller(call, p.status, p.reason, p.sdp);
    return;
  }
  if (!call.callerInvite) return;  // answered meanwhile
  sip::Message r = sip::Message::responseTo(*call.callerInvite, p.status, p.reason,
                                            call.caller.dialog->localTag());
  r.addHeader("Contact", concat("<", call.caller.contact(), ">"));
  r.addHeader("Require", "100rel");
  const std::uint32_t rseq = prov.nextRSeq++;
  r.addHeader("RSeq", std::to_string(rseq));
  r.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, INFO, OPTIONS");
  if (!settings.serverHeader.empty()) r.addHeader("Server", settings.serverHeader);
  if (!p.sdp.empty()) r.setBody("application/sdp", p.sdp);
  // RFC 3262 3: retransmitted from T1, doubling, until the PRACK; the
  // caller gets a 5xx when none came in 64*T1.
  const sip::Clock::TimePoint now = svc.clock.now();
  prov.outstanding = std::move(p);
  prov.outstandingRSeq = rseq;
  prov.wire = r.serialize();
  prov.interval = settings.t1;
  prov.next = now + settings.t1;
  prov.giveUp = now + 64 * settings.t1;
  schedule(call, prov.next);
  svc.endpoint.transactions().sendResponse(call.inviteTx, std::move(r));
}

void B2buaState::retransmitReliable(B2bua::Call& call, sip::Clock::TimePoint now) {
  ReliableProvisionals& prov = call.prov;
  if (!prov.outstanding) return;
  if (call.state != CallState::kRinging) {
    stopProvisionals(call);
    return;
  }
  if (now >= prov.giveUp) {
    stopProvisionals(call);
    failCall(call, 500, "Reliable Provisional Response Not Acknowledged", db::Disposition::failed);
    return;
  }
  if (prov.next > now) return;
  if (auto message = sip::Message::parse(prov.wire)) {
    svc.endpoint.transactions().sendResponse(call.inviteTx, std::move(message).value());
  }
  prov.interval *= 2;  // RFC 3262 3: T1, 2*T1, 4*T1, ...
  prov.next = std::min(now + prov.interval, prov.giveUp);
  schedule(call, prov.next);
}

void B2buaState::stopProvisionals(B2bua::Call& call) {
  // A PRACK that still comes for it (the answer crossed it) gets 200.
  if (call.prov.outstanding) call.prov.lastAckedRSeq = call.prov.outstandingRSeq;
  call.prov.outstanding.reset();
  std::vector<Provisional>().swap(call.prov.queued);
  std::string().swap(call.prov.wire);
}

void B2buaState::prackFork(B2bua::Call& call, std::size_t i, std::uint32_t rseq) {
  Fork& f = call.forks[i];
  if (!f.dialog) return;
  sip::Message prack = f.dialog->makeRequest(
      sip::Method::kPrack, sip::transportName(f.to.transport),
      sip::Endpoint{f.advertised, f.port}.toString(), newBranch(svc.endpoint));
  prack.addHeader("RAck",
                  concat(std::to_string(rseq), " ", std::to_string(f.inviteCSeq), " INVITE"));
  std::string wire = f.trunk ? prack.serialize() : std::string();
  auto tx = svc.endpoint.sendRequest(std::move(prack), f.to, &self);
  if (tx && f.trunk) noteTrunkRequest(call, CallSide::kCallee, *tx, std::move(wire), f.to, i);
}

void B2buaState::onPrack(sip::TransactionId id, const sip::Message& prack, B2bua::Call& call) {
  auto header = prack.header(sip::HeaderId::kRAck);
  std::optional<RAck> rack = header ? parseRAck(*header) : std::nullopt;
  if (!rack) {
    svc.endpoint.respond(id, 400, header ? "Bad RAck" : "Missing RAck");
    return;
  }
  ReliableProvisionals& prov = call.prov;
  const bool forInvite = rack->cseq == call.callerCSeq && rack->method == "INVITE";
  if (!forInvite || !prov.outstanding || rack->rseq != prov.outstandingRSeq) {
    if (forInvite && rack->rseq != 0 && rack->rseq == prov.lastAckedRSeq) {
      svc.endpoint.respond(id, 200, "OK");  // a PRACK again (its 200 was lost)
      return;
    }
    // RFC 3262 3: a PRACK that matches no unacknowledged reliable 1xx.
    svc.endpoint.respond(id, 481, "No Matching Reliable Provisional Response");
    return;
  }
  Provisional acked = std::move(*prov.outstanding);
  prov.outstanding.reset();
  prov.lastAckedRSeq = prov.outstandingRSeq;
  Fork* f = acked.fork && *acked.fork < call.forks.size() ? &call.forks[*acked.fork] : nullptr;
  if (f != nullptr && acked.forkRSeq != 0 && call.state == CallState::kRinging && forkAlive(*f)) {
    // The callee's reliable 1xx: the PRACK goes on to it, RAck mapped to
    // its RSeq and its INVITE's CSeq; SDP (a late offer's answer) rewritten.
    sip::Message out = f->dialog->makeRequest(
        sip::Method::kPrack, sip::transportName(f->to.transport),
        sip::Endpoint{f->advertised, f->port}.toString(), newBranch(svc.endpoint));
    out.addHeader("RAck", concat(std::to_string(acked.forkRSeq), " ", std::to_string(f->inviteCSeq),
                                 " INVITE"));
    copyHeaders(prack, out);
    if (isSdp(prack)) {
      SdpRewrite sdp = svc.media.rewrite(call.media, CallSide::kCaller, prack.body(),
                                         call.caller.to.endpoint.ip, f->advertised);
      if (!sdp.ok()) {
        svc.endpoint.respond(id, sdp.status, sdp.reason);
        return;
      }
      out.setBody("application/sdp", sdp.body);
      f->offerAnswered = true;
    }
    std::string wire = f->trunk ? out.serialize() : std::string();
    auto tx = svc.endpoint.sendRequest(std::move(out), f->to, &self);
    if (!tx) {
      svc.endpoint.respond(id, 503, "Service Unavailable");
    } else {
      relays[*tx] = Relay{call.id, CallSide::kCaller, id, sip::Method::kPrack, acked.fork};
      if (f->trunk) {
        noteTrunkRequest(call, CallSide::kCallee, *tx, std::move(wire), f->to, acked.fork);
      }
    }
  } else {
    // Made reliable by the PBX (the callee's was not), or its fork is gone.
    svc.endpoint.respond(id, 200, "OK");
  }
  while (!prov.outstanding && !prov.queued.empty() && call.state == CallState::kRinging) {
    Provisional next = std::move(prov.queued.front());
    prov.queued.erase(prov.queued.begin());
    sendProvisional(call, std::move(next));
  }
}

// ------------------------------------------------------ early-dialog requests

bool B2buaState::findEarlyDialog(const sip::Message& request, B2bua::Call*& call,
                                 std::size_t& fork) {
  auto to = request.to();
  auto from = request.from();
  if (!to || !from) return false;
  auto it = byDialog.find(dialogKey(request.callId().value_or(""), to->tag()));
  if (it == byDialog.end() || it->second.second != CallSide::kCallee) return false;
  B2bua::Call* c = find(it->second.first);
  if (c == nullptr) return false;
  for (std::size_t i = 0; i < c->forks.size(); ++i) {
    const Fork& f = c->forks[i];
    if (f.dialog && f.dialog->remoteTag() == from->tag() && !f.done) {
      call = c;
      fork = i;
      return true;
    }
  }
  return false;
}

void B2buaState::onEarlyRequest(sip::TransactionId id, const sip::Message& request,
                                B2bua::Call& call, CallSide side, std::optional<std::size_t> fork) {
  const sip::Method method = request.method();
  if (side == CallSide::kCallee &&
      (!fork || call.state != CallState::kRinging || !forkAlive(call.forks[*fork]))) {
    svc.endpoint.respond(id, 481, "Call/Transaction Does Not Exist");
    return;
  }
  sip::Dialog& fromDialog =
      side == CallSide::kCaller ? *call.caller.dialog : *call.forks[*fork].dialog;
  if (auto error = fromDialog.checkRemoteCSeq(request)) {
    svc.endpoint.respond(id, error->status, error->reason);
    return;
  }
  if (method == sip::Method::kPrack) {
    if (side == CallSide::kCaller) {
      onPrack(id, request, call);
    } else {
      svc.endpoint.respond(id, 481, "No Matching Reliable Provisional Response");
    }
    return;
  }
  if (method != sip::Method::kUpdate && method != sip::Method::kInfo) {
    if (side == CallSide::kCaller) {
      svc.endpoint.respond(id, 491, "Request Pending");  // a re-INVITE before the answer
    } else {
      svc.endpoint.respond(id, 481, "Call/Transaction Does Not Exist");
    }
    return;
  }
  // The caller's request goes to the fork whose early dialog it is in: the
  // one that sent the last provisional with a To tag.
  if (side == CallSide::kCaller) {
    fork = call.earlyFork;
    if (!fork || !forkAlive(call.forks[*fork])) {
      svc.endpoint.respond(id, 491, "Request Pending");  // no callee dialog yet: retry later
      return;
    }
  }
  Fork& f = call.forks[*fork];
  if (method == sip::Method::kUpdate && call.reinviteInProgress) {
    svc.endpoint.respond(id, 491, "Request Pending");  // RFC 3311 5.2 glare
    return;
  }
  const bool toCallee = side == CallSide::kCaller;
  sip::Dialog& toDialog = toCallee ? *f.dialog : *call.caller.dialog;
  const sip::Destination& dest = toCallee ? f.to : call.caller.to;
  const std::string via =
      toCallee ? sip::Endpoint{f.advertised, f.port}.toString() : call.caller.viaSentBy();
  sip::Message out = toDialog.makeRequest(method, sip::transportName(dest.transport), via,
                                          newBranch(svc.endpoint));
  if (method == sip::Method::kUpdate) fromDialog.refreshTarget(request);  // RFC 3311 5.1
  copyHeaders(request, out);
  if (isSdp(request)) {
    const std::string& fromIp = toCallee ? call.caller.to.endpoint.ip : f.to.endpoint.ip;
    const std::string& advertise = toCallee ? f.advertised : call.caller.advertised;
    SdpRewrite sdp = svc.media.rewrite(call.media, side, request.body(), fromIp, advertise);
    if (!sdp.ok()) {
      svc.endpoint.respond(id, sdp.status, sdp.reason);
      return;
    }
    out.setBody("application/sdp", sdp.body);
  } else if (!request.body().empty()) {
    out.setBody(request.contentType().value_or("application/octet-stream"), request.body());
  }
  const CallSide toward = toCallee ? CallSide::kCallee : CallSide::kCaller;
  std::string wire = isTrunkSide(call, toward) ? out.serialize() : std::string();
  auto tx = svc.endpoint.sendRequest(std::move(out), dest, &self);
  if (!tx) {
    svc.endpoint.respond(id, 503, "Service Unavailable");
    return;
  }
  relays[*tx] = Relay{call.id, side, id, method, fork};
  if (!wire.empty()) {
    noteTrunkRequest(call, toward, *tx, std::move(wire), dest,
                     toCallee ? fork : std::optional<std::size_t>{});
  }
  if (method == sip::Method::kUpdate) call.reinviteInProgress = true;
}

void B2buaState::onEarlyRelayResponse(const Relay& relay, const sip::Message& response) {
  B2bua::Call* call = find(relay.call);
  const int status = response.statusCode();
  if (call == nullptr || status < 200 || !relay.fork || *relay.fork >= call->forks.size()) return;
  if (relay.method == sip::Method::kUpdate) call->reinviteInProgress = false;
  Fork& f = call->forks[*relay.fork];
  const bool fromCaller = relay.from == CallSide::kCaller;
  if (relay.method == sip::Method::kUpdate && status < 300) {
    // RFC 3311 5.2: the 2xx of an UPDATE refreshes the target too.
    if (fromCaller && f.dialog) {
      f.dialog->refreshTarget(response);
    } else if (!fromCaller) {
      call->caller.dialog->refreshTarget(response);
    }
  }
  const sip::Message* request = svc.endpoint.transactions().request(relay.server);
  if (request == nullptr || call->state == CallState::kEnded) return;
  const int forwarded = status == 401 || status == 407 ? 500 : status;  // their auth is not ours
  sip::Message r = sip::Message::responseTo(
      *request, forwarded,
      forwarded == status ? response.reasonPhrase() : std::string_view("Server Internal Error"));
  if (relay.method == sip::Method::kUpdate && status < 300) {
    r.addHeader("Contact", concat("<", fromCaller ? call->caller.contact() : forkContact(f), ">"));
  }
  if (!settings.serverHeader.empty()) r.addHeader("Server", settings.serverHeader);
  copyHeaders(response, r);
  if (isSdp(response)) {
    const std::string& responderIp = fromCaller ? f.to.endpoint.ip : call->caller.to.endpoint.ip;
    const std::string& advertise = fromCaller ? call->caller.advertised : f.advertised;
    SdpRewrite sdp = svc.media.rewrite(call->media, otherSide(relay.from), response.body(),
                                       responderIp, advertise);
    if (sdp.ok()) r.setBody("application/sdp", sdp.body);
  } else if (!response.body().empty()) {
    r.setBody(response.contentType().value_or("application/octet-stream"), response.body());
  }
  svc.endpoint.transactions().sendResponse(relay.server, std::move(r));
}

// ------------------------------------------------------------------ late offer

void B2buaState::finishLateOffer(B2bua::Call& call, const sip::Message* ack) {
  if (!call.awaitingAckAnswer) return;
  call.awaitingAckAnswer = false;
  std::string body;
  std::string why = "late offer: the caller's ACK carried no SDP answer";
  if (ack == nullptr) {
    why = "late offer: no ACK from the caller";
  } else if (isSdp(*ack)) {
    SdpRewrite answer = svc.media.rewrite(call.media, CallSide::kCaller, ack->body(),
                                          call.caller.to.endpoint.ip, call.callee.advertised);
    if (answer.ok()) {
      body = std::move(answer.body);
    } else {
      why = concat("late offer: the caller's answer: ", answer.reason);
    }
  }
  // The callee's 2xx waited for this: its ACK carries the answer (RFC 3261
  // 13.2.1); without one the session cannot start, so it is ended at once.
  sip::Message out =
      call.callee.dialog->makeRequest(sip::Method::kAck, sip::transportName(call.callee.transport),
                                      call.callee.viaSentBy(), newBranch(svc.endpoint), 1);
  if (!body.empty()) out.setBody("application/sdp", body);
  call.callee.ack = out.serialize();
  svc.endpoint.transactions().sendStateless(out, call.callee.to);
  if (body.empty()) {
    sendBye(call, CallSide::kCaller);
    sendBye(call, CallSide::kCallee);
    endCall(call, "pbx", why, db::Disposition::failed);
  }
}

}  // namespace duplex::call
