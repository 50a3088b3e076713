// Call control, part 1: the B2bua facade, new calls (authentication, the
// routing chain, the callee legs) and the timers. See b2bua.h.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "pbx/call/b2bua_internal.h"
#include "pbx/call/digest_headers.h"
#include "pbx/call/register_request.h"

namespace duplex::call {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::optional<registrar::StoredHa1> storedHa1(const std::optional<ExtensionCredentials>& ext) {
  if (!ext || !ext->enabled) return std::nullopt;  // same answer as an unknown user
  return registrar::StoredHa1{ext->ha1Md5, ext->ha1Sha256, ext->realm};
}

std::uint16_t portOr(std::uint16_t port, std::uint16_t fallback) {
  return port != 0 ? port : fallback;
}

}  // namespace

bool isSdp(const sip::Message& m) {
  auto type = m.contentType();
  if (!type || m.body().empty()) return false;
  std::string t(*type);
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t.rfind("application/sdp", 0) == 0;
}

std::string dialogKey(std::string_view call_id, std::string_view local_tag) {
  std::string key(call_id);
  key += '|';
  key += local_tag;
  return key;
}

std::string newBranch(sip::SipEndpoint& endpoint) {
  return endpoint.transactions().newBranch();
}

std::string Leg::viaSentBy() const {
  return sip::Endpoint{advertised, port}.toString();
}

std::string Leg::contact() const {
  return concat("sip:", sip::Endpoint{advertised, port}.toString());
}

// ------------------------------------------------------------------ facade

B2bua::B2bua(Services services, CallSettings settings)
    : state_(std::make_unique<B2buaState>(*this, services, std::move(settings), stats_)) {}

B2bua::~B2bua() {
  state_->svc.endpoint.forgetClientOwner(this);
}

void B2bua::done() {
  state_->reap();
  if (scheduled_) scheduled_();
}

void B2bua::onRequest(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id,
                      const sip::Message& request) {
  if (request.method() == sip::Method::kInvite) {
    auto to = request.to();
    if (to && to->tag().empty()) {
      state_->onInvite(id, request);
      done();
      return;
    }
  }
  state_->onInDialog(id, request);
  done();
}

void B2bua::onAck(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id, const sip::Message& ack) {
  state_->onAck(id, ack);
}

void B2bua::onCancel(sip::SipEndpoint& /*endpoint*/, sip::TransactionId invite) {
  auto it = state_->byInviteTx.find(invite);
  if (it == state_->byInviteTx.end()) return;
  Call* call = state_->find(it->second);
  if (call == nullptr || call->state != CallState::kRinging) return;
  // RFC 3261 9.2: 487 for the INVITE; the callee legs are CANCELed.
  state_->cancelForks(*call, std::nullopt);
  state_->sendToCaller(*call, 487, "Request Terminated");
  state_->endCall(*call, "caller", "CANCEL", db::Disposition::cancelled);
  done();
}

void B2bua::setTrunks(const TrunkDirectory& directory, const TrunkAddresses& addresses,
                      const TrunkContactChoice* contacts) {
  state_->trunks = &directory;
  state_->trunkAddresses = &addresses;
  state_->trunkContacts = contacts;
}

void B2bua::onResponse(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id,
                       const sip::Message& response) {
  // A trunk's 401/407: the request goes again with credentials, under a new
  // transaction that takes over this one's role.
  if (state_->retryWithCredentials(id, response)) {
    done();
    return;
  }
  if (auto it = state_->byForkTx.find(id); it != state_->byForkTx.end()) {
    const auto [callId, fork] = it->second;
    if (Call* call = state_->find(callId)) state_->onForkResponse(*call, fork, response);
  } else if (auto r = state_->relays.find(id); r != state_->relays.end()) {
    const Relay relay = r->second;
    const int status = response.statusCode();
    if (relay.answered) {
      // RFC 3261 13.2.2.4: a retransmitted 2xx of a relayed re-INVITE gets
      // the same ACK again.
      if (status >= 200 && status < 300) state_->reAck(relay);
    } else if (status >= 200) {
      if (relay.method == sip::Method::kInvite && status < 300) {
        r->second.answered = true;  // kept until the call is forgotten
      } else {
        state_->relays.erase(r);
      }
      state_->onRelayResponse(id, relay, response);
    } else {
      state_->onRelayResponse(id, relay, response);
    }
  }
  done();
}

