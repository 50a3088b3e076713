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

// Octets or'ed with 0x20 fold the case of letters without a branch (other
// octets may collide: the key comparison is exact).
constexpr std::size_t nameHash(std::string_view n) {
  const std::size_t first = static_cast<unsigned char>(n[0]) | 0x20u;
  const std::size_t second = static_cast<unsigned char>(n[n.size() > 1 ? 1 : 0]) | 0x20u;
  const std::size_t last = static_cast<unsigned char>(n[n.size() - 1]) | 0x20u;
  return (n.size() * 14 + first * 11 + second * 3 + last) % kSlots;  // 53 probes for 52 names
}

// A name as three 64-bit words built from possibly overlapping loads that
// never read outside it (8-octet words at 0, 8 and n-8; two 4-octet halves
// for 4-7 octets; three single octets below 4), lower-cased, with the mask
// of its letter positions: an input matches when (word | mask) == lowered in
// all three words and the lengths agree. Only letters are folded, so this is
// an exact case-insensitive comparison.
using Words = std::array<std::uint64_t, 3>;

template <class Octet>
constexpr std::uint64_t gather(Octet at, std::size_t from, std::size_t count) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < count; ++i) v |= at(from + i) << (8 * i);
  return v;
}

template <class Load8, class Load4, class Octet>
constexpr Words foldWords(std::size_t n, Load8 load8, Load4 load4, Octet at) {
  if (n >= 16) return {load8(0), load8(8), load8(n - 8)};
  if (n >= 8) return {load8(0), load8(n - 8), 0};
  if (n >= 4) return {load4(0) | (load4(n - 4) << 32), 0, 0};
  return {at(0) | (at(n / 2) << 8) | (at(n - 1) << 16), 0, 0};
}

constexpr Words constWords(std::string_view s) {
  auto at = [s](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(s[i])}; };
  return foldWords(
      s.size(), [&](std::size_t i) { return gather(at, i, 8); },
      [&](std::size_t i) { return gather(at, i, 4); }, at);
}

inline Words inputWords(std::string_view s) {
  if constexpr (std::endian::native != std::endian::little) return constWords(s);
  const char* p = s.data();
  return foldWords(
      s.size(),
      [p](std::size_t i) {
        std::uint64_t v;
        std::memcpy(&v, p + i, 8);
        return v;
      },
      [p](std::size_t i) {
        std::uint32_t v;
        std::memcpy(&v, p + i, 4);
        return std::uint64_t{v};
      },
      [p](std::size_t i) { return std::uint64_t{static_cast<unsigned char>(p[i])}; });
}

struct NameKey {
  Words lowered{};
  Words mask{};
  std::uint8_t size = 0;
};

constexpr NameKey makeKey(std::string_view name) {
  std::array<char, 24> lowered{};
  std::array<char, 24> mask{};
  for (std::size_t i = 0; i < name.size(); ++i) {
    lowered[i] = scan::lower(name[i]);
    mask[i] = scan::isAlpha(name[i]) ? char{0x20} : char{0};
  }
  NameKey k;
  k.size = static_cast<std::uint8_t>(name.size());
  k.lowered = constWords(std::string_view(lowered.data(), name.size()));
  k.mask = constWords(std::string_view(mask.data(), name.size()));
  return k;
}

inline bool keyMatches(const NameKey& k, std::string_view name) {
  if (k.size != name.size()) return false;
  const Words w = inputWords(name);
  return ((w[0] | k.mask[0]) ^ k.lowered[0]) == 0 && ((w[1] | k.mask[1]) ^ k.lowered[1]) == 0 &&
         ((w[2] | k.mask[2]) ^ k.lowered[2]) == 0;
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
  if (token.size() < 3 || token.size() > 9) return Method::kUnknown;
  Method m = Method::kUnknown;
  switch (token[0]) {  // one candidate per first letter (two for 'P', 'R' and 'I')
    case 'A':
      m = Method::kAck;
      break;
    case 'B':
      m = Method::kBye;
      break;
    case 'C':
      m = Method::kCancel;
      break;
    case 'I':
      m = token.size() == 6 ? Method::kInvite : Method::kInfo;
      break;
    case 'M':
      m = Method::kMessage;
      break;
    case 'N':
      m = Method::kNotify;
      break;
    case 'O':
      m = Method::kOptions;
      break;
    case 'P':
      m = token.size() == 5 ? Method::kPrack : Method::kPublish;
      break;
    case 'R':
      m = token.size() == 8 ? Method::kRegister : Method::kRefer;
      break;
    case 'S':
      m = Method::kSubscribe;
      break;
    case 'U':
      m = Method::kUpdate;
      break;
    default:
      return Method::kUnknown;
  }
  return kMethodNames[static_cast<std::size_t>(m)] == token ? m : Method::kUnknown;
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
