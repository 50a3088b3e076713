// SIP URI parsing (RFC 3261 19.1, 25.1) and the shared host grammar.
#include "pbx/sip/uri.h"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "pbx/sip/parse_host.h"
#include "pbx/sip/scanner.h"

namespace duplex::sip {

namespace detail {

// IPv4address = 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT "." 1*3DIGIT, each <= 255.
bool isIpv4(std::string_view s) {
  int parts = 0;
  int digits = 0;
  unsigned value = 0;
  for (char c : s) {
    if (scan::isDigit(c)) {
      value = value * 10 + static_cast<unsigned>(c - '0');
      if (++digits > 3 || value > 255) return false;
    } else if (c == '.' && digits > 0 && parts < 3) {
      ++parts;
      digits = 0;
      value = 0;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

bool isIpv6(std::string_view s) {
  if (s.size() < 2 || s.size() > 46) return false;
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s[0] == ':') {
    if (s[1] != ':') return false;
    compressed = true;
    i = 2;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && scan::isHex(s[j])) ++j;
    if (j < s.size() && s[j] == '.') {  // trailing IPv4 part: two groups
      if (!isIpv4(s.substr(i))) return false;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == s.size()) break;
    if (s[i] != ':') return false;
    ++i;
    if (i == s.size()) return false;  // trailing single colon
    if (s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
      if (i < s.size() && s[i] == ':') ++i;  // RFC 5118 4.10: tolerate ":::"
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

namespace {

enum HostClass : std::uint8_t {
  kHAlpha = 1,
  kHDigit = 2,
  kHDot = 4,
  kHDash = 8,
  kHColon = 16,
  kHOther = 32
};

constexpr std::array<std::uint8_t, 256> makeHostClasses() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    t[static_cast<std::size_t>(c)] = scan::isAlpha(ch)   ? kHAlpha
                                     : scan::isDigit(ch) ? kHDigit
                                     : ch == '.'         ? kHDot
                                     : ch == '-'         ? kHDash
                                     : ch == ':'         ? kHColon
                                                         : kHOther;
  }
  return t;
}

constexpr std::array<std::uint8_t, 256> kHostClasses = makeHostClasses();

}  // namespace

HostType classifyHost(std::string_view host) {
  if (host.empty()) return HostType::kNone;
  // One pass over the octet classes: hostname = *( domainlabel "." )
  // toplabel [ "." ] with no empty label and no label starting or ending with
  // '-'; text of digits and dots only must be an IPv4address; a ':' means an
  // IPv6 reference (then '.' and '-' only occur where isIpv6 judges them).
  std::uint8_t seen = 0;
  std::uint8_t prev = kHDot;  // the start behaves like a label start
  for (char c : host) {
    const std::uint8_t cls = kHostClasses[static_cast<unsigned char>(c)];
    seen |= cls;
    if ((cls & (kHDot | kHDash)) != 0) {
      // '.' after '.'/'-' (empty label, label ending in '-'); '-' after '.'
      // (label starting with '-').
      if ((prev & kHDot) != 0 || (cls == kHDot && prev == kHDash)) {
        if ((seen & kHColon) == 0) return HostType::kNone;
      }
    }
    prev = cls;
  }
  if ((seen & kHColon) != 0) return isIpv6(host) ? HostType::kIpv6 : HostType::kNone;
  if ((seen & kHOther) != 0) return HostType::kNone;
  if ((seen & (kHAlpha | kHDash)) == 0) return isIpv4(host) ? HostType::kIpv4 : HostType::kNone;
  if (prev == kHDash) return HostType::kNone;
  return HostType::kName;
}

std::optional<HostPort> parseHostPort(std::string_view text) {
  HostPort hp;
  std::string_view after;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hp.host = text.substr(1, close - 1);
    if (!isIpv6(hp.host)) return std::nullopt;
    hp.type = HostType::kIpv6;
    after = text.substr(close + 1);
  } else {
    const std::size_t colon = text.find(':');
    hp.host = text.substr(0, colon);
    hp.type = classifyHost(hp.host);
    // An unbracketed IPv6 address is not a host (RFC 5118 4.2).
    if (hp.type == HostType::kNone || hp.type == HostType::kIpv6) return std::nullopt;
    after = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (!after.empty()) {
    if (after.front() != ':') return std::nullopt;
    const auto port = scan::parseUnsigned(after.substr(1), 65535);
    if (!port) return std::nullopt;
    hp.port = static_cast<std::uint16_t>(*port);
  }
  return hp;
}

bool escapesValid(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return false;
      if (!scan::isHex(s[i + 1]) || !scan::isHex(s[i + 2])) return false;
      i += 2;
    }
  }
  return true;
}

}  // namespace detail

namespace {

constexpr SipError kBadScheme{400, "Bad URI scheme"};
constexpr SipError kBadUri{400, "Bad URI"};
constexpr SipError kBadUser{400, "Bad URI user part"};
constexpr SipError kBadHost{400, "Bad URI host"};
constexpr SipError kBadParam{400, "Bad URI parameter"};
constexpr SipError kBadHeader{400, "Bad URI header"};

// Character sets of the URI parts (RFC 3261 25.1): unreserved plus the
// part's own extras, and '%' for escapes (checked separately).
enum UriSet : std::uint8_t { kUser = 1, kPassword = 2, kParamSet = 4, kHeaderSet = 8 };

constexpr std::array<std::uint8_t, 256> makeUriSets() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    if (scan::is(ch, scan::kUnreserved) || ch == '%') {
      t[static_cast<std::size_t>(c)] = kUser | kPassword | kParamSet | kHeaderSet;
    }
  }
  for (char ch : std::string_view("&=+$,;?/")) t[static_cast<unsigned char>(ch)] |= kUser;
  for (char ch : std::string_view("&=+$,")) t[static_cast<unsigned char>(ch)] |= kPassword;
  for (char ch : std::string_view("[]/:&+$")) t[static_cast<unsigned char>(ch)] |= kParamSet;
  for (char ch : std::string_view("[]/?:+$")) t[static_cast<unsigned char>(ch)] |= kHeaderSet;
  return t;
}

