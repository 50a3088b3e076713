// Parameter lists of SIP header values (RFC 3261 25.1, 7.3.1 LWS rules).
#include "pbx/sip/parse_params.h"

#include <array>
#include <cstdint>

#include "pbx/sip/scanner.h"

namespace duplex::sip::detail {

std::size_t skipQuoted(std::string_view s, std::size_t start) {
  const char* const base = s.data();
  const char* const end = base + s.size();
  const char* p = base + start + 1;
  while (true) {
    p = scan::findEither(p, end, '"', '\\');
    if (p == end) return std::string_view::npos;
    if (*p == '"') return static_cast<std::size_t>(p - base) + 1;
    if (end - p <= 2) return std::string_view::npos;  // nothing after the quoted-pair
    p += 2;  // quoted-pair: the next octet is literal (NUL included)
  }
}

namespace {

// Octet classes of a parameter list, one table lookup per octet.
enum ParamClass : std::uint8_t {
  kPWs = 1,         // SP / HTAB / CR / LF
  kPToken = 2,      // token
  kPGenValue = 4,   // gen-value = token / host: token plus "[" ":" "]" for IPv6
  kPAuthValue = 8,  // auth-param values: real clients also send unquoted URIs
                    // and such, so anything up to LWS, ',' or '"'
};

constexpr std::array<std::uint8_t, 256> makeParamClasses() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    std::uint8_t v = 0;
    if (scan::isWs(ch)) v |= kPWs;
    if (scan::isToken(ch)) v |= kPToken;
    if (scan::isToken(ch) || ch == ':' || ch == '[' || ch == ']') v |= kPGenValue;
    if (!scan::isWs(ch) && ch != ',' && ch != '"') v |= kPAuthValue;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

constexpr std::array<std::uint8_t, 256> kParamClasses = makeParamClasses();

inline const char* skipClass(const char* p, const char* end, std::uint8_t cls) {
  while (p != end && (kParamClasses[static_cast<unsigned char>(*p)] & cls) != 0) ++p;
  return p;
}

}  // namespace

template <class Params>
bool parseParams(std::string_view text, ParamStyle style, Params& out) {
  const char sep = style == ParamStyle::kGeneric ? ';' : ',';
  const std::uint8_t value_class = style == ParamStyle::kGeneric ? kPGenValue : kPAuthValue;
  const char* const begin = text.data();
  const char* const end = begin + text.size();
  const char* p = skipClass(begin, end, kPWs);
  bool first = true;
  while (p != end) {
    if (!first || style == ParamStyle::kGeneric) {
      if (*p != sep) return false;
      p = skipClass(p + 1, end, kPWs);
    }
    first = false;
    GenericParam param;
    const char* const name = p;
    p = skipClass(p, end, kPToken);
    if (p == name) return false;  // ";;" or ",," (RFC 4475 3.1.2.1)
    param.name = std::string_view(name, static_cast<std::size_t>(p - name));
    p = skipClass(p, end, kPWs);
    if (p != end && *p == '=') {
      param.has_value = true;
      p = skipClass(p + 1, end, kPWs);
      if (p != end && *p == '"') {
        const std::size_t at = static_cast<std::size_t>(p - begin);
        const std::size_t close = skipQuoted(text, at);
        if (close == std::string_view::npos) return false;
        param.value = text.substr(at + 1, close - at - 2);
        param.quoted = true;
        p = begin + close;
      } else {
        const char* const value = p;
        p = skipClass(p, end, value_class);
        if (p == value) return false;
        param.value = std::string_view(value, static_cast<std::size_t>(p - value));
      }
      p = skipClass(p, end, kPWs);
    }
    out.push_back(param);
  }
  return true;
}

template bool parseParams(std::string_view, ParamStyle, ViaParams&);
template bool parseParams(std::string_view, ParamStyle, HeaderParams&);
template bool parseParams(std::string_view, ParamStyle, AuthParams&);

}  // namespace duplex::sip::detail
