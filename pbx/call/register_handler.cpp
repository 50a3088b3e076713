// The REGISTER adapter; see register_handler.h.
#include "pbx/call/register_handler.h"

#include "pbx/call/digest_headers.h"
#include "pbx/call/register_request.h"

namespace duplex::call {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::optional<registrar::StoredHa1> storedHa1(const std::optional<ExtensionCredentials>& ext) {
  // A disabled extension answers like an unknown one: same work, same 403.
  if (!ext || !ext->enabled) return std::nullopt;
  return registrar::StoredHa1{ext->ha1Md5, ext->ha1Sha256, ext->realm};
}

}  // namespace

RegisterHandler::RegisterHandler(registrar::Registrar& registrar,
                                 registrar::DigestAuthenticator& authenticator,
                                 const CredentialSource& credentials, WallClock now)
    : registrar_(registrar),
      authenticator_(authenticator),
      credentials_(credentials),
      now_(std::move(now)),
      lastSweep_(now_()) {}

void RegisterHandler::answer(sip::SipEndpoint& endpoint, sip::TransactionId id, int status,
                             std::string_view reason, const Headers& headers) {
  if (status == 200) {
    ++stats_.accepted;
  } else if (status == 401) {
    ++stats_.challenges;
  } else {
    ++stats_.rejected;
  }
  if (status == 401) {
    // RFC 3261 26.3.2.4: challenges are sent statelessly, so that a flood of
    // unauthenticated REGISTERs costs no memory; a retransmission is simply
    // challenged again with a fresh nonce.
    endpoint.respondStateless(id, status, reason, headers);
  } else {
    endpoint.respond(id, status, reason, headers);
  }
}

void RegisterHandler::challenge(sip::SipEndpoint& endpoint, sip::TransactionId id,
                                registrar::Instant now, bool stale) {
  // RFC 8760 2.4: one header per offered algorithm, preferred first; one nonce.
  Headers headers;
  for (const registrar::ChallengeParams& c :
       authenticator_.challenge(registrar::unixSecondsFloor(now), stale)) {
    headers.emplace_back("WWW-Authenticate", formatChallenge(c));
  }
  answer(endpoint, id, 401, "Unauthorized", headers);
}

void RegisterHandler::onRequest(sip::SipEndpoint& endpoint, sip::TransactionId id,
                                const sip::Message& request) {
  const registrar::Instant now = now_();
  // RFC 3261 10.3 step 2 (RFC 3261 22.4): authenticate first, so nothing
  // about the To user is told to a peer that cannot prove who it is.
  const std::vector<sip::Credentials> lines = request.authorizations();
  const auto credentials = selectCredentials(lines, authenticator_.realm());
  if (!credentials) {
    challenge(endpoint, id, now, /*stale=*/false);
    return;
  }
  // RFC 7616 3.4.6: the digest covers the Request-URI, not some other URI.
  if (!credentials->uri.empty() && !digestUriMatches(credentials->uri, request.requestUriText())) {
    answer(endpoint, id, 400, "Digest uri does not match Request-URI");
    return;
  }
  const std::optional<ExtensionCredentials> extension = credentials_.find(credentials->username);
  const std::string_view userAgent = request.header(sip::HeaderId::kUserAgent).value_or("");
  const std::string_view sourceIp =
      request.origin() ? std::string_view(request.origin()->source.ip) : std::string_view{};
  const registrar::AuthResult result =
      authenticator_.verify(*credentials, request.methodToken(), storedHa1(extension),
                            {sourceIp, userAgent}, registrar::unixSecondsFloor(now));
  switch (result.outcome) {
    case registrar::AuthOutcome::kOk:
      break;
    case registrar::AuthOutcome::kStale:  // RFC 7616 3.3: retry without the user
      challenge(endpoint, id, now, /*stale=*/true);
      return;
    case registrar::AuthOutcome::kBadNonce:
    case registrar::AuthOutcome::kReplay:
      challenge(endpoint, id, now, /*stale=*/false);
      return;
    case registrar::AuthOutcome::kForbidden:
      answer(endpoint, id, 403, "Forbidden");
      return;
    case registrar::AuthOutcome::kMalformed:
      answer(endpoint, id, 400, result.reason);
      return;
  }

  // RFC 3261 10.3 steps 3-4: the To URI is the AOR, and the authenticated
  // user may only register its own.
  auto to = request.to();
  if (!to) {
    answer(endpoint, id, to.error().status, to.error().reason);
    return;
  }
  if (!to->uri.isSip() || !to->uri.hasUser()) {
    answer(endpoint, id, 404, "Not Found");
    return;
  }
  if (to->uri.userUnescaped() != extension->number) {
    answer(endpoint, id, 403, "Forbidden");
    return;
  }
  std::string aor = std::string(to->uri.schemeText()) + ":" + extension->number + "@" +
                    std::string(to->uri.host());
  auto registration = toRegistrationRequest(request, extension->extensionId, std::move(aor));
  if (!registration) {
    answer(endpoint, id, registration.error().status, registration.error().reason);
    return;
  }
  registration->maxContacts = static_cast<std::size_t>(std::max(extension->maxContacts, 0));

  // RFC 3261 10.3 steps 6-8.
  const registrar::RegistrationDecision decision = registrar_.registerBindings(*registration, now);
  Headers headers;
  if (decision.status == 200) {
    for (const registrar::CurrentBinding& binding : decision.bindings) {
      headers.emplace_back("Contact", formatContact(binding));
    }
    // RFC 3261 10.3 step 8: Date, which phones without NTP set their clock by.
    // Formatted once per second: gmtime_r and snprintf cost more than the
    // rest of the 200 OK's headers.
    if (const std::int64_t second = registrar::unixSecondsFloor(now); second != dateSecond_) {
      dateText_ = formatSipDate(now);
      dateSecond_ = second;
    }
    headers.emplace_back("Date", dateText_);
  } else if (decision.status == 423) {  // RFC 3261 21.4.17
    headers.emplace_back("Min-Expires", std::to_string(decision.minExpires));
  }
  answer(endpoint, id, decision.status, decision.reason, headers);
}

