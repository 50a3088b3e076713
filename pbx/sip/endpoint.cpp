// The SIP endpoint; see endpoint.h.
#include "pbx/sip/endpoint.h"

#include <algorithm>
#include <cstdio>

#include "pbx/sip/request_check.h"

namespace duplex::sip {
namespace {

using ExtraHeaders = std::vector<std::pair<std::string, std::string>>;

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

std::string_view trimWs(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

Destination replyTo(const Origin& origin) {
  return Destination{origin.transport, origin.source, origin.connection_id, origin.local};
}

bool hasToTag(const Message& m) {
  auto to = m.to();
  return to && !to->tag().empty();
}

// Headers of a request that a stateless error response copies (RFC 3261
// 8.2.6.2), recognised in their long and compact forms.
bool isCopiedHeader(std::string_view name) {
  HeaderId id = headerIdFromName(trimWs(name));
  return id == HeaderId::kVia || id == HeaderId::kFrom || id == HeaderId::kTo ||
         id == HeaderId::kCallId || id == HeaderId::kCSeq;
}

}  // namespace

std::optional<std::string> salvageErrorResponse(std::string_view raw, const SipError& error,
                                                std::string_view server) {
  std::string out = "SIP/2.0 " + std::to_string(error.status) + " ";
  out += error.reason;
  out += "\r\n";
  bool have_via = false;
  bool copying = false;
  bool first_line = true;
  while (!raw.empty()) {
    std::size_t eol = raw.find('\n');
    std::string_view line = raw.substr(0, eol);
    raw = eol == std::string_view::npos ? std::string_view{} : raw.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first_line) {  // the request line
      first_line = false;
      continue;
    }
    if (line.empty()) break;                            // end of headers
    if (line.front() == ' ' || line.front() == '\t') {  // folded continuation
      if (copying) {
        out += line;
        out += "\r\n";
      }
      continue;
    }
    std::size_t colon = line.find(':');
    copying = colon != std::string_view::npos && isCopiedHeader(line.substr(0, colon));
    if (!copying) continue;
    // Never echo control characters a response must not carry.
    if (std::any_of(line.begin(), line.end(), [](char c) { return c == '\0' || c == '\r'; })) {
      copying = false;
      continue;
    }
    if (headerIdFromName(trimWs(line.substr(0, colon))) == HeaderId::kVia) have_via = true;
    out += line;
    out += "\r\n";
  }
  if (!have_via) return std::nullopt;
  if (!server.empty()) {
    out += "Server: ";
    out += server;
    out += "\r\n";
  }
  out += "Content-Length: 0\r\n\r\n";
  return out;
}

SipEndpoint::SipEndpoint(const Clock& clock, EndpointOptions options)
    : options_(std::move(options)),
      layer_(clock, *this, *this, options_.timers),
      tag_random_(std::random_device{}()),
      tag_key_(tag_random_()) {
  for (const std::string& s : options_.supported) supported_views_.emplace_back(s);
  updateAllowed();
}

SipEndpoint::~SipEndpoint() = default;

void SipEndpoint::addTransport(SipTransport& transport) {
  transports_[static_cast<std::size_t>(transport.protocol())] = &transport;
}

void SipEndpoint::setHandler(Method method, RequestHandler* handler) {
  handlers_[static_cast<std::size_t>(method)] = handler;
  updateAllowed();
}

RequestHandler* SipEndpoint::handlerFor(Method method) const {
  if (method == Method::kAck || method == Method::kCancel) method = Method::kInvite;
  return handlers_[static_cast<std::size_t>(method)];
}

void SipEndpoint::updateAllowed() {
  std::vector<Method>& out = allowed_;
  out.clear();
  for (std::size_t i = 0; i < handlers_.size(); ++i) {
    if (handlers_[i] != nullptr) out.push_back(static_cast<Method>(i));
  }
  if (handlers_[static_cast<std::size_t>(Method::kInvite)] != nullptr) {
    out.push_back(Method::kAck);
  }
  out.push_back(Method::kCancel);
  out.push_back(Method::kOptions);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
}

std::string SipEndpoint::statelessTag(const Message& request) const {
  // RFC 3261 8.2.7: a stateless UAS gives a retransmitted request the same
  // To tag. A keyed hash of what identifies the request (Call-ID, From tag,
  // top Via branch, CSeq) gives that without keeping state.
  std::uint64_t h = tag_key_;
  auto mix = [&h](std::string_view part) {
    for (unsigned char c : part) h = (h ^ c) * 0x100000001b3ULL;  // FNV-1a step
    h = (h ^ 0xff) * 0x100000001b3ULL;
  };
  mix(request.callId().value_or(""));
  if (auto from = request.from()) mix(from->tag());
  if (auto via = request.topVia()) mix(via->branch);
  mix(request.header(HeaderId::kCSeq).value_or(""));
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return std::string(buf, 16);
}

std::string SipEndpoint::newTag() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t r = tag_random_();
  std::string tag(16, '0');
  for (int i = 15; i >= 0; --i, r >>= 4) tag[static_cast<std::size_t>(i)] = kHex[r & 0xf];
  return tag;
}