void B2bua::onClientTimeout(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id) {
  state_->forgetTrunkRequest(id);
  if (auto it = state_->byForkTx.find(id); it != state_->byForkTx.end()) {
    const auto [callId, fork] = it->second;
    if (Call* call = state_->find(callId)) state_->onForkFinal(*call, fork, 408, "Request Timeout");
  } else if (auto r = state_->relays.find(id); r != state_->relays.end()) {
    const Relay relay = r->second;
    state_->relays.erase(r);
    sip::Message timeout = sip::Message::response(408, "Request Timeout");
    state_->onRelayResponse(id, relay, timeout);
  }
  done();
}

void B2bua::onTransportError(sip::SipEndpoint& endpoint, sip::TransactionId id) {
  state_->forgetTrunkRequest(id);
  if (auto it = state_->byForkTx.find(id); it != state_->byForkTx.end()) {
    const auto [callId, fork] = it->second;
    if (Call* call = state_->find(callId)) {
      state_->onForkFinal(*call, fork, 503, "Service Unavailable");
    }
    done();
    return;
  }
  onClientTimeout(endpoint, id);
}

void B2bua::onMediaEvent(const MediaEvent& event) {
  for (auto& [id, call] : state_->calls) {
    if (call->media != event.session) continue;
    if (event.kind == MediaEvent::Kind::kTimeout && call->state == CallState::kAnswered) {
      state_->sendBye(*call, CallSide::kCaller);
      state_->sendBye(*call, CallSide::kCallee);
      state_->endCall(*call, "pbx", concat("media timeout: ", event.reason),
                      db::Disposition::answered);
    }
    break;
  }
  done();
}

std::optional<sip::Clock::TimePoint> B2bua::nextDeadline() const {
  if (state_->timers.empty()) return std::nullopt;
  return state_->timers.top().when;
}

void B2bua::onTimer(sip::Clock::TimePoint now) {
  state_->fireTimers(now);
  done();
}

// ------------------------------------------------------------------ state

B2bua::Call* B2buaState::find(std::uint64_t id) {
  auto it = calls.find(id);
  return it == calls.end() ? nullptr : it->second.get();
}

void B2buaState::reject(sip::TransactionId id, int status, std::string_view reason,
                        const Headers& headers) {
  ++stats.rejected;
  svc.endpoint.respond(id, status, reason, headers);
}

bool B2buaState::authenticate(sip::TransactionId id, const sip::Message& invite,
                              std::string& caller) {
  const registrar::Instant now = svc.wallNow();
  auto challenge = [&](bool stale) {
    Headers headers;
    for (const registrar::ChallengeParams& c :
         svc.authenticator.challenge(registrar::unixSecondsFloor(now), stale)) {
      headers.emplace_back("Proxy-Authenticate", formatChallenge(c));
    }
    ++stats.challenged;
    svc.endpoint.respond(id, 407, "Proxy Authentication Required", headers);
  };
  // RFC 3261 22.3: a proxy-like element challenges with 407.
  const std::vector<sip::Credentials> lines = invite.proxyAuthorizations();
  const auto credentials = selectCredentials(lines, svc.authenticator.realm());
  if (!credentials) {
    challenge(false);
    return false;
  }
  if (!credentials->uri.empty() && !digestUriMatches(credentials->uri, invite.requestUriText())) {
    reject(id, 400, "Digest uri does not match Request-URI");
    return false;
  }
  const std::optional<ExtensionCredentials> ext = svc.credentials.find(credentials->username);
  const std::string_view agent = invite.header(sip::HeaderId::kUserAgent).value_or("");
  const std::string_view source =
      invite.origin() ? std::string_view(invite.origin()->source.ip) : std::string_view{};
  const registrar::AuthResult result =
      svc.authenticator.verify(*credentials, invite.methodToken(), storedHa1(ext), {source, agent},
                               registrar::unixSecondsFloor(now));
  switch (result.outcome) {
    case registrar::AuthOutcome::kOk:
      break;
    case registrar::AuthOutcome::kStale:
      challenge(true);
      return false;
    case registrar::AuthOutcome::kBadNonce:
    case registrar::AuthOutcome::kReplay:
      challenge(false);
      return false;
    case registrar::AuthOutcome::kForbidden:
      reject(id, 403, "Forbidden");
      return false;
    case registrar::AuthOutcome::kMalformed:
      reject(id, 400, result.reason);
      return false;
  }
  // The caller is who authenticated; a From naming another extension is a
  // spoofing attempt (the call record and the callee's display would lie).
  auto from = invite.from();
  if (!from) {
    reject(id, from.error().status, from.error().reason);
    return false;
  }
  if (from->uri.isSip() && from->uri.hasUser() && from->uri.userUnescaped() != ext->number) {
    reject(id, 403, "From is not the authenticated user");
    return false;
  }
  caller = ext->number;
  return true;
}

