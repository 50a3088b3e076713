// Typed header views: Via, name-addr, CSeq, credentials and challenges
// (RFC 3261 20, 25.1; RFC 3581 rport; RFC 5118 IPv6 references).
#include "pbx/sip/headers.h"

#include "pbx/sip/parse_host.h"
#include "pbx/sip/parse_params.h"
#include "pbx/sip/scanner.h"

namespace duplex::sip {

namespace {

constexpr SipError kBadVia{400, "Bad Via header"};
constexpr SipError kBadNameAddr{400, "Bad name-addr"};
constexpr SipError kBadCSeq{400, "Bad CSeq"};
constexpr SipError kBadAuth{400, "Bad authentication header"};

std::size_t skipWs(std::string_view s, std::size_t i) {
  while (i < s.size() && scan::isWs(s[i])) ++i;
  return i;
}

std::size_t skipToken(std::string_view s, std::size_t i) {
  while (i < s.size() && scan::isToken(s[i])) ++i;
  return i;
}

// sent-by = host [ COLON port ], COLON = SWS ":" SWS (RFC 3261 25.1).
bool parseSentBy(std::string_view text, Via& via) {
  text = scan::trim(text);
  std::size_t i = 0;
  if (!text.empty() && text[0] == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    via.host = text.substr(1, close - 1);
    if (!detail::isIpv6(via.host)) return false;
    via.host_type = HostType::kIpv6;
    i = close + 1;
  } else {
    // Usually the whole host is alphanum / "-" / "." and one scan classifies it.
    const char* const stop =
        detail::scanHost(text.data(), text.data() + text.size(), via.host_type);
    i = static_cast<std::size_t>(stop - text.data());
    if (i == text.size() || text[i] == ':' || scan::isWs(text[i])) {
      via.host = text.substr(0, i);
      if (via.host_type == HostType::kNone) return false;
    } else {
      while (i < text.size() && text[i] != ':' && !scan::isWs(text[i])) ++i;
      via.host = text.substr(0, i);
      via.host_type = detail::classifyHost(via.host);
      if (via.host_type == HostType::kNone || via.host_type == HostType::kIpv6) return false;
    }
  }
  i = skipWs(text, i);
  if (i == text.size()) return true;
  if (text[i] != ':') return false;
  const auto port = scan::parseUnsigned(scan::trim(text.substr(i + 1)), 65535);
  if (!port) return false;
  via.port = static_cast<std::uint16_t>(*port);
  return true;
}

// received = IPv4address / IPv6address (RFC 3261 20.42); the bracketed form
// is tolerated and stripped (RFC 5118 4.5).
bool parseReceived(std::string_view v, Via& via) {
  if (v.size() >= 2 && v.front() == '[' && v.back() == ']') {
    v = v.substr(1, v.size() - 2);
    if (!detail::isIpv6(v)) return false;
  } else if (!detail::isIpv4(v) && !detail::isIpv6(v)) {
    return false;
  }
  via.received = v;
  return true;
}

bool applyViaParams(Via& via) {
  for (const auto& p : via.params) {
    // Names of other lengths are extensions: one size test skips them.
    const std::size_t n = p.name.size();
    if (n != 6 && n != 8 && n != 5 && n != 3) continue;
    if (scan::iequals(p.name, "branch")) {
      if (!p.has_value || p.quoted || !scan::isTokenText(p.value)) return false;
      via.branch = p.value;
    } else if (scan::iequals(p.name, "received")) {
      if (!p.has_value || !parseReceived(p.value, via)) return false;
    } else if (scan::iequals(p.name, "rport")) {  // RFC 3581 3
      via.has_rport = true;
      if (p.has_value) {
        const auto port = scan::parseUnsigned(p.value, 65535);
        if (!port) return false;
        via.rport = static_cast<std::uint16_t>(*port);
      }
    } else if (scan::iequals(p.name, "ttl")) {
      const auto ttl = scan::parseUnsigned(p.value, 255);
      if (!ttl) return false;
      via.ttl = static_cast<std::uint8_t>(*ttl);
    } else if (scan::iequals(p.name, "maddr")) {
      if (!p.has_value || detail::classifyHost(p.value) == HostType::kNone) return false;
      via.maddr = p.value;
    }
  }
  return true;
}

}  // namespace

const GenericParam* findParam(std::span<const GenericParam> params, std::string_view name) {
  for (const auto& p : params) {
    if (scan::iequals(p.name, name)) return &p;
  }
  return nullptr;
}

// via-parm = sent-protocol LWS sent-by *( SEMI via-params ), with
// sent-protocol = protocol-name SLASH protocol-version SLASH transport and
// SLASH = SWS "/" SWS (RFC 3261 20.42, 25.1).
Result<Via> Via::parse(std::string_view value) {
  Result<Via> r(std::in_place);
  if (auto err = parseInto(value, *r)) r = *err;
  return r;
}

std::optional<SipError> Via::parseInto(std::string_view value, Via& via) {
  const std::string_view v = scan::trim(value);
  std::size_t i = 0;
  std::string_view parts[3];
  for (int k = 0; k < 3; ++k) {
    if (k > 0) {
      i = skipWs(v, i);
      if (i == v.size() || v[i] != '/') return kBadVia;
      i = skipWs(v, i + 1);
    }
    const std::size_t start = i;
    i = skipToken(v, i);
    if (i == start) return kBadVia;
    parts[k] = v.substr(start, i - start);
  }
  if (scan::iequals(parts[0], "SIP") && parts[1] == "2.0") {
    via.protocol = "SIP/2.0";
  } else {
    via.protocol =
        v.substr(0, static_cast<std::size_t>(parts[1].data() + parts[1].size() - v.data()));
  }
  via.transport = parts[2];
  if (i == v.size() || !scan::isWs(v[i])) return kBadVia;  // LWS before sent-by
  const std::size_t semi = v.find(';', i);
  if (!parseSentBy(v.substr(i, semi == std::string_view::npos ? v.npos : semi - i), via)) {
    return kBadVia;
  }
  if (semi != std::string_view::npos) {
    if (!detail::parseParams(v.substr(semi), detail::ParamStyle::kGeneric, via.params)) {
      return kBadVia;
    }
    if (!applyViaParams(via)) return kBadVia;
  }
  return std::nullopt;
}

// RFC 3261 8.1.1.7: the branch starts with the magic cookie "z9hG4bK"; a
// branch that is only the cookie identifies nothing (RFC 4475 3.2.1).
bool Via::hasRfc3261Branch() const {
  return branch.size() > 7 && branch.starts_with("z9hG4bK");
}

std::optional<std::string_view> NameAddr::param(std::string_view name) const {
  const GenericParam* p = findParam(params, name);
  if (p == nullptr) return std::nullopt;
  return p->value;
}

std::string_view NameAddr::tag() const {
  return param("tag").value_or(std::string_view{});
}

// (name-addr / addr-spec) *( SEMI generic-param ) (RFC 3261 20.10, 20.20, 25.1).
Result<NameAddr> NameAddr::parse(std::string_view value) {
  Result<NameAddr> r(std::in_place);
  if (auto err = parseInto(value, *r)) r = *err;
  return r;
}

std::optional<SipError> NameAddr::parseInto(std::string_view value, NameAddr& na) {
  const std::string_view v = scan::trim(value);
  if (v.empty()) return kBadNameAddr;
  std::size_t i = 0;
  std::string_view rest;
  if (v[0] == '"' || v.find('<') != std::string_view::npos) {
    // name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
    if (v[0] == '"') {
      const std::size_t end = detail::skipQuoted(v, 0);
      if (end == std::string_view::npos) return kBadNameAddr;  // RFC 4475 3.1.2.6
      na.display_name = v.substr(1, end - 2);
      na.display_quoted = true;
      i = skipWs(v, end);
    } else {
      // display-name = *(token LWS): tokens only, so "Bell, Alexander" is
      // rejected (RFC 4475 3.1.2.15). No LWS is needed before '<' (3.1.1.6).
      std::size_t last_end = 0;
      while (i < v.size() && v[i] != '<') {
        const std::size_t start = i;
        i = skipToken(v, i);
        if (i == start) return kBadNameAddr;
        last_end = i;
        i = skipWs(v, i);
      }
      na.display_name = v.substr(0, last_end);
    }
    if (i == v.size() || v[i] != '<') return kBadNameAddr;
    const std::size_t close = v.find('>', i);
    if (close == std::string_view::npos) return kBadNameAddr;
    // No LWS inside the brackets (RFC 4475 3.1.2.14): Uri::parse rejects it.
    if (auto err = Uri::parseInto(v.substr(i + 1, close - i - 1), na.uri)) return *err;
    na.angle_brackets = true;
    rest = v.substr(close + 1);
  } else {
    // addr-spec: a URI with ',', '?' or ';' must be in brackets, so ';' starts
    // the header parameters (RFC 3261 20.10; RFC 4475 3.3.12, 3.1.2.13).
    const std::size_t semi = v.find(';');
    const std::string_view spec = scan::trimRight(v.substr(0, semi));
    for (char c : spec) {
      if (c == ',' || c == '?' || scan::isWs(c)) return kBadNameAddr;
    }
    if (auto err = Uri::parseInto(spec, na.uri)) return *err;
    rest = semi == std::string_view::npos ? std::string_view{} : v.substr(semi);
  }
  if (!detail::parseParams(rest, detail::ParamStyle::kGeneric, na.params)) return kBadNameAddr;
  return std::nullopt;
}

// CSeq = 1*DIGIT LWS Method; the number fits 32 bits (RFC 3261 20.16, 8.1.1.5).
Result<CSeq> CSeq::parse(std::string_view value) {
  const std::string_view v = scan::trim(value);
  std::size_t i = 0;
  while (i < v.size() && scan::isDigit(v[i])) ++i;
  const auto number = scan::parseUnsigned(v.substr(0, i), 0xFFFFFFFFu);
  if (!number) return kBadCSeq;
  if (i == v.size() || !scan::isWs(v[i])) return kBadCSeq;
  const std::string_view method = scan::trimLeft(v.substr(i));
  if (!scan::isTokenText(method)) return kBadCSeq;
  return CSeq{static_cast<std::uint32_t>(*number), method};
}

namespace detail {

// auth-scheme LWS auth-param *( COMMA auth-param ) (RFC 3261 25.1 credentials
// and challenge share this shape).
bool parseAuth(std::string_view value, std::string_view& scheme, AuthParams& params) {
  const std::string_view v = scan::trim(value);
  const std::size_t end = skipToken(v, 0);
  if (end == 0) return false;
  scheme = v.substr(0, end);
  if (end == v.size()) return true;
  if (!scan::isWs(v[end])) return false;
  return detail::parseParams(v.substr(end), detail::ParamStyle::kAuth, params);
}

}  // namespace detail

std::optional<std::string_view> Credentials::param(std::string_view name) const {
  const GenericParam* p = findParam(params, name);
  if (p == nullptr) return std::nullopt;
  return p->value;
}

Result<Credentials> Credentials::parse(std::string_view value) {
  Credentials c;
  if (!detail::parseAuth(value, c.scheme, c.params)) return kBadAuth;
  return c;
}

std::optional<std::string_view> Challenge::param(std::string_view name) const {
  const GenericParam* p = findParam(params, name);
  if (p == nullptr) return std::nullopt;
  return p->value;
}

Result<Challenge> Challenge::parse(std::string_view value) {
  Challenge c;
  if (!detail::parseAuth(value, c.scheme, c.params)) return kBadAuth;
  return c;
}

std::vector<std::string_view> splitHeaderList(std::string_view value) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = scan::findOutside(value, ',', start);
    out.push_back(
        scan::trim(value.substr(start, comma == value.npos ? value.npos : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace duplex::sip