// --- input ---

void SipEndpoint::onMessage(std::string bytes, const Origin& origin) {
  if (!startsWith(bytes, "SIP/")) {
    onRequestBytes(std::move(bytes), origin);
    return;
  }
  // A response: malformed ones are dropped and counted (RFC 4475 3.1.2.5,
  // 3.1.2.19), well-formed ones go to their client transaction.
  ++stats_.responses_received;
  auto parsed = Message::parse(std::move(bytes));
  if (!parsed || !parsed->cseq() || !parsed->topVia()) {
    ++stats_.malformed_responses;
    return;
  }
  parsed->setOrigin(origin);
  if (!layer_.onMessage(std::move(parsed).value())) ++stats_.malformed_responses;
}

void SipEndpoint::onRequestBytes(std::string bytes, const Origin& origin) {
  ++stats_.requests_received;
  auto parsed = Message::parse(bytes);
  if (!parsed) {
    ++stats_.malformed_requests;
    auto response = salvageErrorResponse(bytes, parsed.error(), options_.server);
    if (response) {
      sendRaw(*response, origin);
    } else {
      ++stats_.unanswerable;
    }
    return;
  }
  Message request = std::move(parsed).value();
  request.setOrigin(origin);
  // RFC 3581 for everyone on UDP: the top Via is stamped as if it asked for
  // `rport` (what Kamailio's force_rport() and Asterisk's force_rport=yes
  // do), so every response goes back to the packet's source. Done once here;
  // the server transaction then finds it stamped.
  stampReceived(request, origin.transport == Transport::kUdp);

  const RequestPolicy policy{allowed_, supported_views_};
  if (auto rejection = checkRequest(request, policy)) {
    // RFC 4475 3.2.1: rejected statelessly, no transaction state kept. An ACK
    // is never answered (RFC 3261 17.1.1.3).
    ++stats_.stateless_rejections;
    if (request.method() != Method::kAck) {
      sendStatelessResponse(request, rejection->status, rejection->reason, rejection->headers);
    }
    return;
  }
  // RFC 3261 8.2.7: OPTIONS for the PBX itself is answered statelessly, as
  // a stateless UAS: no transaction state for the most common probe (phones
  // and trunks send it as a keep-alive); a retransmission is simply answered
  // again, identically (the To tag is derived from the request).
  if (request.method() == Method::kOptions && handlerFor(Method::kOptions) == nullptr) {
    answerOptions(request);
    return;
  }
  auto inbound = layer_.onMessage(std::move(request));
  if (!inbound) ++stats_.unanswerable;
}

void SipEndpoint::onRejected(const RejectedMessage& rejected) {
  // Oversized (513) or a stream framing error (400): answer from the head
  // when it is a request, then the transport closes the connection.
  if (startsWith(rejected.head, "SIP/")) {
    ++stats_.malformed_responses;
    return;
  }
  ++stats_.malformed_requests;
  auto response = salvageErrorResponse(rejected.head, rejected.error, options_.server);
  if (response) sendRaw(*response, rejected.origin);
}

void SipEndpoint::onConnectionClosed(const ConnectionClosed& closed) {
  layer_.onConnectionFailed(closed.connection_id);
}

// --- output ---

bool SipEndpoint::send(const Message& /*message*/, std::string_view wire, const Destination& to) {
  SipTransport* transport = transports_[static_cast<std::size_t>(to.transport)];
  if (transport == nullptr) return false;
  if (send_observer_) send_observer_(wire, to);
  return transport->send(wire, to).accepted;
}

bool SipEndpoint::sendBytes(std::string_view bytes, const Destination& to) {
  SipTransport* transport = transports_[static_cast<std::size_t>(to.transport)];
  if (transport == nullptr) return false;
  if (send_observer_) send_observer_(bytes, to);
  return transport->send(bytes, to).accepted;
}

void SipEndpoint::sendRaw(std::string_view wire, const Origin& origin) {
  const Destination to = replyTo(origin);
  SipTransport* transport = transports_[static_cast<std::size_t>(to.transport)];
  if (transport == nullptr) return;
  if (send_observer_) send_observer_(wire, to);
  transport->send(wire, to);
}

void SipEndpoint::sendStatelessResponse(const Message& request, int status, std::string_view reason,
                                        const ExtraHeaders& headers) {
  Message response =
      Message::responseTo(request, status, reason, hasToTag(request) ? "" : statelessTag(request));
  for (const auto& [name, value] : headers) response.addHeader(name, value);
  if (!options_.server.empty()) response.addHeader("Server", options_.server);
  response.setHeader("Content-Length", "0");
  layer_.sendStateless(response, replyTo(*request.origin()));
}

std::optional<Message> SipEndpoint::buildResponse(TransactionId id, int status,
                                                  std::string_view reason,
                                                  const ExtraHeaders& extra_headers) {
  const Message* request = layer_.request(id);
  if (request == nullptr) return std::nullopt;
  Message response =
      Message::responseTo(*request, status, reason, hasToTag(*request) ? "" : newTag());
  for (const auto& [name, value] : extra_headers) response.addHeader(name, value);
  if (!options_.server.empty()) response.addHeader("Server", options_.server);
  response.setHeader("Content-Length", "0");
  return response;
}

