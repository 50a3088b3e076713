// Passwords and tokens of the admin API and of extensions: the slow salted
// hash of the admin password (PBKDF2-HMAC-SHA256, OpenSSL), the digest HA1
// values of a SIP password, generated passwords and bearer tokens from the
// kernel's CSPRNG. For: admin/ (auth.h, the extensions resource) and the
// daemon's password reset. Any thread; no state.
// Errors: hashPassword() and the generators throw std::runtime_error if
// OpenSSL or the CSPRNG fails (never expected); verifyPassword() never throws
// and answers false for a malformed stored hash.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace duplex::admin {

// OWASP's 2023 figure for PBKDF2-HMAC-SHA256: about 0.3 s of one core here,
// which makes an offline guess of a 20-character generated password hopeless
// and an online one pointless next to the login throttle.
inline constexpr int kPasswordIterations = 600000;

// "pbkdf2-sha256$<iterations>$<16-byte salt, base64>$<32-byte key, base64>"
std::string hashPassword(std::string_view password, int iterations = kPasswordIterations);
// Constant-time comparison of the derived key.
bool verifyPassword(std::string_view password, std::string_view stored);

// `length` characters of [A-Za-z0-9] without the look-alikes 0 O 1 l I, with
// at least one lower case letter, one upper case letter and one digit.
std::string generatePassword(std::size_t length = 20);
// `prefix` + 43 characters of base64url (32 random bytes).
std::string generateToken(std::string_view prefix);

// Lowercase hex digests.
std::string sha256Hex(std::string_view text);
std::string md5Hex(std::string_view text);

// The digest HA1 values of a SIP password (RFC 7616 3.4.2): H(user:realm:password).
struct Ha1Pair {
  std::string md5;
  std::string sha256;
};
Ha1Pair digestHa1(std::string_view user, std::string_view realm, std::string_view password);

}  // namespace duplex::admin