constexpr std::array<std::uint8_t, 256> kUriSets = makeUriSets();

bool allAllowed(std::string_view s, UriSet set) {
  bool percent = false;
  for (char c : s) {
    if ((kUriSets[static_cast<unsigned char>(c)] & set) == 0) return false;
    percent |= c == '%';
  }
  return !percent || detail::escapesValid(s);
}

// Splits "name[=value]" items separated by `sep` into `out`.
template <class Params>
bool splitParams(std::string_view text, char sep, UriSet extra, Params& out) {
  while (true) {
    const std::size_t end = text.find(sep);
    const std::string_view item = text.substr(0, end);
    const std::size_t eq = item.find('=');
    UriParam p;
    p.name = item.substr(0, eq);
    if (p.name.empty() || !allAllowed(p.name, extra)) return false;
    if (eq != std::string_view::npos) {
      p.value = item.substr(eq + 1);
      p.has_value = true;
      if (!allAllowed(p.value, extra)) return false;
    }
    out.push_back(p);
    if (end == std::string_view::npos) return true;
    text.remove_prefix(end + 1);
  }
}

// Octet classes of the one-pass scanner for the common URI shape. Each is a
// subset of the general parser's set for the same part, without '%' (escapes
// take the general path) and without the delimiters '@', '?', ';', '='.
enum FastClass : std::uint8_t {
  kFUser = 1,   // unreserved: user (kUser)
  kFHost = 2,   // alphanum / "-" / "."
  kFParam = 4,  // unreserved / "[]/:&+$" (kParamSet)
  kFDigit = 8,
  kFAlpha = 16,
  kFDot = 32,
  kFDash = 64,
};

