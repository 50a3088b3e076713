// Message's typed views (RFC 3261 20): each parses its header on demand and
// names the header in its error, which becomes the 400 reason phrase.
#include <array>

#include "pbx/sip/message.h"
#include "pbx/sip/parse_params.h"
#include "pbx/sip/scanner.h"

namespace duplex::sip {

namespace {

// Calls f(element) for each comma-separated element of a list-header line
// (trimmed, empty ones included) without building a vector; stops when f
// returns false.
template <class F>
bool forEachListElement(std::string_view value, F&& f) {
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = scan::findOutside(value, ',', start);
    const std::string_view element =
        scan::trim(value.substr(start, comma == value.npos ? value.npos : comma - start));
    if (!f(element)) return false;
    if (comma == std::string_view::npos) return true;
    start = comma + 1;
  }
}

// First element of a list-header line without building the whole list.
std::string_view firstListElement(std::string_view value) {
  return scan::trim(value.substr(0, scan::findOutside(value, ',')));
}

Result<std::optional<std::uint32_t>> optionalNumber(std::optional<std::string_view> value,
                                                    std::uint64_t max, SipError bad) {
  if (!value) return std::optional<std::uint32_t>{};
  const auto n = scan::parseUnsigned(*value, max);
  if (!n) return bad;
  return std::optional<std::uint32_t>{static_cast<std::uint32_t>(*n)};
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) (RFC 3261 20.10)
std::optional<float> parseQ(std::string_view v) {
  if (v.empty() || v.size() > 5 || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  if (v.size() == 1) return static_cast<float>(v[0] - '0');
  if (v[1] != '.') return std::nullopt;
  int thousandths = 0;
  int scale = 100;
  for (std::size_t i = 2; i < v.size(); ++i, scale /= 10) {
    if (!scan::isDigit(v[i])) return std::nullopt;
    thousandths += (v[i] - '0') * scale;
  }
  if (v[0] == '1' && thousandths != 0) return std::nullopt;
  return static_cast<float>((v[0] - '0') * 1000 + thousandths) / 1000.0f;
}

Result<std::vector<NameAddr>> routeList(const Message& m, HeaderId id, SipError bad) {
  std::vector<NameAddr> out;
  for (const auto& h : m.headers()) {
    if (h.id != id) continue;
    const bool ok = forEachListElement(h.value, [&](std::string_view element) {
      auto na = NameAddr::parse(element);
      // route-param = name-addr: the brackets are required (RFC 3261 25.1).
      if (!na || !na->angle_brackets) return false;
      out.push_back(std::move(*na));
      return true;
    });
    if (!ok) return bad;
  }
  return out;
}

template <class T>
std::vector<T> authList(const Message& m, HeaderId id) {
  std::vector<T> out;
  for (const auto& h : m.headers()) {
    if (h.id != id) continue;
    // Parsed in place (T::parse's checks): no copies of the inline parameter
    // array. Malformed lines are skipped.
    T& v = out.emplace_back();
    if (!detail::parseAuth(h.value, v.scheme, v.params)) out.pop_back();
  }
  return out;
}

bool isOneOf(std::string_view s, std::string_view list) {
  for (std::size_t i = 0; i + 3 <= list.size(); i += 3) {
    if (list.substr(i, 3) == s) return true;
  }
  return false;
}

bool digitsInRange(std::string_view s, int max) {
  const auto n = scan::parseUnsigned(s, static_cast<std::uint64_t>(max));
  return n.has_value() && s.size() == 2;
}

}  // namespace

// The views below fill their Result in place and return that one object
// (no move of the parsed value).
Result<Via> Message::topVia() const {
  if (top_via_) return *top_via_;
  const auto v = header(HeaderId::kVia);
  Result<Via> r(std::in_place);
  if (!v) {
    r = SipError{400, "Missing Via"};
  } else if (Via::parseInto(firstListElement(*v), *r)) {
    r = SipError{400, "Bad Via header"};
  }
  top_via_ = r;
  return r;
}

Result<std::vector<Via>> Message::vias() const {
  std::vector<Via> out;
  for (const auto& h : headers_) {
    if (h.id != HeaderId::kVia) continue;
    const bool ok = forEachListElement(h.value, [&](std::string_view element) {
      auto via = Via::parse(element);
      if (!via) return false;
      out.push_back(std::move(*via));
      return true;
    });
    if (!ok) return SipError{400, "Bad Via header"};
  }
  if (out.empty()) return SipError{400, "Missing Via"};
  return out;
}

std::optional<SipError> Message::checkVias() const {
  Via scratch;
  bool any = false;
  for (const auto& h : headers_) {
    if (h.id != HeaderId::kVia) continue;
    const bool ok = forEachListElement(h.value, [&](std::string_view element) {
      scratch = Via{};
      any = true;
      return !Via::parseInto(element, scratch);
    });
    if (!ok) return SipError{400, "Bad Via header"};
  }
  if (!any) return SipError{400, "Missing Via"};
  return std::nullopt;
}

Result<NameAddr> Message::from() const {
  const auto v = header(HeaderId::kFrom);
  Result<NameAddr> r(std::in_place);
  if (!v) {
    r = SipError{400, "Missing From"};
  } else if (NameAddr::parseInto(*v, *r)) {
    r = SipError{400, "Bad From header"};
  }
  return r;
}

Result<NameAddr> Message::to() const {
  const auto v = header(HeaderId::kTo);
  Result<NameAddr> r(std::in_place);
  if (!v) {
    r = SipError{400, "Missing To"};
  } else if (NameAddr::parseInto(*v, *r)) {
    r = SipError{400, "Bad To header"};
  }
  return r;
}

// RFC 3261 8.2.2 / 20.16: a request's CSeq method equals its method
// (RFC 4475 3.1.2.17/18). Checked here, not in parse(), see parser.cpp.
Result<CSeq> Message::cseq() const {
  CSeq c = cseq_;
  if (!cseq_cached_) {
    const auto v = header(HeaderId::kCSeq);
    if (!v) return SipError{400, "Missing CSeq"};
    auto parsed = CSeq::parse(*v);
    if (!parsed) return SipError{400, "Bad CSeq"};
    c = *parsed;
  }
  if (is_request_ && c.method != method_token_) return SipError{400, "CSeq method does not match"};
  return c;
}

// Max-Forwards = 1*DIGIT, 0-255 (RFC 3261 20.22); "0068" is 68.
Result<std::optional<std::uint32_t>> Message::maxForwards() const {
  return optionalNumber(header(HeaderId::kMaxForwards), 255, {400, "Bad Max-Forwards"});
}

// Expires = delta-seconds, at most 2^32-1 (RFC 3261 20.19, 25.1).
Result<std::optional<std::uint32_t>> Message::expires() const {
  return optionalNumber(header(HeaderId::kExpires), 0xFFFFFFFFu, {400, "Bad Expires"});
}

Result<std::optional<std::uint32_t>> Message::contentLength() const {
  return optionalNumber(header(HeaderId::kContentLength), 0xFFFFFFFFu, {400, "Bad Content-Length"});
}

// Contact = ( STAR / (contact-param *(COMMA contact-param)) ) (RFC 3261 20.10).
Result<ContactList> Message::contacts() const {
  constexpr SipError kBad{400, "Bad Contact header"};
  Result<ContactList> r(std::in_place);
  ContactList& list = *r;
  for (const auto& h : headers_) {
    if (h.id != HeaderId::kContact) continue;
    SipError error = kBad;
    const bool ok = forEachListElement(h.value, [&](std::string_view element) {
      if (element == "*") {
        list.star = true;
        return true;
      }
      // Parsed in place; on an error the whole list is dropped.
      ContactEntry& entry = list.entries.emplace_back();
      if (NameAddr::parseInto(element, entry.address)) return false;
      if (const GenericParam* e = findParam(entry.address.params, "expires")) {
        const auto n = scan::parseUnsigned(e->value, 0xFFFFFFFFu);
        if (!n) {
          error = {400, "Bad Contact expires"};  // RFC 4475 3.1.2.4
          return false;
        }
        entry.expires = static_cast<std::uint32_t>(*n);
      }
      if (const GenericParam* q = findParam(entry.address.params, "q")) {
        entry.q = parseQ(q->value);
        if (!entry.q) {
          error = {400, "Bad Contact q"};
          return false;
        }
      }
      return true;
    });
    if (!ok) {
      r = error;
      return r;
    }
  }
  // "*" stands alone (RFC 3261 10.2.2).
  if (list.star && !list.entries.empty()) r = kBad;
  return r;
}

Result<std::vector<NameAddr>> Message::routes() const {
  return routeList(*this, HeaderId::kRoute, {400, "Bad Route header"});
}

Result<std::vector<NameAddr>> Message::recordRoutes() const {
  return routeList(*this, HeaderId::kRecordRoute, {400, "Bad Record-Route header"});
}

std::vector<Credentials> Message::authorizations() const {
  return authList<Credentials>(*this, HeaderId::kAuthorization);
}
std::vector<Credentials> Message::proxyAuthorizations() const {
  return authList<Credentials>(*this, HeaderId::kProxyAuthorization);
}
std::vector<Challenge> Message::wwwAuthenticates() const {
  return authList<Challenge>(*this, HeaderId::kWwwAuthenticate);
}
std::vector<Challenge> Message::proxyAuthenticates() const {
  return authList<Challenge>(*this, HeaderId::kProxyAuthenticate);
}

std::vector<std::string_view> Message::optionTags(HeaderId id) const {
  std::vector<std::string_view> out;
  for (std::string_view v : headerValues(id)) {
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

// rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 20.17, 25.1):
// "Sat, 13 Nov 2010 23:29:00 GMT". Only GMT is legal (RFC 4475 3.1.2.12).
Result<std::optional<std::string_view>> Message::date() const {
  constexpr SipError kBad{400, "Bad Date"};
  const auto v = header(HeaderId::kDate);
  if (!v) return std::optional<std::string_view>{};
  const std::string_view d = *v;
  if (d.size() != 29 || d.substr(3, 2) != ", " || d[7] != ' ' || d[11] != ' ' || d[16] != ' ' ||
      d[19] != ':' || d[22] != ':' || d[25] != ' ' || d.substr(26) != "GMT") {
    return kBad;
  }
  if (!isOneOf(d.substr(0, 3), "MonTueWedThuFriSatSun") ||
      !isOneOf(d.substr(8, 3), "JanFebMarAprMayJunJulAugSepOctNovDec")) {
    return kBad;
  }
  const auto day = scan::parseUnsigned(d.substr(5, 2), 31);
  const auto year = scan::parseUnsigned(d.substr(12, 4), 9999);
  if (!day || *day == 0 || !year || !digitsInRange(d.substr(17, 2), 23) ||
      !digitsInRange(d.substr(20, 2), 59) || !digitsInRange(d.substr(23, 2), 60)) {
    return kBad;
  }
  return std::optional<std::string_view>{d};
}

}  // namespace duplex::sip
