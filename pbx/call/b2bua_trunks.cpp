// Call control, part 4: trunks. Outbound calls through a route's trunks
// (failover), inbound calls from a provider by DID, and the digest answers to
// a provider's 401/407 on any request sent toward it. See b2bua.h.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "pbx/call/b2bua_internal.h"
#include "pbx/call/codec_filter.h"

namespace duplex::call {
namespace {

std::shared_ptr<spdlog::logger> log() {
  auto l = spdlog::get("sip");
  return l ? l : spdlog::default_logger();
}

bool isFailover(int status) {
  // 5xx and 408 (RFC 3261 16.7 would try elsewhere too), and a provider that
  // refused our credentials (another trunk may take the call).
  return status >= 500 && status < 600 ? true : status == 408 || status == 401 || status == 407;
}

// "host" or "host:port" for URIs toward the trunk; IPv6 literals bracketed.
std::string hostPort(const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  std::string h;
  h.reserve(host.size() + 8);
  if (v6) h.push_back('[');
  h.append(host);
  if (v6) h.push_back(']');
  if (port != 5060) {
    h.push_back(':');
    h.append(std::to_string(port));
  }
  return h;
}

std::string digestUser(const TrunkConfig& t) {
  return t.authUsername.empty() ? t.username : t.authUsername;
}

}  // namespace

// ------------------------------------------------------------------ inbound

bool B2buaState::onTrunkInvite(sip::TransactionId id, const sip::Message& invite) {
  if (trunks == nullptr || trunkAddresses == nullptr || !invite.origin()) return false;
  const std::vector<std::int64_t> from =
      trunkAddresses->trunksForSource(invite.origin()->source.ip);
  if (from.empty()) return false;

  // The DID: the Request-URI user; but a provider that calls the contact
  // we registered puts our account there and the DID in To, so the To user
  // is taken when only it is a known number (or the Request-URI has none).
  std::string did;
  const sip::Uri& ruri = invite.requestUri();
  if (ruri.isSip() && ruri.hasUser()) did = ruri.userUnescaped();
  auto to = invite.to();
  if (to && to->uri.isSip() && to->uri.hasUser()) {
    std::string toUser = to->uri.userUnescaped();
    if (did.empty() || (!trunks->inboundNumber(did) && trunks->inboundNumber(toUser))) {
      did = std::move(toUser);
    }
  }
  std::optional<TrunkConfig> trunk = trunks->trunk(from.front());
  const std::string trunkName = trunk ? trunk->name : std::to_string(from.front());

  RoutingContext ctx;
  auto fromHeader = invite.from();
  if (!fromHeader) {
    reject(id, fromHeader.error().status, fromHeader.error().reason);
    return true;
  }
  ctx.caller =
      fromHeader->uri.hasUser() ? fromHeader->uri.userUnescaped() : std::string("anonymous");
  std::optional<RouteStop> stop = checkMaxForwards(invite, ctx);
  ctx.maxForwards = std::min(ctx.maxForwards, settings.maxForwards);
  if (stop) {
    reject(id, stop->status, stop->reason);
    return true;
  }

  std::optional<InboundNumber> number = trunks->inboundNumber(did);
  if (number && number->trunkId &&
      std::find(from.begin(), from.end(), *number->trunkId) == from.end()) {
    log()->warn("inbound call to {} from {} (trunk {}): the number belongs to trunk {} only", did,
                invite.origin()->source.ip, trunkName, *number->trunkId);
    number.reset();
  }
  if (number) {
    // The DID's own trunk when it names one (several trunks may share an address).
    if (number->trunkId && *number->trunkId != from.front()) {
      if (auto own = trunks->trunk(*number->trunkId)) trunk = std::move(own);
    }
  }
  std::string extension = number ? number->extension : trunks->dialingRules().inboundDefault;
  if (extension.empty()) {
    const std::string reason = concat("Not Found (unknown number ", did, ")");
    log()->warn("inbound call from {} via trunk {} refused: 404 {}", ctx.caller, trunkName, reason);
    ctx.dialled = did;
    reject(id, 404, reason);
    recordRejected(nullptr, invite, ctx, 404, reason);
    return true;
  }
  ctx.dialled = extension;
  stop = resolveExtension(svc.directory, ctx);
  if (!stop) stop = applyFeatures(svc.directory, ctx);
  if (!stop) stop = findBindings(svc.registrar, svc.directory, svc.wallNow(), ctx);
  ctx.dialled = did;
  if (stop) {
    log()->info("inbound call from {} to {} (extension {}) via trunk {}: {} {}", ctx.caller, did,
                extension, trunkName, stop->status, stop->reason);
    reject(id, stop->status, stop->reason);
    recordRejected(nullptr, invite, ctx, stop->status, stop->reason);
    return true;
  }
  auto tc = std::make_unique<TrunkCall>();
  tc->outbound = false;
  if (trunk) {
    tc->trunk = std::move(*trunk);
  } else {
    tc->trunk.id = from.front();
    tc->trunk.name = trunkName;
  }
  log()->info("inbound call from {} to {} via trunk {} rings {}", ctx.caller, did, tc->trunk.name,
              ctx.target->number);
  placeCall(id, invite, std::move(ctx), std::move(tc));
  return true;
}

// ------------------------------------------------------------------ outbound

bool B2buaState::tryOutbound(sip::TransactionId id, const sip::Message& invite,
                             RoutingContext& ctx) {
  if (trunks == nullptr) return false;
  const std::optional<ExtensionFeatures> me = svc.directory.find(ctx.caller);
  if (!me) return false;
  OutboundUsage usage;
  if (auto it = outsideCalls.find(ctx.caller); it != outsideCalls.end()) {
    usage.callerOutsideCalls = it->second;
  }
  usage.trunkCalls = [this](std::int64_t trunkId) {
    auto it = trunkCalls.find(trunkId);
    return it == trunkCalls.end() ? 0 : it->second;
  };
  OutboundDecision d = planOutboundCall(*trunks, *me, ctx.dialled, usage);
  if (!d.plan && !d.stop) return false;
  if (d.stop) {
    log()->warn("outside call from {} to {} refused: {} {}", ctx.caller, ctx.dialled,
                d.stop->status, d.stop->reason);
    reject(id, d.stop->status, d.stop->reason);
    recordRejected(nullptr, invite, ctx, d.stop->status, d.stop->reason);
    return true;
  }
  auto tc = std::make_unique<TrunkCall>();
  tc->plan = std::move(*d.plan);
  log()->info("outside call from {} to {} ({}) by route {}: sends {}", ctx.caller, ctx.dialled,
              toString(tc->plan.numberClass), tc->plan.route.name, tc->plan.sendNumber);
  placeCall(id, invite, std::move(ctx), std::move(tc));
  return true;
}

void B2buaState::startTrunkFork(B2bua::Call& call) {
  TrunkCall& tc = *call.trunk;
  auto failed = [&](const TrunkConfig& t, std::string_view why) {
    log()->warn("outside call from {} to {}: trunk {} failed: {}", call.routing.caller,
                tc.plan.dialled, t.name, why);
    if (!tc.failures.empty()) tc.failures += "; ";
    tc.failures += concat(t.name, ": ", why);
  };
  const std::string& calleeTag = call.calleeTag;
  while (tc.next < tc.plan.trunks.size()) {
    const TrunkConfig& t = tc.plan.trunks[tc.next++];
    tc.trunk = t;
    const TrunkNextHop hop =
        trunkAddresses != nullptr
            ? trunkAddresses->nextHop(t.id)
            : TrunkNextHop{std::nullopt, sip::Transport::kUdp, "trunk addresses not available"};
    if (!hop.endpoint) {
      failed(t, hop.error);
      continue;
    }
    // The address the provider can reach (the public one from behind NAT).
    std::string advertised = svc.addresses.advertisedFor(hop.endpoint->ip, "");
    std::uint16_t port = settings.sipPort;
    if (trunkContacts != nullptr) {
      // As the registration advertises us: public address, UPnP-mapped port.
      const AdvertisedContact c = trunkContacts->contactFor(hop.endpoint->ip, hop.transport);
      if (!c.host.empty()) advertised = c.host;
      if (c.port != 0) port = c.port;
    }
    SdpRewrite filtered = filterCodecs(call.callerInvite->body(), t.codecs, t.name);
    if (!filtered.ok()) {
      failed(t, filtered.reason);
      continue;
    }
    SdpRewrite offer = svc.media.rewrite(call.media, CallSide::kCaller, filtered.body,
                                         call.caller.to.endpoint.ip, advertised);
    if (!offer.ok()) {
      failCall(call, offer.status, offer.reason, db::Disposition::failed);
      return;
    }

    const std::string host = sip::Endpoint{advertised, port}.toString();
    const std::string provider = hostPort(t.host, t.port);
    const std::string fromUser = !tc.plan.route.callerId.empty() ? tc.plan.route.callerId
                                 : !t.fromUser.empty()           ? t.fromUser
                                                       : outboundCallerId(tc.plan.route, t);
    const std::string fromDomain = !t.fromDomain.empty() ? t.fromDomain : provider;
    std::string ruri = concat("sip:", tc.plan.sendNumber, "@", provider);
    if (hop.transport == sip::Transport::kTcp) ruri += ";transport=tcp";
    sip::Message m = sip::Message::request(sip::Method::kInvite, ruri);
    m.addHeader("Via", concat("SIP/2.0/", sip::transportName(hop.transport), " ", host,
                              ";rport;branch=", newBranch(svc.endpoint)));
    m.addHeader("Max-Forwards", std::to_string(call.routing.maxForwards));
    m.addHeader("From", concat("<sip:", fromUser, "@", fromDomain, ">;tag=", calleeTag));
    m.addHeader("To", concat("<sip:", tc.plan.sendNumber, "@", provider, ">"));
    m.addHeader("Call-ID", call.calleeCallId);
    m.addHeader("CSeq", "1 INVITE");
    m.addHeader("Contact",
                concat("<sip:", t.username.empty() ? fromUser : t.username, "@", host, ">"));
    m.addHeader("Allow", "INVITE, ACK, CANCEL, BYE, UPDATE, INFO, OPTIONS");
    if (!settings.serverHeader.empty()) m.addHeader("User-Agent", settings.serverHeader);
    m.setBody("application/sdp", offer.body);

    Fork fork;
    fork.trunk = true;
    fork.to = sip::Destination{hop.transport, *hop.endpoint, 0, {}};
    fork.advertised = advertised;
    fork.port = port;
    std::string wire = m.serialize();
    fork.invite = wire;
    auto tx = svc.endpoint.sendRequest(std::move(m), fork.to, &self);
    if (!tx) {
      failed(t, "transport error");
      continue;
    }
    fork.tx = *tx;
    byForkTx[*tx] = {call.id, call.forks.size()};
    ++stats.routed;
    if (call.forks.empty()) {
      byDialog[dialogKey(call.calleeCallId, calleeTag)] = {call.id, CallSide::kCallee};
    }
    const sip::Destination to = fork.to;
    call.forks.push_back(std::move(fork));
    noteTrunkRequest(call, CallSide::kCallee, *tx, std::move(wire), to);
    uncountTrunkCall(call);
    countTrunkCall(call);
    log()->info("outside call from {} to {}: INVITE sip:{}@{} via trunk {} ({})",
                call.routing.caller, tc.plan.dialled, tc.plan.sendNumber, provider, t.name,
                to.endpoint.toString());
    if (!call.noAnswerAt) {
      call.noAnswerAt = svc.clock.now() + settings.outboundNoAnswerTimeout;
      schedule(call, *call.noAnswerAt);
    }
    return;
  }
  log()->warn("outside call from {} to {}: no trunk of route {} took it ({})", call.routing.caller,
              tc.plan.dialled, tc.plan.route.name, tc.failures);
  failCall(call, 503,
           concat("Service Unavailable (no trunk of route ", tc.plan.route.name, " took the call)"),
           db::Disposition::failed);
}

void B2buaState::trunkForkFailed(B2bua::Call& call, int status, std::string_view reason) {
  TrunkCall& tc = *call.trunk;
  if (!tc.outbound || !isFailover(status)) {
    // The provider's answer about the number (busy, not found, declined).
    failCall(call, status, reason, dispositionFor(status));
    return;
  }
  log()->warn("outside call from {} to {}: trunk {} answered {} {}", call.routing.caller,
              tc.plan.dialled, tc.trunk.name, status, reason);
  if (!tc.failures.empty()) tc.failures += "; ";
  tc.failures += concat(tc.trunk.name, ": ", std::to_string(status), " ", reason);
  startTrunkFork(call);
}

// ------------------------------------------------------------------ credentials

void B2buaState::noteTrunkRequest(const B2bua::Call& call, CallSide toward, sip::TransactionId tx,
                                  std::string wire, const sip::Destination& to,
                                  std::optional<std::size_t> fork) {
  if (!call.trunk) return;
  TrunkAuthRetry r;
  r.wire = std::move(wire);
  r.to = to;
  r.call = call.id;
  r.toward = toward;
  r.trunkId = call.trunk->trunk.id;
  r.fork = fork;
  trunkAuth[tx] = std::move(r);
}

bool B2buaState::retryWithCredentials(sip::TransactionId id, const sip::Message& response) {
  auto it = trunkAuth.find(id);
  if (it == trunkAuth.end()) return false;
  const int status = response.statusCode();
  if (status < 200) return false;
  TrunkAuthRetry entry = std::move(it->second);
  trunkAuth.erase(it);
  if ((status != 401 && status != 407) || entry.retried || trunks == nullptr) return false;

  B2bua::Call* call = find(entry.call);
  auto forkIt = byForkTx.find(id);
  const bool isFork = forkIt != byForkTx.end();
  if (isFork && (call == nullptr || call->state != CallState::kRinging ||
                 call->forks[forkIt->second.second].cancelWanted)) {
    return false;  // the caller gave up meanwhile: let the 407 end the fork
  }
  const std::optional<TrunkConfig> trunk = trunks->trunk(entry.trunkId);
  if (!trunk) return false;
  auto request = sip::Message::parse(entry.wire);
  if (!request) return false;
  sip::Message m = std::move(request).value();

  std::vector<std::string> offered;
  for (std::string_view v : response.headerValues(
           status == 401 ? sip::HeaderId::kWwwAuthenticate : sip::HeaderId::kProxyAuthenticate)) {
    offered.emplace_back(v);
  }
  std::string why;
  const std::optional<registrar::DigestChallenge> challenge =
      registrar::strongestDigestChallenge(offered, &why);
  registrar::DigestAuthorization auth;
  if (challenge) {
    auth = digestClient.authorize(*challenge, m.methodToken(), m.requestUriText(),
                                  {digestUser(*trunk), trunk->password, trunk->realm});
    why = auth.reason;
  }
  if (!auth.ok()) {
    log()->warn("trunk {}: cannot answer the {} to {}: {}", trunk->name, status, m.methodToken(),
                why);
    return false;
  }
  // RFC 3261 22.2: the same request again with credentials, a new branch and
  // the next CSeq (8.1.3.5).
  auto via = m.topVia();
  auto cseq = m.cseq();
  if (!via || !cseq) return false;
  const std::string sentBy =
      sip::Endpoint{std::string(via->host), via->port.value_or(settings.sipPort)}.toString();
  const std::string method(cseq->method);
  const std::uint32_t number = cseq->number + 1;
  m.removeFirstHeader(sip::HeaderId::kVia);
  m.prependHeader("Via", concat("SIP/2.0/", via->transport, " ", sentBy,
                                ";rport;branch=", newBranch(svc.endpoint)));
  m.setHeader("CSeq", concat(std::to_string(number), " ", method));
  m.setHeader(status == 401 ? "Authorization" : "Proxy-Authorization", auth.value);
  if (!isFork && call != nullptr) {
    // Keep the dialog's CSeq above the one just used (RFC 3261 12.2.1.1).
    Leg& leg = entry.toward == CallSide::kCaller ? call->caller : call->callee;
    std::optional<sip::Dialog>* dialog = &leg.dialog;
    if (entry.fork && *entry.fork < call->forks.size()) {
      dialog = &call->forks[*entry.fork].dialog;  // an early dialog (PRACK, UPDATE, INFO)
    }
    if (*dialog) {
      while ((*dialog)->localCSeq() < number) {
        (void)(*dialog)->makeRequest(sip::Method::kOptions, "UDP", sentBy, "z9hG4bKskip");
      }
    }
  }
  std::string wire = m.serialize();
  auto tx = svc.endpoint.sendRequest(std::move(m), entry.to, &self);
  if (!tx) return false;
  log()->info("trunk {}: {} re-sent with credentials after {}", trunk->name, method, status);
  if (isFork) {
    const auto [callId, index] = forkIt->second;
    byForkTx.erase(forkIt);
    byForkTx[*tx] = {callId, index};
    Fork& f = call->forks[index];
    f.tx = *tx;
    f.invite = wire;
    f.inviteCSeq = number;
    f.provisional = false;
  } else if (auto r = relays.find(id); r != relays.end()) {
    const Relay relay = r->second;
    relays.erase(r);
    relays[*tx] = relay;
  }
  entry.retried = true;
  entry.wire = std::move(wire);
  trunkAuth[*tx] = std::move(entry);
  return true;
}

// ------------------------------------------------------------------ counting

void B2buaState::countTrunkCall(B2bua::Call& call) {
  TrunkCall& tc = *call.trunk;
  if (tc.counted) return;
  tc.counted = true;
  tc.countedTrunk = tc.trunk.id;
  ++trunkCalls[tc.countedTrunk];
  if (tc.outbound) ++outsideCalls[call.routing.caller];
}

void B2buaState::uncountTrunkCall(B2bua::Call& call) {
  TrunkCall& tc = *call.trunk;
  if (!tc.counted) return;
  tc.counted = false;
  if (auto it = trunkCalls.find(tc.countedTrunk); it != trunkCalls.end() && --it->second <= 0) {
    trunkCalls.erase(it);
  }
  if (tc.outbound) {
    if (auto it = outsideCalls.find(call.routing.caller);
        it != outsideCalls.end() && --it->second <= 0) {
      outsideCalls.erase(it);
    }
  }
}

void B2buaState::annotateTrunkRecord(const B2bua::Call& call, db::CallRecord& record) const {
  const TrunkCall& tc = *call.trunk;
  if (tc.outbound) {
    record.callee = tc.plan.sendNumber;
    record.dialled = tc.plan.dialled;
    if (!tc.failures.empty() && record.hangupCause.find(tc.failures) == std::string::npos) {
      record.hangupCause += concat(" (", tc.failures, ")");
    }
  }
  record.trunk = tc.trunk.name;
  record.sentNumber = tc.outbound ? tc.plan.sendNumber : std::string();
}

}  // namespace duplex::call