void B2buaState::onInvite(sip::TransactionId id, const sip::Message& invite) {
  ++stats.invites;
  // A provider's INVITE (from a trunk's address) is not challenged: it is
  // routed by its DID (b2bua_trunks.cpp).
  if (onTrunkInvite(id, invite)) return;
  std::string caller;
  if (!authenticate(id, invite, caller)) return;

  // The routing chain (call_routing.h).
  RoutingContext ctx;
  ctx.caller = caller;
  const registrar::Instant now = svc.wallNow();
  std::optional<RouteStop> stop = checkMaxForwards(invite, ctx);
  ctx.maxForwards = std::min(ctx.maxForwards, settings.maxForwards);
  if (!stop) stop = dialPlan(invite, ctx);
  if (!stop) stop = resolveExtension(svc.directory, ctx);
  // Not an extension: an outbound route may take it (outbound_routing.h).
  if (stop && stop->status == 404 && !ctx.dialled.empty() && tryOutbound(id, invite, ctx)) return;
  if (!stop) stop = applyFeatures(svc.directory, ctx);
  if (!stop) stop = findBindings(svc.registrar, svc.directory, now, ctx);
  if (stop) {
    reject(id, stop->status, stop->reason);
    if (stop->status != 483 && stop->status != 404 && stop->status != 484) {
      recordRejected(nullptr, invite, ctx, stop->status, stop->reason);
    }
    return;
  }
  placeCall(id, invite, std::move(ctx), nullptr);
}

