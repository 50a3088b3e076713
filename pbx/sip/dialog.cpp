// SIP dialog state; see dialog.h.
#include "pbx/sip/dialog.h"

#include <algorithm>

namespace duplex::sip {
namespace {

std::string angle(std::string_view uri) {
  std::string out;
  out.reserve(uri.size() + 2);
  out += '<';
  out += uri;
  out += '>';
  return out;
}

std::string withTag(std::string_view address, std::string_view tag) {
  std::string out(address);
  out += ";tag=";
  out += tag;
  return out;
}

std::string contactUri(const Message& message) {
  auto contacts = message.contacts();
  if (!contacts || contacts->star || contacts->entries.empty()) return {};
  return std::string(contacts->entries[0].address.uri.text());
}

std::vector<std::string> recordRoutes(const Message& message, bool reverse) {
  std::vector<std::string> out;
  auto routes = message.recordRoutes();
  if (!routes) return out;
  for (const NameAddr& r : *routes) out.push_back(angle(r.uri.text()));
  if (reverse) std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

std::string nameAddrWithoutTag(const NameAddr& address) {
  std::string out;
  if (!address.display_name.empty()) {
    out += '"';
    out += address.display_name;
    out += "\" ";
  }
  out += '<';
  out += address.uri.text();
  out += '>';
  for (const GenericParam& p : address.params) {
    if (p.name.size() == 3 && (p.name == "tag" || p.name == "Tag" || p.name == "TAG")) continue;
    out += ';';
    out += p.name;
    if (p.has_value) {
      out += '=';
      if (p.quoted) out += '"';
      out += p.value;
      if (p.quoted) out += '"';
    }
  }
  return out;
}

Result<Dialog> Dialog::fromIncomingInvite(const Message& invite, std::string local_tag,
                                          std::string local_contact) {
  auto from = invite.from();
  auto to = invite.to();
  auto cseq = invite.cseq();
  if (!from || !to || !cseq) return SipError{400, "Bad From, To or CSeq"};
  if (from->tag().empty()) return SipError{400, "Missing From tag"};
  Dialog d;
  d.uac_ = false;
  d.call_id_ = std::string(invite.callId().value_or(""));
  d.local_tag_ = std::move(local_tag);
  d.remote_tag_ = std::string(from->tag());
  d.local_uri_ = nameAddrWithoutTag(*to);
  d.remote_uri_ = nameAddrWithoutTag(*from);
  d.local_contact_ = std::move(local_contact);
  d.remote_target_ = contactUri(invite);
  if (d.remote_target_.empty()) return SipError{400, "Missing Contact"};  // RFC 3261 8.1.1.8
  d.route_set_ = recordRoutes(invite, /*reverse=*/false);                 // RFC 3261 12.1.1
  d.remote_cseq_ = cseq->number;
  d.remote_cseq_set_ = true;
  return d;
}

Result<Dialog> Dialog::fromOutgoingInvite(const Message& invite, std::string local_contact) {
  auto from = invite.from();
  auto to = invite.to();
  auto cseq = invite.cseq();
  if (!from || !to || !cseq) return SipError{400, "Bad From, To or CSeq"};
  Dialog d;
  d.uac_ = true;
  d.call_id_ = std::string(invite.callId().value_or(""));
  d.local_tag_ = std::string(from->tag());
  d.local_uri_ = nameAddrWithoutTag(*from);
  d.remote_uri_ = nameAddrWithoutTag(*to);
  d.local_contact_ = std::move(local_contact);
  d.remote_target_ = std::string(invite.requestUriText());
  d.local_cseq_ = cseq->number;
  return d;
}

std::optional<SipError> Dialog::onResponse(const Message& response) {
  auto to = response.to();
  if (!to) return to.error();
  if (to->tag().empty()) return SipError{400, "Missing To tag"};
  const int status = response.statusCode();
  const bool fix = remote_tag_.empty() || (state_ == State::kEarly && status >= 200);
  if (fix) {
    remote_tag_ = std::string(to->tag());
    // RFC 3261 12.1.2: the route set is the Record-Route list, reversed.
    route_set_ = recordRoutes(response, /*reverse=*/true);
  }
  if (std::string target = contactUri(response); !target.empty()) remote_target_ = target;
  if (status >= 200 && status < 300) state_ = State::kConfirmed;
  return std::nullopt;
}

std::optional<SipError> Dialog::checkRemoteCSeq(const Message& request) {
  if (request.method() == Method::kAck || request.method() == Method::kCancel) return std::nullopt;
  auto cseq = request.cseq();
  if (!cseq) return cseq.error();
  if (remote_cseq_set_ && cseq->number <= remote_cseq_) return SipError{500, "Out of order CSeq"};
  remote_cseq_ = cseq->number;
  remote_cseq_set_ = true;
  return std::nullopt;
}

void Dialog::refreshTarget(const Message& message) {
  if (std::string target = contactUri(message); !target.empty()) remote_target_ = target;
}

Message Dialog::makeRequest(Method method, std::string_view via_transport,
                            std::string_view via_sent_by, std::string_view branch,
                            std::uint32_t ack_cseq) {
  Message m = Message::request(method, remote_target_);
  std::string via = "SIP/2.0/";
  via += via_transport;
  via += ' ';
  via += via_sent_by;
  via += ";rport;branch=";
  via += branch;
  m.addHeader("Via", via);
  m.addHeader("Max-Forwards", "70");
  for (const std::string& route : route_set_) m.addHeader("Route", route);
  m.addHeader("From", withTag(local_uri_, local_tag_));
  m.addHeader("To", remote_tag_.empty() ? remote_uri_ : withTag(remote_uri_, remote_tag_));
  m.addHeader("Call-ID", call_id_);
  std::uint32_t number = 0;
  if (method == Method::kAck) {
    number = ack_cseq;
  } else {
    number = ++local_cseq_;
  }
  std::string cseq = std::to_string(number);
  cseq += ' ';
  cseq += methodName(method);
  m.addHeader("CSeq", cseq);
  if (method != Method::kBye && method != Method::kAck && !local_contact_.empty()) {
    m.addHeader("Contact", angle(local_contact_));
  }
  m.addHeader("Content-Length", "0");
  return m;
}

bool Dialog::matches(const Message& message) const {
  if (message.callId().value_or("") != call_id_) return false;
  auto from = message.from();
  auto to = message.to();
  if (!from || !to) return false;
  // A request from the peer: From carries its tag, To ours. A response to
  // us: From ours, To theirs.
  if (message.isRequest()) return from->tag() == remote_tag_ && to->tag() == local_tag_;
  return from->tag() == local_tag_ && (remote_tag_.empty() || to->tag() == remote_tag_);
}

}  // namespace duplex::sip
