// Digest headers in SIP syntax; see digest_headers.h.
#include "pbx/call/digest_headers.h"

#include <algorithm>
#include <cctype>

#include "pbx/sip/scanner.h"
#include "pbx/sip/uri.h"

namespace duplex::call {
namespace {

using sip::scan::iequals;

std::string_view paramOf(const sip::Credentials& c, std::string_view name) {
  return c.param(name).value_or(std::string_view{});
}

// Every parameter of `a` appears in `b` with an equal value (RFC 3261 19.1.4
// compares URI parameters by name, values case-insensitively).
bool paramsContained(const sip::UriParams& a, const sip::UriParams& b) {
  return std::all_of(a.begin(), a.end(), [&b](const sip::UriParam& p) {
    return std::any_of(b.begin(), b.end(), [&p](const sip::UriParam& q) {
      return iequals(p.name, q.name) && iequals(p.value, q.value) && p.has_value == q.has_value;
    });
  });
}

}  // namespace

std::string formatChallenge(const registrar::ChallengeParams& challenge) {
  // RFC 7616 3.3: realm, nonce, opaque and qop are quoted strings, algorithm
  // and stale are tokens.
  std::string out = "Digest realm=\"";
  out += challenge.realm;
  out += "\", nonce=\"";
  out += challenge.nonce.view();
  out += "\", opaque=\"";
  out += challenge.opaque;
  out += "\", algorithm=";
  out += registrar::toString(challenge.algorithm);
  out += ", qop=\"";
  out += challenge.qop;
  out += "\"";
  if (challenge.stale) out += ", stale=true";
  return out;
}

std::optional<registrar::DigestCredentials> selectCredentials(
    std::span<const sip::Credentials> lines, std::string_view realm) {
  const sip::Credentials* chosen = nullptr;
  for (const sip::Credentials& c : lines) {
    if (!iequals(c.scheme, "Digest")) continue;
    if (chosen == nullptr) chosen = &c;
    if (paramOf(c, "realm") == realm) {
      chosen = &c;
      break;
    }
  }
  if (chosen == nullptr) return std::nullopt;
  const sip::Credentials& c = *chosen;
  return registrar::DigestCredentials{
      paramOf(c, "username"), paramOf(c, "realm"),     paramOf(c, "nonce"),  paramOf(c, "uri"),
      paramOf(c, "response"), paramOf(c, "algorithm"), paramOf(c, "cnonce"), paramOf(c, "qop"),
      paramOf(c, "nc"),       paramOf(c, "opaque")};
}

bool digestUriMatches(std::string_view digestUri, std::string_view requestUri) {
  if (digestUri == requestUri) return true;
  auto a = sip::Uri::parse(digestUri);
  auto b = sip::Uri::parse(requestUri);
  if (!a || !b || !a->isSip() || a->scheme() != b->scheme()) return false;
  return a->user() == b->user() && a->password() == b->password() &&
         iequals(a->host(), b->host()) && a->port() == b->port() &&
         a->params().size() == b->params().size() && paramsContained(a->params(), b->params());
}

}  // namespace duplex::call