// --- keep-alives ---

void RegisterHandler::onTimer(sip::SipEndpoint& endpoint, registrar::Instant now) {
  if (now - lastSweep_ >= kExpirySweep) {
    registrar_.expire(now);
    lastSweep_ = now;
  }
  for (const registrar::KeepAlive& keepAlive : registrar_.due(now)) {
    sendKeepAlive(endpoint, keepAlive);
  }
}

registrar::Instant RegisterHandler::nextDeadline(registrar::Instant /*now*/) const {
  registrar::Instant next = lastSweep_ + kExpirySweep;
  if (auto keepAlive = registrar_.nextKeepAliveAt(); keepAlive && *keepAlive < next) {
    next = *keepAlive;
  }
  return next;
}

void RegisterHandler::sendKeepAlive(sip::SipEndpoint& endpoint,
                                    const registrar::KeepAlive& keepAlive) {
  const registrar::SendTo& s = keepAlive.sendTo;
  // From the socket the REGISTER arrived on: the NAT forwards only the flow
  // the phone opened.
  sip::Destination to{toSipTransport(s.transport),
                      {s.destination.ip, s.destination.port},
                      s.connectionId ? static_cast<std::uint64_t>(*s.connectionId) : 0,
                      {s.local.ip, s.local.port}};
  ++stats_.keepAlivesSent;
  if (keepAlive.kind == registrar::KeepAliveKind::crlf) {
    // RFC 5626 4.4.1: a double-CRLF ping; over UDP no answer is expected.
    endpoint.sendBytes("\r\n\r\n", to);
    return;
  }
  // RFC 3261 11: an OPTIONS to the registered Contact; any answer will do.
  sip::Message options = sip::Message::request(sip::Method::kOptions, keepAlive.requestUri);
  const std::string local = sip::Endpoint{s.local.ip, s.local.port}.toString();
  options.addHeader(
      "Via", "SIP/2.0/" + std::string(sip::transportName(to.transport)) + " " + local + ";rport");
  options.addHeader("Max-Forwards", "70");
  options.addHeader("From", "<sip:keepalive@" + std::string(authenticator_.realm()) +
                                ">;tag=" + endpoint.newTag());
  options.addHeader("To", "<" + keepAlive.requestUri + ">");
  options.addHeader("Call-ID", endpoint.newTag() + "-" + std::to_string(++keepAliveSeq_) + "@" +
                                   std::string(authenticator_.realm()));
  options.addHeader("CSeq", "1 OPTIONS");
  options.addHeader("Content-Length", "0");
  auto started = endpoint.transactions().sendRequest(std::move(options), to);
  if (!started) {
    ++stats_.keepAlivesFailed;
    registrar_.keepAliveFailed(keepAlive.id);
    return;
  }
  pending_[*started] = keepAlive.id;
}

void RegisterHandler::onResponse(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id,
                                 const sip::Message& response) {
  if (response.statusCode() < 200) return;
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ++stats_.keepAlivesAnswered;
  registrar_.keepAliveAnswered(it->second);
  pending_.erase(it);
}

void RegisterHandler::keepAliveFailed(sip::TransactionId id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  ++stats_.keepAlivesFailed;
  registrar_.keepAliveFailed(it->second);
  pending_.erase(it);
}

void RegisterHandler::onClientTimeout(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id) {
  keepAliveFailed(id);
}

void RegisterHandler::onTransportError(sip::SipEndpoint& /*endpoint*/, sip::TransactionId id) {
  keepAliveFailed(id);
}

}  // namespace duplex::call