void B2buaState::placeCall(sip::TransactionId id, const sip::Message& invite, RoutingContext ctx,
                           std::unique_ptr<TrunkCall> trunk) {
  const registrar::Instant now = svc.wallNow();
  // No body: a late offer (RFC 3261 13.2.1), the callee's 2xx will make
  // the offer. A body of another kind cannot be relayed. Toward a trunk the
  // offer is needed at once (its codecs are filtered per trunk).
  const bool lateOffer = invite.body().empty();
  if (lateOffer && trunk && trunk->outbound) {
    reject(id, 488, "SDP offer required (calls through a trunk)");
    return;
  }
  if (!lateOffer && !isSdp(invite)) {
    reject(id, 488, "SDP offer required");
    return;
  }
  const sip::Origin& origin = *invite.origin();

  auto owned = std::make_unique<B2bua::Call>();
  B2bua::Call& call = *owned;
  call.id = nextCallId++;
  call.inviteTx = id;
  call.callerInvite = std::make_unique<sip::Message>(invite.clone());
  const auto callerCSeq = invite.cseq();
  call.callerCSeq = callerCSeq ? callerCSeq->number : 0;
  call.routing = std::move(ctx);
  call.trunk = std::move(trunk);
  call.startAt = registrar::unixSecondsFloor(now);
  call.caller.to =
      sip::Destination{origin.transport, origin.source, origin.connection_id, origin.local};
  call.caller.transport = origin.transport;
  call.caller.advertised = svc.addresses.advertisedFor(origin.source.ip, origin.local.ip);
  call.caller.port = portOr(origin.local.port, settings.sipPort);
  if (call.trunk && !call.trunk->outbound && trunkContacts != nullptr) {
    // A provider's call: our Contact as the registration advertises it.
    const AdvertisedContact c = trunkContacts->contactFor(origin.source.ip, origin.transport);
    if (!c.host.empty()) call.caller.advertised = c.host;
    if (c.port != 0) call.caller.port = c.port;
  }
  auto dialog =
      sip::Dialog::fromIncomingInvite(invite, svc.endpoint.newTag(), call.caller.contact());
  if (!dialog) {
    reject(id, dialog.error().status, dialog.error().reason);
    return;
  }
  call.caller.dialog = std::move(dialog).value();

  // RFC 3262: 100rel is offered to the callee only when the caller can do it.
  for (std::string_view t : invite.optionTags(sip::HeaderId::kRequire)) {
    call.prov.callerRequires |= t == "100rel";
  }
  for (std::string_view t : invite.optionTags(sip::HeaderId::kSupported)) {
    call.prov.callerSupports |= t == "100rel";
  }
  call.prov.callerSupports |= call.prov.callerRequires;
  // RFC 3262 3: the first RSeq is random (below 2**31).
  call.prov.nextRSeq =
      1 + static_cast<std::uint32_t>(std::hash<std::string>{}(svc.endpoint.newTag()) % 0x7fffff00u);
  call.lateOffer = lateOffer;

  // Media: the caller's offer rewritten toward the callee side (on the
  // address the first binding can reach; startForks() rewrites it again for
  // bindings that reach another address; a trunk call rewrites it per trunk).
  call.media = svc.media.create(invite.callId().value_or(""));
  if (call.media == 0) {
    reject(id, 503, "No media ports available");
    return;
  }
  const bool outbound = call.trunk && call.trunk->outbound;
  std::string calleeAdvertised = call.caller.advertised;
  if (!outbound) {
    const registrar::SendTo& first = call.routing.locations.front().sendTo;
    calleeAdvertised = svc.addresses.advertisedFor(first.destination.ip, first.local.ip);
  }
  if (!outbound && !lateOffer) {
    SdpRewrite offer = svc.media.rewrite(call.media, CallSide::kCaller, invite.body(),
                                         origin.source.ip, calleeAdvertised);
    if (!offer.ok()) {
      svc.media.release(call.media, [](MediaSessions::Facts) {});
      reject(id, offer.status, offer.reason);
      return;
    }
    call.offersByAddress.emplace_back(calleeAdvertised, std::move(offer.body));
  }
  call.calleeCallId = concat(svc.endpoint.newTag(), svc.endpoint.newTag(), "@", calleeAdvertised);
  call.calleeTag = svc.endpoint.newTag();
  byInviteTx[id] = call.id;
  byDialog[dialogKey(call.caller.dialog->callId(), call.caller.dialog->localTag())] = {
      call.id, CallSide::kCaller};
  calls[call.id] = std::move(owned);
  ++stats.active;
  if (call.trunk) countTrunkCall(call);
  if (outbound) {
    startTrunkFork(call);
  } else {
    startForks(call);
  }
}

