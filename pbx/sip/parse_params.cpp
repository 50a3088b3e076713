// Parameter lists of SIP header values (RFC 3261 25.1, 7.3.1 LWS rules).
#include "pbx/sip/parse_params.h"

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

std::size_t skipWs(std::string_view s, std::size_t i) {
  while (i < s.size() && scan::isWs(s[i])) ++i;
  return i;
}

// gen-value = token / host / quoted-string; host adds "[" ":" "]" for IPv6.
bool genericValueChar(char c) {
  return scan::isToken(c) || c == ':' || c == '[' || c == ']';
}

// auth-param values: token / quoted-string, but real clients also send
// unquoted URIs and such; accept anything up to LWS or ','.
bool authValueChar(char c) {
  return !scan::isWs(c) && c != ',' && c != '"';
}

}  // namespace

template <class Params>
bool parseParams(std::string_view text, ParamStyle style, Params& out) {
  const char sep = style == ParamStyle::kGeneric ? ';' : ',';
  std::size_t i = skipWs(text, 0);
  if (i == text.size()) return true;
  bool first = true;
  while (i < text.size()) {
    if (!first || style == ParamStyle::kGeneric) {
      if (text[i] != sep) return false;
      i = skipWs(text, i + 1);
    }
    first = false;
    GenericParam p;
    const std::size_t name_start = i;
    while (i < text.size() && scan::isToken(text[i])) ++i;
    p.name = text.substr(name_start, i - name_start);
    if (p.name.empty()) return false;  // ";;" or ",," (RFC 4475 3.1.2.1)
    i = skipWs(text, i);
    if (i < text.size() && text[i] == '=') {
      p.has_value = true;
      i = skipWs(text, i + 1);
      if (i < text.size() && text[i] == '"') {
        const std::size_t end = skipQuoted(text, i);
        if (end == std::string_view::npos) return false;
        p.value = text.substr(i + 1, end - i - 2);
        p.quoted = true;
        i = end;
      } else {
        const std::size_t value_start = i;
        if (style == ParamStyle::kGeneric) {
          while (i < text.size() && genericValueChar(text[i])) ++i;
        } else {
          while (i < text.size() && authValueChar(text[i])) ++i;
        }
        p.value = text.substr(value_start, i - value_start);
        if (p.value.empty()) return false;
      }
      i = skipWs(text, i);
    }
    out.push_back(p);
  }
  return true;
}

template bool parseParams(std::string_view, ParamStyle, ViaParams&);
template bool parseParams(std::string_view, ParamStyle, HeaderParams&);
template bool parseParams(std::string_view, ParamStyle, AuthParams&);

}  // namespace duplex::sip::detail