constexpr std::array<std::uint8_t, 256> makeFastClasses() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    std::uint8_t v = 0;
    if (scan::is(ch, scan::kUnreserved)) v |= kFUser | kFParam;
    if (scan::is(ch, scan::kHostChar)) v |= kFHost;
    if (std::string_view("[]/:&+$").find(ch) != std::string_view::npos) v |= kFParam;
    if (scan::isDigit(ch)) v |= kFDigit;
    if (scan::isAlpha(ch)) v |= kFAlpha;
    if (ch == '.') v |= kFDot;
    if (ch == '-') v |= kFDash;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

constexpr std::array<std::uint8_t, 256> kFastClasses = makeFastClasses();

inline const char* skipFast(const char* p, const char* end, std::uint8_t cls) {
  while (p != end && (kFastClasses[static_cast<unsigned char>(*p)] & cls) != 0) ++p;
  return p;
}

}  // namespace

namespace detail {

#if defined(__SSE2__)
namespace {

// [p, p + k) for k <= 16 in a vector, zeros after k; reads nothing outside.
inline __m128i loadUpTo16(const char* p, std::size_t k) {
  if (k >= 16) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  if (k >= 8) {
    std::memcpy(&lo, p, 8);
    if (k > 8) {
      std::memcpy(&hi, p + k - 8, 8);  // overlapping load: keep its top k - 8 octets
      hi >>= 8 * (16 - k);
    }
  } else if (k >= 4) {
    std::uint32_t a = 0;
    std::uint32_t b = 0;
    std::memcpy(&a, p, 4);
    std::memcpy(&b, p + k - 4, 4);
    lo = a | ((std::uint64_t{b} >> (8 * (8 - k))) << 32);
  } else {
    for (std::size_t i = 0; i < k; ++i) {
      lo |= std::uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
    }
  }
  return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
}

}  // namespace
#endif

// The rules of classifyHost for text of alphanum / "-" / ".": no empty
// label ('.' after '.'), no label starting with '-' ('-' after '.' or at the
// start), no label ending in '-' ('.' after '-', or '-' last); digits and
// dots only must be an IPv4address.
const char* scanHost(const char* p, const char* end, HostType& type) {
  const char* const start = p;
  bool bad = false;
  bool name_octets = false;  // a letter or '-' seen
  bool last_dash = false;
#if defined(__SSE2__)
  // 16 octets a step: class masks, then the label rules on bit masks.
  std::uint32_t prev_dot = 1;  // the start behaves like a label start
  std::uint32_t prev_dash = 0;
  while (p != end) {
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(end - p), 16);
    const __m128i v = loadUpTo16(p, k);
    const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i alpha = _mm_and_si128(_mm_cmpgt_epi8(lower, _mm_set1_epi8('a' - 1)),
                                        _mm_cmplt_epi8(lower, _mm_set1_epi8('z' + 1)));
    const __m128i digit = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('0' - 1)),
                                        _mm_cmplt_epi8(v, _mm_set1_epi8('9' + 1)));
    const __m128i dot = _mm_cmpeq_epi8(v, _mm_set1_epi8('.'));
    const __m128i dash = _mm_cmpeq_epi8(v, _mm_set1_epi8('-'));
    const auto host = static_cast<std::uint32_t>(
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), _mm_or_si128(dot, dash))));
    // Padding octets are 0, never host octets: n <= k.
    const auto n = static_cast<unsigned>(__builtin_ctz(~host | 0x10000u));
    const std::uint32_t run = (1u << n) - 1;
    const std::uint32_t dots = static_cast<std::uint32_t>(_mm_movemask_epi8(dot)) & run;
    const std::uint32_t dashes = static_cast<std::uint32_t>(_mm_movemask_epi8(dash)) & run;
    const std::uint32_t letters = static_cast<std::uint32_t>(_mm_movemask_epi8(alpha)) & run;
    name_octets |= (letters | dashes) != 0;
    const std::uint32_t after_dot = (dots << 1) | prev_dot;
    const std::uint32_t after_dash = (dashes << 1) | prev_dash;
    bad |= ((dots | dashes) & after_dot) != 0 || (dots & after_dash) != 0;
    if (n != 0) {
      prev_dot = (dots >> (n - 1)) & 1u;
      prev_dash = (dashes >> (n - 1)) & 1u;
    }
    p += n;
    if (n < 16) break;
  }
  last_dash = prev_dash != 0;
