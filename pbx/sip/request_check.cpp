// Stateless request checks; see request_check.h for the order and its RFC
// sources.
#include "pbx/sip/request_check.h"

#include "pbx/sip/scanner.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace duplex::sip {
namespace {

using scan::iequals;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isDigits(std::string_view s, std::size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// RFC 3261 20.17 / 25.1: rfc1123-date "Sat, 13 Nov 2010 23:29:00 GMT";
// only GMT is legal (RFC 4475 3.1.2.12).
bool isValidSipDate(std::string_view v) {
  static constexpr std::array<std::string_view, 7> kDays = {"Mon", "Tue", "Wed", "Thu",
                                                            "Fri", "Sat", "Sun"};
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  v = trim(v);
  // "Www, DD Mmm YYYY HH:MM:SS GMT" is exactly 29 characters.
  if (v.size() != 29) return false;
  if (std::find(kDays.begin(), kDays.end(), v.substr(0, 3)) == kDays.end()) return false;
  if (v.substr(3, 2) != ", " || !isDigits(v.substr(5, 2), 2) || v[7] != ' ') return false;
  if (std::find(kMonths.begin(), kMonths.end(), v.substr(8, 3)) == kMonths.end()) return false;
  if (v[11] != ' ' || !isDigits(v.substr(12, 4), 4) || v[16] != ' ') return false;
  if (!isDigits(v.substr(17, 2), 2) || v[19] != ':' || !isDigits(v.substr(20, 2), 2) ||
      v[22] != ':' || !isDigits(v.substr(23, 2), 2)) {
    return false;
  }
  return v.substr(25) == " GMT";
}

Rejection reject(int status, std::string_view reason) {
  return Rejection{status, reason, {}};
}

// Step 1: every header the PBX reads must be well-formed. The typed views
// carry the precise reason ("Bad Via", "Missing Call-ID"...). The Vias were
// checked by the caller, before the method.
std::optional<Rejection> checkWellFormed(const Message& m) {
  if (auto v = m.from(); !v) return reject(v.error().status, v.error().reason);
  if (auto v = m.to(); !v) return reject(v.error().status, v.error().reason);
  if (auto v = m.cseq(); !v) return reject(v.error().status, v.error().reason);
  if (!m.callId()) return reject(400, "Missing Call-ID");
  if (auto v = m.maxForwards(); !v) return reject(v.error().status, v.error().reason);
  if (m.header(HeaderId::kContact)) {
    if (auto v = m.contacts(); !v) return reject(v.error().status, v.error().reason);
  }
  if (auto v = m.expires(); !v) return reject(v.error().status, v.error().reason);
  if (m.header(HeaderId::kRoute)) {
    if (auto v = m.routes(); !v) return reject(v.error().status, v.error().reason);
  }
  if (m.header(HeaderId::kRecordRoute)) {
    if (auto v = m.recordRoutes(); !v) return reject(v.error().status, v.error().reason);
  }
  if (auto v = m.contentLength(); !v) return reject(v.error().status, v.error().reason);
  if (auto date = m.header(HeaderId::kDate); date && !isValidSipDate(*date)) {
    return reject(400, "Bad Date");
  }
  return std::nullopt;
}

bool isSessionMethod(Method m) {
  return m == Method::kInvite || m == Method::kAck || m == Method::kUpdate || m == Method::kPrack;
}

// The media type of a Content-Type / Accept element without parameters.
std::string_view mediaType(std::string_view v) {
  v = trim(v);
  if (auto semi = v.find(';'); semi != std::string_view::npos) v = trim(v.substr(0, semi));
  return v;
}

bool acceptsSdp(const Message& m) {
  auto accepts = m.headerValues(HeaderId::kAccept);
  // RFC 3261 20.1: an Accept header with no value means nothing is acceptable,
  // but no Accept header at all means application/sdp.
  if (m.headerLineCount(HeaderId::kAccept) == 0) return true;
  return std::any_of(accepts.begin(), accepts.end(), [](std::string_view a) {
    auto t = mediaType(a);
    return iequals(t, "application/sdp") || iequals(t, "application/*") || t == "*/*";
  });
}

}  // namespace

std::string allowHeaderValue(std::span<const Method> methods) {
  std::string out;
  for (Method m : methods) {
    if (!out.empty()) out += ", ";
    out += methodName(m);
  }
  return out;
}

std::optional<Rejection> checkRequest(const Message& req, const RequestPolicy& policy) {
  // RFC 3261 8.2.1: the method is inspected first (and RFC 4475 3.1.2.18
  // prefers 501 over 400 for an unknown method with a mismatched CSeq); only
  // the Via must be readable to answer at all.
  if (auto bad = req.checkVias()) return reject(bad->status, bad->reason);
  if (req.method() == Method::kUnknown) {
    Rejection r = reject(501, "Not Implemented");
    r.headers.emplace_back("Allow", allowHeaderValue(policy.allowed_methods));
    return r;
  }
  // cseq() also refuses a CSeq method that differs from the request's.
  if (auto bad = checkWellFormed(req)) return bad;

  if (!req.requestUri().isSip()) return reject(416, "Unsupported URI Scheme");

  if (req.method() == Method::kRegister && !req.to()->uri.isSip()) {
    return reject(400, "To must be a SIP or SIPS URI");
  }

  if (req.method() != Method::kAck && req.method() != Method::kCancel) {
    std::string unsupported;
    for (std::string_view tag : req.optionTags(HeaderId::kRequire)) {
      bool known = std::any_of(policy.supported.begin(), policy.supported.end(),
                               [&](std::string_view s) { return iequals(s, tag); });
      if (!known) {
        if (!unsupported.empty()) unsupported += ", ";
        unsupported += tag;
      }
    }
    if (!unsupported.empty()) {
      Rejection r = reject(420, "Bad Extension");
      r.headers.emplace_back("Unsupported", std::move(unsupported));
      return r;
    }
  }

  if (isSessionMethod(req.method()) && !req.body().empty()) {
    auto type = mediaType(req.contentType().value_or(""));
    if (!iequals(type, "application/sdp") && !iequals(type, "multipart/mixed")) {
      Rejection r = reject(415, "Unsupported Media Type");
      r.headers.emplace_back("Accept", "application/sdp");
      return r;
    }
  }

  if (req.method() == Method::kInvite && !acceptsSdp(req)) {
    Rejection r = reject(406, "Not Acceptable");
    r.headers.emplace_back("Accept", "application/sdp");
    return r;
  }
  return std::nullopt;
}

}  // namespace duplex::sip
