// Digest authentication headers in SIP syntax (RFC 3261 22.4, RFC 7616 3.3
// and 3.4, RFC 8760): challenges formatted into WWW-Authenticate values and
// Authorization parameters extracted into registrar::DigestCredentials.
// For: RegisterHandler, later call control. Any thread (pure functions).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "pbx/sip/headers.h"
#include "registrar/digest_authenticator.h"

namespace duplex::call {

// `Digest realm="…", nonce="…", opaque="…", algorithm=SHA-256, qop="auth"`
// (plus `, stale=true` when set).
std::string formatChallenge(const registrar::ChallengeParams& challenge);

// The Digest credentials to verify among the Authorization lines: the first
// whose realm is `realm`, else the first Digest one (it then fails as a bad
// nonce); nullopt when there is none. Views point into the message.
std::optional<registrar::DigestCredentials> selectCredentials(
    std::span<const sip::Credentials> lines, std::string_view realm);

// RFC 7616 3.4.6: the digest `uri` must name the Request-URI. Equal as text,
// or as SIP URIs (RFC 3261 19.1.4: scheme, user and password exactly, host
// case-insensitively, the same port and the same parameters ignoring order
// and case of names).
bool digestUriMatches(std::string_view digestUri, std::string_view requestUri);

}  // namespace duplex::call