#else
  std::uint8_t prev = kFDot;  // the start behaves like a label start
  for (; p != end; ++p) {
    const std::uint8_t cls = kFastClasses[static_cast<unsigned char>(*p)];
    if ((cls & kFHost) == 0) break;
    if ((cls & (kFDot | kFDash)) != 0) {
      bad |= (prev & kFDot) != 0 || ((cls & kFDot) != 0 && (prev & kFDash) != 0);
    }
    name_octets |= (cls & (kFAlpha | kFDash)) != 0;
    prev = cls;
  }
  last_dash = (prev & kFDash) != 0;
#endif
  const std::string_view host(start, static_cast<std::size_t>(p - start));
  if (host.empty() || bad) {
    type = HostType::kNone;
  } else if (!name_octets) {
    type = isIpv4(host) ? HostType::kIpv4 : HostType::kNone;
  } else {
    type = last_dash ? HostType::kNone : HostType::kName;
  }
  return p;
}

}  // namespace detail

bool Uri::parseSimple(std::string_view text, Uri& u) {
  const char* p = text.data();
  const char* const end = p + text.size();
  std::size_t scheme_len = 0;
  if (text.size() > 4 && std::memcmp(p, "sip:", 4) == 0) {
    scheme_len = 3;
    u.scheme_ = UriScheme::kSip;
  } else if (text.size() > 5 && std::memcmp(p, "sips:", 5) == 0) {
    scheme_len = 4;
    u.scheme_ = UriScheme::kSips;
  } else {
    return false;
  }
  u.text_ = text;
  u.scheme_text_ = text.substr(0, scheme_len);
  p += scheme_len + 1;
  // [ user "@" ]: the first octet outside kFUser decides; any later '@' is
  // outside every class below, so it sends the URI to the general parser.
  const char* const user_end = skipFast(p, end, kFUser);
  if (user_end != end && *user_end == '@') {
    if (user_end == p) return false;
    u.user_ = std::string_view(p, static_cast<std::size_t>(user_end - p));
    u.has_user_ = true;
    p = user_end + 1;
  }
  const char* const host_end = detail::scanHost(p, end, u.host_type_);
  if (u.host_type_ == HostType::kNone) return false;
  u.host_ = std::string_view(p, static_cast<std::size_t>(host_end - p));
  p = host_end;
  if (p != end && *p == ':') {
    const char* const digits = ++p;
    std::uint32_t port = 0;
    while (p != end && (kFastClasses[static_cast<unsigned char>(*p)] & kFDigit) != 0) {
      port = port * 10 + static_cast<std::uint32_t>(*p - '0');
      if (port > 65535) return false;
      ++p;
    }
    if (p == digits) return false;
    u.port_ = static_cast<std::uint16_t>(port);
  }
  while (p != end) {
    if (*p != ';') return false;
    UriParam param;
    const char* const name = ++p;
    p = skipFast(p, end, kFParam);
    if (p == name) return false;
    param.name = std::string_view(name, static_cast<std::size_t>(p - name));
    if (p != end && *p == '=') {
      const char* const value = ++p;
      p = skipFast(p, end, kFParam);
      param.value = std::string_view(value, static_cast<std::size_t>(p - value));
      param.has_value = true;
    }
    u.params_.push_back(param);
  }
  return true;
}

