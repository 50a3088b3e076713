// REGISTER -> RegistrationRequest; see register_request.h.
#include "pbx/call/register_request.h"

#include <cstdio>
#include <ctime>

namespace duplex::call {

registrar::Transport toRegistrarTransport(sip::Transport transport) {
  switch (transport) {
    case sip::Transport::kTcp:
      return registrar::Transport::tcp;
    case sip::Transport::kTls:
      return registrar::Transport::tls;
    case sip::Transport::kUdp:
      break;
  }
  return registrar::Transport::udp;
}

sip::Transport toSipTransport(registrar::Transport transport) {
  switch (transport) {
    case registrar::Transport::tcp:
      return sip::Transport::kTcp;
    case registrar::Transport::tls:
      return sip::Transport::kTls;
    case registrar::Transport::udp:
      break;
  }
  return sip::Transport::kUdp;
}

sip::Result<registrar::RegistrationRequest> toRegistrationRequest(const sip::Message& request,
                                                                  std::int64_t extensionId,
                                                                  std::string aor) {
  registrar::RegistrationRequest out;
  out.extensionId = extensionId;
  out.aor = std::move(aor);

  auto contacts = request.contacts();
  if (!contacts) return contacts.error();
  out.star = contacts->star;
  for (const sip::ContactEntry& entry : contacts->entries) {
    registrar::RequestContact c;
    c.uri = std::string(entry.address.uri.text());
    // RFC 5626 4.1: the instance id as the phone wrote it (quotes removed).
    if (auto instance = entry.address.param("+sip.instance")) c.instanceId = std::string(*instance);
    c.expires = entry.expires;
    if (entry.q) c.q = static_cast<double>(*entry.q);
    c.host = std::string(entry.address.uri.host());
    c.port = entry.address.uri.port();
    out.contacts.push_back(std::move(c));
  }

  auto expires = request.expires();
  if (!expires) return expires.error();
  out.expiresHeader = *expires;

  out.callId = std::string(request.callId().value_or(""));
  auto cseq = request.cseq();
  if (!cseq) return cseq.error();
  out.cseq = cseq->number;

  // Trust the packet (DESIGN.md): the socket's facts, not the headers'.
  if (const auto& origin = request.origin()) {
    out.transport = toRegistrarTransport(origin->transport);
    out.local = {origin->local.ip, origin->local.port};
    out.source = {origin->source.ip, origin->source.port};
    if (origin->transport != sip::Transport::kUdp) {
      out.connectionId = static_cast<std::int64_t>(origin->connection_id);
    }
  }
  out.userAgent = std::string(request.header(sip::HeaderId::kUserAgent).value_or(""));
  auto via = request.topVia();
  if (!via) return via.error();
  out.viaHost = std::string(via->host);
  out.viaPort = via->port;
  return out;
}

std::string formatSipDate(registrar::Instant at) {
  // Names spelled out: strftime's %a/%b follow the locale.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t t = static_cast<std::time_t>(registrar::unixSecondsFloor(at));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char out[40];
  std::snprintf(out, sizeof out, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return out;
}

std::string formatContact(const registrar::CurrentBinding& binding) {
  std::string out = "<" + binding.contactUri + ">;expires=" + std::to_string(binding.expires);
  if (binding.q) {
    char q[16];
    std::snprintf(q, sizeof q, "%.3g", *binding.q);
    out += ";q=";
    out += q;
  }
  if (binding.instanceId) out += ";+sip.instance=\"" + *binding.instanceId + "\"";
  return out;
}

}  // namespace duplex::call
