// Parameter-list and quoted-string scanning shared by the typed header parsers
// (RFC 3261 25.1: generic-param, SEMI, EQUAL, quoted-string; RFC 7616 auth-param).
// Internal to pbx/sip.
#pragma once

#include <string_view>

#include "pbx/sip/headers.h"

namespace duplex::sip::detail {

// Index just past the closing quote of the quoted-string that starts at
// s[start] == '"', honouring quoted-pairs; npos when it is unterminated.
std::size_t skipQuoted(std::string_view s, std::size_t start);

enum class ParamStyle {
  kGeneric,  // ";" separated, values token / host / quoted-string (RFC 3261 generic-param)
  kAuth,     // "," separated, values token / quoted-string, lenient (RFC 3261 22.4, RFC 7616)
};

// Parses a parameter list. For kGeneric `text` is empty or starts (after LWS)
// with ';'; for kAuth the first parameter has no leading separator.
// Appends to `out`; false on a syntax error (empty parameter, missing value...).
// Instantiated for ViaParams, HeaderParams and AuthParams.
template <class Params>
bool parseParams(std::string_view text, ParamStyle style, Params& out);

// auth-scheme LWS auth-param *( COMMA auth-param ): what Credentials::parse and
// Challenge::parse read, straight into the caller's fields. False on a syntax
// error (the fields are then partly written).
bool parseAuth(std::string_view value, std::string_view& scheme, AuthParams& params);

}  // namespace duplex::sip::detail