Result<Uri> Uri::parse(std::string_view text) {
  {
    Uri u;
    if (parseSimple(text, u)) return u;
  }
  Uri u;
  u.text_ = text;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
  const std::size_t colon = text.find(':');
  if (colon == 0 || colon == std::string_view::npos || !scan::isAlpha(text[0])) return kBadScheme;
  u.scheme_text_ = text.substr(0, colon);
  for (char c : u.scheme_text_) {
    if (!scan::isAlpha(c) && !scan::isDigit(c) && c != '+' && c != '-' && c != '.') {
      return kBadScheme;
    }
  }
  std::string_view rest = text.substr(colon + 1);
  if (scan::iequals(u.scheme_text_, "sip")) {
    u.scheme_ = UriScheme::kSip;
  } else if (scan::iequals(u.scheme_text_, "sips")) {
    u.scheme_ = UriScheme::kSips;
  } else {
    u.scheme_ = scan::iequals(u.scheme_text_, "tel") ? UriScheme::kTel : UriScheme::kOther;
    // absoluteURI (RFC 3261 25.1): kept opaque; only reject what can never be
    // part of a URI in a SIP message (white space, controls, delimiters).
    if (rest.empty()) return kBadUri;
    for (char c : rest) {
      const auto uc = static_cast<unsigned char>(c);
      if (uc <= 0x20 || uc == 0x7f || c == '<' || c == '>' || c == '"') return kBadUri;
    }
    u.opaque_ = rest;
    return u;
  }

  // userinfo: '@' can appear nowhere else unescaped in a SIP URI.
  const std::size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    const std::size_t pw = userinfo.find(':');
    u.user_ = userinfo.substr(0, pw);
    u.has_user_ = true;
    if (u.user_.empty() || !allAllowed(u.user_, kUser)) return kBadUser;
    if (pw != std::string_view::npos) {
      u.password_ = userinfo.substr(pw + 1);
      if (!allAllowed(u.password_, kPassword)) return kBadUser;
    }
    rest.remove_prefix(at + 1);
  }

  const std::size_t qmark = rest.find('?');
  std::string_view headers;
  if (qmark != std::string_view::npos) {
    headers = rest.substr(qmark + 1);
    rest = rest.substr(0, qmark);
  }
  const std::size_t semi = rest.find(';');
  const auto hp = detail::parseHostPort(rest.substr(0, semi));
  if (!hp) return kBadHost;
  u.host_ = hp->host;
  u.host_type_ = hp->type;
  u.port_ = hp->port;
  if (semi != std::string_view::npos &&
      !splitParams(rest.substr(semi + 1), ';', kParamSet, u.params_)) {
    return kBadParam;
  }
  if (qmark != std::string_view::npos && !splitParams(headers, '&', kHeaderSet, u.headers_)) {
    return kBadHeader;
  }
  return u;
}

std::optional<SipError> Uri::parseInto(std::string_view text, Uri& out) {
  if (parseSimple(text, out)) return std::nullopt;
  auto u = parse(text);
  if (!u) return u.error();
  out = std::move(*u);
  return std::nullopt;
}

std::optional<std::string_view> Uri::param(std::string_view name) const {
  for (const auto& p : params_) {
    if (scan::iequals(p.name, name)) return p.value;
  }
  return std::nullopt;
}

bool Uri::hasParam(std::string_view name) const {
  return param(name).has_value();
}

std::string Uri::userUnescaped() const {
  return unescape(user_);
}

std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && scan::isHex(text[i + 1]) &&
        scan::isHex(text[i + 2])) {
      out.push_back(
          static_cast<char>(scan::hexValue(text[i + 1]) * 16 + scan::hexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string escape(std::string_view text, std::string_view extra_allowed) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (scan::is(c, scan::kUnreserved) || extra_allowed.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else {
      const auto uc = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHexDigits[uc >> 4]);
      out.push_back(kHexDigits[uc & 0xf]);
    }
  }
  return out;
}

}  // namespace duplex::sip
