// Digest maths (RFC 7616, RFC 8760 for SIP, RFC 2617): HA1 and the response
// value for MD5 and SHA-256 with qop=auth. No SIP syntax.
// For: the admin API (HA1 when a password is set), the registrar and call
// control (server side, through DigestAuthenticator in
// registrar/digest_authenticator.h), trunks (client side: ha1() +
// computeResponse()). Thread: any; each call is independent.
//
// Errors: none thrown for any input; parseDigestAlgorithm() returns nullopt
// for an algorithm it does not support. If libcrypto lacks MD5 or SHA-256
// (a FIPS-only build) ha1()/computeResponse() throw std::runtime_error.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace duplex::registrar {

// RFC 7616 3.2 / RFC 8760 2.1. The "-sess" variants are not offered.
enum class DigestAlgorithm { kMd5, kSha256 };

// "MD5" or "SHA-256": the token of the algorithm parameter (RFC 7616 6.1).
std::string_view toString(DigestAlgorithm algorithm);
// Case-insensitive token (RFC 7616 3.3); an empty token means MD5 (RFC 7616
// 3.3, RFC 2617 3.2.1: the default when the parameter is absent).
std::optional<DigestAlgorithm> parseDigestAlgorithm(std::string_view token);

// HA1 = H(user ":" realm ":" password), lowercase hex (RFC 7616 3.4.2): what
// the extensions table stores instead of the password.
std::string ha1(DigestAlgorithm algorithm, std::string_view user, std::string_view realm,
                std::string_view password);

// The request-digest for qop=auth (RFC 7616 3.4.1):
//   H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" H(method ":" uri))
// lowercase hex. `ha1Hex` is used as given (lowercase, as ha1() returns).
std::string computeResponse(DigestAlgorithm algorithm, std::string_view ha1Hex,
                            std::string_view nonce, std::string_view nc, std::string_view cnonce,
                            std::string_view qop, std::string_view method, std::string_view uri);

}  // namespace duplex::registrar