bool SipEndpoint::respond(TransactionId id, int status, std::string_view reason,
                          const ExtraHeaders& extra_headers) {
  std::optional<Message> response = buildResponse(id, status, reason, extra_headers);
  return response && layer_.sendResponse(id, std::move(*response));
}

bool SipEndpoint::respondStateless(TransactionId id, int status, std::string_view reason,
                                   const ExtraHeaders& extra_headers) {
  std::optional<Message> response = buildResponse(id, status, reason, extra_headers);
  return response && layer_.sendFinalResponseStateless(id, std::move(*response));
}

// --- the transaction user ---

void SipEndpoint::onRequest(TransactionId id, const Message& request) {
  if (request.method() == Method::kCancel) {
    answerCancel(id, request);
    return;
  }
  if (RequestHandler* handler = handlerFor(request.method())) {
    handler->onRequest(*this, id, request);
    return;
  }
  ++stats_.method_not_allowed;
  respond(id, 405, "Method Not Allowed", {{"Allow", allowHeaderValue(allowedMethods())}});
}

void SipEndpoint::answerOptions(const Message& request) {
  // RFC 3261 16.3 / RFC 4475 3.3.11: a request for a user would be routed on
  // to that user's phones, so with no hops left it ends here. OPTIONS for
  // the PBX itself (no user part) is answered whatever Max-Forwards says.
  auto max_forwards = request.maxForwards();
  if (request.requestUri().hasUser() && max_forwards && max_forwards->has_value() &&
      **max_forwards == 0) {
    sendStatelessResponse(request, 483, "Too Many Hops", {});
    return;
  }
  ++stats_.options_answered;
  std::string supported;
  for (const std::string& tag : options_.supported) {
    if (!supported.empty()) supported += ", ";
    supported += tag;
  }
  // RFC 3261 11.2: Allow, Accept, Accept-Encoding, Accept-Language, Supported.
  sendStatelessResponse(request, 200, "OK",
                        {{"Allow", allowHeaderValue(allowedMethods())},
                         {"Accept", "application/sdp"},
                         {"Accept-Encoding", "identity"},
                         {"Accept-Language", "en"},
                         {"Supported", supported}});
}

void SipEndpoint::answerCancel(TransactionId id, const Message& cancel) {
  // RFC 3261 9.2: 481 when no INVITE matches; otherwise 200 for the CANCEL,
  // and the INVITE's handler ends the INVITE with 487 if still unanswered.
  auto invite = layer_.findInviteServerTransactionForCancel(cancel);
  if (!invite) {
    respond(id, 481, "Call/Transaction Does Not Exist");
    return;
  }
  respond(id, 200, "OK");
  if (RequestHandler* handler = handlerFor(Method::kInvite)) handler->onCancel(*this, *invite);
}

void SipEndpoint::onAck(TransactionId id, const Message& ack) {
  if (RequestHandler* handler = handlerFor(Method::kInvite)) handler->onAck(*this, id, ack);
}

Result<TransactionId> SipEndpoint::sendRequest(Message request, const Destination& to,
                                               ClientHandler* owner) {
  auto id = layer_.sendRequest(std::move(request), to);
  if (id && owner != nullptr) client_owners_[*id] = owner;
  return id;
}

void SipEndpoint::forgetClientOwner(ClientHandler* owner) {
  std::erase_if(client_owners_, [owner](const auto& entry) { return entry.second == owner; });
}

ClientHandler* SipEndpoint::clientHandlerFor(TransactionId id) const {
  auto it = client_owners_.find(id);
  return it != client_owners_.end() ? it->second : client_handler_;
}

void SipEndpoint::onAckTimeout(TransactionId /*id*/) {}
void SipEndpoint::onResponse(TransactionId id, const Message& response) {
  if (ClientHandler* handler = clientHandlerFor(id)) handler->onResponse(*this, id, response);
}
void SipEndpoint::onClientTimeout(TransactionId id, const Message& /*timeout*/) {
  if (ClientHandler* handler = clientHandlerFor(id)) handler->onClientTimeout(*this, id);
}
void SipEndpoint::onStrayResponse(const Message& /*response*/) {
  ++stats_.stray_responses;
}
void SipEndpoint::onTransportError(TransactionId id) {
  if (ClientHandler* handler = clientHandlerFor(id)) handler->onTransportError(*this, id);
}

void SipEndpoint::onTerminated(TransactionId id) {
  client_owners_.erase(id);
  // A handler may serve several methods: tell each one once.
  for (std::size_t i = 0; i < handlers_.size(); ++i) {
    RequestHandler* handler = handlers_[i];
    if (handler == nullptr) continue;
    if (std::find(handlers_.begin(), handlers_.begin() + static_cast<std::ptrdiff_t>(i), handler) !=
        handlers_.begin() + static_cast<std::ptrdiff_t>(i)) {
      continue;
    }
    handler->onTerminated(*this, id);
  }
}

}  // namespace duplex::sip
