// Via handling and the messages the transaction layer builds itself:
// response routing (RFC 3261 18.2.2, RFC 3581), received/rport stamping,
// the ACK for a non-2xx (RFC 3261 17.1.1.3) and CANCEL (RFC 3261 9.1).
#include <charconv>
#include <string>

#include "pbx/sip/scanner.h"
#include "pbx/sip/transaction_internal.h"

namespace duplex::sip {
namespace {

constexpr std::uint16_t kDefaultSipPort = 5060;  // RFC 3261 18.2.2 for unreliable transports

using scan::iequals;

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

void appendNumber(std::string& out, std::uint32_t n) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  (void)ec;  // cannot fail for a 32-bit number in 16 bytes
  out.append(buf, end);
}

void appendParam(std::string& out, const GenericParam& p) {
  out += ';';
  out += p.name;
  if (!p.has_value) return;
  out += '=';
  if (p.quoted) out += '"';
  out += p.value;  // escapes were kept, so re-quoting is exact
  if (p.quoted) out += '"';
}

// Copies every Route line of `from` to `to`, in order (RFC 3261 9.1, 17.1.1.3).
void copyRoutes(const Message& from, Message& to) {
  for (const Header& h : from.headers()) {
    if (h.id == HeaderId::kRoute) to.addHeader("Route", h.value);
  }
}

}  // namespace

std::string_view topViaText(const Message& m, std::string_view* rest) {
  if (rest != nullptr) *rest = {};
  std::optional<std::string_view> line = m.header(HeaderId::kVia);
  if (!line) return {};
  // Vias hold no angle brackets; commas inside quoted parameter values do
  // not separate values (RFC 3261 7.3.1).
  bool quoted = false;
  for (std::size_t i = 0; i < line->size(); ++i) {
    const char c = (*line)[i];
    if (quoted && c == '\\') {
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      if (rest != nullptr) *rest = trim(line->substr(i + 1));
      return trim(line->substr(0, i));
    }
  }
  return trim(*line);
}

void replaceTopVia(Message& m, std::string_view top) {
  std::string_view rest_view;
  topViaText(m, &rest_view);
  // Copy first: both views may point into the line removed below.
  const std::string rest(rest_view);
  const std::string new_top(top);
  if (m.headerLineCount(HeaderId::kVia) > 0) m.removeFirstHeader(HeaderId::kVia);
  if (!rest.empty()) m.prependHeader("Via", rest);
  m.prependHeader("Via", new_top);
}

Destination responseDestination(const Via& top, const Origin& origin) {
  Destination d;
  d.transport = origin.transport;
  d.local = origin.local;
  // RFC 3261 18.2.2: over a reliable transport, the connection the request
  // came on (the adapter may open a new one to received/sent-by if it died).
  if (origin.transport != Transport::kUdp) {
    d.endpoint = origin.source;
    d.connection_id = origin.connection_id;
    return d;
  }
  const std::uint16_t sent_by_port = top.port.value_or(kDefaultSipPort);
  // RFC 3581 4: with rport the port is the packet's source port (as stamped
  // in the rport value; a bare ";rport" means the same). The PBX gives every
  // UDP request an rport (SipEndpoint: "trust the packet"), and then answers
  // the packet's source even when a maddr is present: RFC 3261 18.2.2 would
  // send to the maddr, but that lets any sender aim our responses at a third
  // party, and phones behind NAT are reachable only at their source.
  const std::uint16_t rport = top.rport.value_or(origin.source.port);
  if (top.has_rport) {
    d.endpoint = {top.received ? std::string(*top.received) : origin.source.ip, rport};
    return d;
  }
  if (top.maddr) {
    d.endpoint = {std::string(*top.maddr), sent_by_port};
    return d;
  }
  if (top.received) {
    d.endpoint = {std::string(*top.received), sent_by_port};
    return d;
  }
  d.endpoint = {std::string(top.host), sent_by_port};
  return d;
}