void B2buaState::startForks(B2bua::Call& call) {
  const sip::Clock::TimePoint now = svc.clock.now();
  const std::string& calleeTag = call.calleeTag;
  std::string display;
  if (auto me = svc.directory.find(call.routing.caller); me && !me->displayName.empty()) {
    display = concat("\"", me->displayName, "\" ");
  }
  const std::size_t firstNew = call.forks.size();
  for (const registrar::Location& loc : call.routing.locations) {
    Fork fork;
    const registrar::SendTo& s = loc.sendTo;
    fork.to = sip::Destination{toSipTransport(s.transport),
                               {s.destination.ip, s.destination.port},
                               s.connectionId ? static_cast<std::uint64_t>(*s.connectionId) : 0,
                               {s.local.ip, s.local.port}};
    fork.advertised = svc.addresses.advertisedFor(s.destination.ip, s.local.ip);
    fork.port = portOr(s.local.port, settings.sipPort);
    const std::string host = sip::Endpoint{fork.advertised, fork.port}.toString();
    sip::Message m = sip::Message::request(sip::Method::kInvite, loc.requestUri);
    m.addHeader("Via", concat("SIP/2.0/", sip::transportName(fork.to.transport), " ", host,
                              ";rport;branch=", newBranch(svc.endpoint)));
    m.addHeader("Max-Forwards", std::to_string(call.routing.maxForwards));
    m.addHeader("From",
                concat(display, "<sip:", call.routing.caller, "@", host, ">;tag=", calleeTag));
    m.addHeader("To", concat("<sip:", call.routing.target->number, "@", host, ">"));
    m.addHeader("Call-ID", call.calleeCallId);
    m.addHeader("CSeq", "1 INVITE");
    m.addHeader("Contact", concat("<sip:", call.routing.caller, "@", host, ">"));
    m.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, PRACK, UPDATE, INFO, OPTIONS");
    if (call.prov.callerSupports) m.addHeader("Supported", "100rel");
    if (!settings.serverHeader.empty()) m.addHeader("User-Agent", settings.serverHeader);
    if (call.lateOffer) {
      m.addHeader("Content-Length", "0");  // RFC 3261 20.14: no offer, an empty body
    } else {
      std::optional<std::string> offer = offerFor(call, fork.advertised);
      if (!offer) {
        fork.done = true;
        fork.status = 488;
        fork.reason = "Not Acceptable Here";
        call.forks.push_back(std::move(fork));
        continue;
      }
      m.setBody("application/sdp", *offer);
    }
    fork.invite = m.serialize();
    auto tx = svc.endpoint.sendRequest(std::move(m), fork.to, &self);
    if (!tx) {
      fork.done = true;
      fork.status = 503;
      fork.reason = "Service Unavailable";
      fork.finish();
    } else {
      fork.tx = *tx;
      byForkTx[*tx] = {call.id, call.forks.size()};
      ++stats.routed;
    }
    call.forks.push_back(std::move(fork));
  }
  if (firstNew == 0) {
    byDialog[dialogKey(call.calleeCallId, calleeTag)] = {call.id, CallSide::kCallee};
  }
  // No answer: the extension's no-answer forward after its delay, else 480
  // after call.no_answer_timeout.
  const ExtensionFeatures& t = *call.routing.target;
  const auto delay = t.forwardNoAnswer && !t.forwardNoAnswer->empty()
                         ? std::chrono::seconds(std::max(1, t.forwardNoAnswerSeconds))
                         : settings.noAnswerTimeout;
  call.noAnswerAt = now + delay;
  schedule(call, *call.noAnswerAt);
  bool pending = false;
  for (std::size_t i = firstNew; i < call.forks.size(); ++i) pending |= !call.forks[i].done;
  if (!pending) allForksFailed(call);
}

void B2buaState::schedule(B2bua::Call& call, sip::Clock::TimePoint when) {
  timers.push(TimerEntry{when, call.id});
}

void B2buaState::fireTimers(sip::Clock::TimePoint now) {
  while (!timers.empty() && timers.top().when <= now) {
    const std::uint64_t id = timers.top().call;
    timers.pop();
    B2bua::Call* call = find(id);
    if (call == nullptr) continue;
    retransmitTwoHundreds(*call, now);
    call = find(id);
    if (call != nullptr) retransmitReliable(*call, now);
    call = find(id);
    if (call != nullptr && call->awaitingAckAnswer && call->ackAnswerBy &&
        *call->ackAnswerBy <= now) {
      finishLateOffer(*call, nullptr);
    }
    call = find(id);
    if (call != nullptr && call->state == CallState::kRinging && call->noAnswerAt &&
        *call->noAnswerAt <= now) {
      call->noAnswerAt.reset();
      noAnswer(*call);
    }
  }
}

}  // namespace duplex::call
