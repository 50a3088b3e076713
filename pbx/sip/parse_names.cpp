// Method, header-name and transport tables (RFC 3261 7.1, 7.3.3, 20, 27.4).
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

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

// Open-addressing hash of the canonical names and compact forms, keyed by
// length and the case-folded first, second and last octets: a lookup usually
// costs one probe and one case-insensitive comparison.
constexpr std::size_t kSlots = 128;

constexpr std::size_t nameHash(std::string_view n) {
  const std::size_t first = static_cast<unsigned char>(scan::lower(n[0]));
  const std::size_t second = static_cast<unsigned char>(scan::lower(n[n.size() > 1 ? 1 : 0]));
  const std::size_t last = static_cast<unsigned char>(scan::lower(n[n.size() - 1]));
  return (n.size() * 14 + first * 11 + second * 3 + last) % kSlots;  // 53 probes for 52 names
}

// A name as three 8-octet words, lower-cased, with the mask of its letter
// positions: an input word matches when (word | mask) == lowered, which is an
// exact case-insensitive comparison (only letters are folded).
struct NameKey {
  std::array<std::uint64_t, 3> lowered{};
  std::array<std::uint64_t, 3> mask{};
  std::uint8_t size = 0;
};

constexpr NameKey makeKey(std::string_view name) {
  NameKey k;
  k.size = static_cast<std::uint8_t>(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    const auto shift = 8 * (i % 8);
    k.lowered[i / 8] |= std::uint64_t{static_cast<unsigned char>(scan::lower(name[i]))} << shift;
    if (scan::isAlpha(name[i])) k.mask[i / 8] |= std::uint64_t{0x20} << shift;
  }
  return k;
}

// Loads up to 8 octets in the byte order makeKey uses (LSB first).
inline std::uint64_t loadWord(const char* p, std::size_t n) {
  std::uint64_t v = 0;
  if (n == 8 && std::endian::native == std::endian::little) {
    std::memcpy(&v, p, 8);
    return v;
  }
  for (std::size_t i = 0; i < n; ++i)
    v |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

inline bool keyMatches(const NameKey& k, std::string_view name) {
  if (k.size != name.size()) return false;
  for (std::size_t w = 0; w * 8 < name.size(); ++w) {
    const std::size_t n = std::min<std::size_t>(8, name.size() - w * 8);
    if ((loadWord(name.data() + w * 8, n) | k.mask[w]) != k.lowered[w]) return false;
  }
  return true;
}

struct NameTable {
  std::array<std::string_view, kSlots> names{};
  std::array<NameKey, kSlots> keys{};
  std::array<HeaderId, kSlots> ids{};
};

constexpr void insertName(NameTable& t, std::string_view name, HeaderId id) {
  std::size_t slot = nameHash(name);
  while (!t.names[slot].empty()) slot = (slot + 1) % kSlots;
  t.names[slot] = name;
  t.keys[slot] = makeKey(name);
  t.ids[slot] = id;
}

constexpr NameTable makeTable() {
  NameTable t{};
  for (std::size_t i = 1; i < kCanonical.size(); ++i) {
    insertName(t, kCanonical[i], static_cast<HeaderId>(i));
  }
  for (const auto& e : kCompact) insertName(t, e.name, e.id);
  return t;
}

constexpr NameTable kNames = makeTable();

constexpr std::array<std::string_view, 15> kMethodNames = {
    "",       "INVITE", "ACK",     "BYE",       "CANCEL", "OPTIONS", "REGISTER", "PRACK",
    "UPDATE", "INFO",   "MESSAGE", "SUBSCRIBE", "NOTIFY", "REFER",   "PUBLISH",
};

}  // namespace

HeaderId headerIdFromName(std::string_view name) {
  if (name.empty() || name.size() > 24) return HeaderId::kOther;
  for (std::size_t slot = nameHash(name); !kNames.names[slot].empty(); slot = (slot + 1) % kSlots) {
    if (keyMatches(kNames.keys[slot], name)) return kNames.ids[slot];
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
