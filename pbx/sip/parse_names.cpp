// Method, header-name and transport tables (RFC 3261 7.1, 7.3.3, 20, 27.4).
#include <array>

#include "pbx/sip/message.h"
#include "pbx/sip/scanner.h"

namespace duplex::sip {

namespace {

struct NameEntry {
  std::string_view name;
  HeaderId id;
};

// Canonical names first (indexed by HeaderId), then compact forms.
constexpr std::array<std::string_view, static_cast<std::size_t>(HeaderId::kCount_)> kCanonical = {
    "",
    "Accept",
    "Accept-Encoding",
    "Accept-Language",
    "Allow",
    "Authorization",
    "Call-ID",
    "Contact",
    "Content-Disposition",
    "Content-Encoding",
    "Content-Length",
    "Content-Type",
    "CSeq",
    "Date",
    "Event",
    "Expires",
    "From",
    "Max-Forwards",
    "Min-Expires",
    "Proxy-Authenticate",
    "Proxy-Authorization",
    "Proxy-Require",
    "Record-Route",
    "Refer-To",
    "Require",
    "Route",
    "Server",
    "Subject",
    "Supported",
    "To",
    "Unsupported",
    "User-Agent",
    "Via",
    "Warning",
    "WWW-Authenticate",
    "RSeq",
    "RAck",
    "Session-Expires",
    "Min-SE",
    "Path",
};

// Compact forms: RFC 3261 7.3.3 and 20; o = Event (RFC 6665 8.2.1),
// r = Refer-To (RFC 3515 2.1), x = Session-Expires (RFC 4028 4).
constexpr std::array<NameEntry, 13> kCompact = {{
    {"i", HeaderId::kCallId},
    {"m", HeaderId::kContact},
    {"e", HeaderId::kContentEncoding},
    {"l", HeaderId::kContentLength},
    {"c", HeaderId::kContentType},
    {"f", HeaderId::kFrom},
    {"s", HeaderId::kSubject},
    {"k", HeaderId::kSupported},
    {"t", HeaderId::kTo},
    {"v", HeaderId::kVia},
    {"o", HeaderId::kEvent},
    {"r", HeaderId::kReferTo},
    {"x", HeaderId::kSessionExpires},
}};

constexpr std::size_t kMaxNameLen = 20;

// Buckets by length: the lookup compares only names of the same length,
// and iequals stops at the first differing octet.
struct NameIndex {
  std::array<std::array<HeaderId, 8>, kMaxNameLen + 1> ids{};
  std::array<std::uint8_t, kMaxNameLen + 1> counts{};
};

constexpr NameIndex makeIndex() {
  NameIndex idx{};
  for (std::size_t i = 1; i < kCanonical.size(); ++i) {
    const std::size_t len = kCanonical[i].size();
    idx.ids[len][idx.counts[len]++] = static_cast<HeaderId>(i);
  }
  return idx;
}

constexpr NameIndex kIndex = makeIndex();

constexpr std::array<std::string_view, 15> kMethodNames = {
    "",       "INVITE", "ACK",     "BYE",       "CANCEL", "OPTIONS", "REGISTER", "PRACK",
    "UPDATE", "INFO",   "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER",   "PUBLISH",
};

}  // namespace

HeaderId headerIdFromName(std::string_view name) {
  if (name.size() == 1) {
    const char c = scan::lower(name[0]);
    for (const auto& e : kCompact) {
      if (e.name[0] == c) return e.id;
    }
    return HeaderId::kOther;
  }
  if (name.size() > kMaxNameLen) return HeaderId::kOther;
  const auto& bucket = kIndex.ids[name.size()];
  for (std::size_t i = 0; i < kIndex.counts[name.size()]; ++i) {
    if (scan::iequals(name, kCanonical[static_cast<std::size_t>(bucket[i])])) return bucket[i];
  }
  return HeaderId::kOther;
}

std::string_view canonicalHeaderName(HeaderId id) {
  const auto i = static_cast<std::size_t>(id);
  return i < kCanonical.size() ? kCanonical[i] : std::string_view{};
}

bool isListHeader(HeaderId id) {
  switch (id) {
    case HeaderId::kAccept:
    case HeaderId::kAcceptEncoding:
    case HeaderId::kAcceptLanguage:
    case HeaderId::kAllow:
    case HeaderId::kContact:
    case HeaderId::kContentEncoding:
    case HeaderId::kProxyRequire:
    case HeaderId::kRecordRoute:
    case HeaderId::kRequire:
    case HeaderId::kRoute:
    case HeaderId::kSupported:
    case HeaderId::kUnsupported:
    case HeaderId::kVia:
    case HeaderId::kWarning:
    case HeaderId::kPath:
      return true;
    default:
      return false;
  }
}

// Methods are case-sensitive tokens (RFC 3261 7.1): "invite" is unknown.
Method methodFromName(std::string_view token) {
  for (std::size_t i = 1; i < kMethodNames.size(); ++i) {
    if (kMethodNames[i] == token) return static_cast<Method>(i);
  }
  return Method::kUnknown;
}

std::string_view methodName(Method m) {
  const auto i = static_cast<std::size_t>(m);
  return i < kMethodNames.size() ? kMethodNames[i] : std::string_view{};
}

std::string_view transportName(Transport t) {
  switch (t) {
    case Transport::kUdp:
      return "UDP";
    case Transport::kTcp:
      return "TCP";
    case Transport::kTls:
      return "TLS";
  }
  return "";
}

std::string Endpoint::toString() const {
  std::string out;
  const bool v6 = ip.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out += ip;
  if (v6) out.push_back(']');
  out.push_back(':');
  out += std::to_string(port);
  return out;
}

}  // namespace duplex::sip