bool stampReceived(Message& request, bool force_rport) {
  if (!request.origin()) return false;
  const Result<Via> via = request.topVia();
  if (!via) return false;
  const Endpoint& source = request.origin()->source;

  // RFC 3261 18.2.1: received when sent-by differs from the source address;
  // RFC 3581 4: with rport always received, and rport=<source port>. A
  // value the client put in rport itself is overwritten: trust the packet.
  const bool has_rport = via->has_rport || force_rport;
  const bool need_received = has_rport || !iequals(via->host, source.ip);
  if (!need_received) return true;
  if (via->received && iequals(*via->received, source.ip) &&
      (!has_rport || via->rport == source.port)) {
    return true;  // already stamped
  }

  const std::string_view text = topViaText(request);
  std::string out(trim(text.substr(0, text.find(';'))));
  out.reserve(text.size() + 48);
  bool wrote_received = false;
  auto appendReceived = [&] {
    out += ";received=";
    out += source.ip;
    wrote_received = true;
  };
  for (const GenericParam& p : via->params) {
    if (iequals(p.name, "received")) continue;  // replaced by ours
    if (iequals(p.name, "rport")) {
      out += ";rport=";
      appendNumber(out, source.port);
      appendReceived();
      continue;
    }
    appendParam(out, p);
  }
  if (!via->has_rport && force_rport) {  // as if the client had asked
    out += ";rport=";
    appendNumber(out, source.port);
  }
  if (!wrote_received) appendReceived();
  replaceTopVia(request, out);
  return true;
}

Message buildAckForNon2xx(const Message& invite, const Message& response) {
  // RFC 3261 17.1.1.3: Request-URI, Call-ID, From and the top Via (so the
  // branch) of the INVITE; To of the response (its tag); the INVITE's
  // Route set; CSeq number of the INVITE with method ACK.
  Message ack = Message::request(Method::kAck, invite.requestUriText());
  ack.addHeader("Via", topViaText(invite));
  ack.setHeader("Max-Forwards", "70");
  copyRoutes(invite, ack);
  ack.addHeader("From", invite.header(HeaderId::kFrom).value_or(""));
  ack.addHeader("To", response.header(HeaderId::kTo).value_or(""));
  ack.addHeader("Call-ID", invite.callId().value_or(""));
  std::string cseq;
  const Result<CSeq> invite_cseq = invite.cseq();
  appendNumber(cseq, invite_cseq ? invite_cseq->number : 0);
  cseq += " ACK";
  ack.addHeader("CSeq", cseq);
  ack.setHeader("Content-Length", "0");
  return ack;
}

Result<Message> buildCancel(const Message& invite) {
  if (!invite.isRequest() || invite.method() != Method::kInvite) {
    return SipError{400, "CANCEL is built for an INVITE"};
  }
  const std::string_view via = topViaText(invite);
  if (via.empty()) return SipError{400, "Missing Via"};
  const Result<CSeq> cseq = invite.cseq();
  if (!cseq) return cseq.error();
  const auto from = invite.header(HeaderId::kFrom);
  const auto to = invite.header(HeaderId::kTo);
  const auto call_id = invite.callId();
  if (!from) return SipError{400, "Missing From"};
  if (!to) return SipError{400, "Missing To"};
  if (!call_id) return SipError{400, "Missing Call-ID"};

  // RFC 3261 9.1: identical Request-URI, Call-ID, To, From, CSeq number and
  // Route; a single Via equal to the INVITE's top Via (same branch).
  Message cancel = Message::request(Method::kCancel, invite.requestUriText());
  cancel.addHeader("Via", via);
  cancel.setHeader("Max-Forwards", "70");
  copyRoutes(invite, cancel);
  cancel.addHeader("From", *from);
  cancel.addHeader("To", *to);
  cancel.addHeader("Call-ID", *call_id);
  std::string cseq_text;
  appendNumber(cseq_text, cseq->number);
  cseq_text += " CANCEL";
  cancel.addHeader("CSeq", cseq_text);
  cancel.setHeader("Content-Length", "0");
  return cancel;
}

void ensureContentLength(Message& m) {
  if (!m.header(HeaderId::kContentLength)) m.addHeader("Content-Length", "0");
}

}  // namespace duplex::sip
