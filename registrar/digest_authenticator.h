// Server-side digest authentication (RFC 7616, RFC 8760, RFC 2617; SIP use
// per RFC 3261 22.4): challenges for a 401/407 and the verdict on an
// Authorization/Proxy-Authorization answer. No SIP syntax: the adapter in
// pbx/call extracts the header parameters into DigestCredentials and formats
// ChallengeParams into WWW-Authenticate/Proxy-Authenticate headers.
// For: the REGISTER adapter, call control (INVITE), anything that challenges.
// Thread: the SIP loop owns it; not thread-safe (it reuses OpenSSL contexts
// and owns the nonce-count table). verify() allocates nothing on success.
//
// Flow: no credentials -> challenge(now) (one header per offered algorithm,
// SHA-256 first by default, one nonce). Credentials -> look up the extension
// by credentials.username, pass its HA1s (or nullopt if unknown or disabled)
// to verify() and answer per AuthResult::outcome (see sipStatus()):
//   kOk         accept.
//   kStale      401/407 with challenge(now, /*stale=*/true) (RFC 7616 3.3:
//               the client retries without asking the user). Not a failure.
//               Expired nonce, nonce from before a restart, or a nonce whose
//               nc state the bounded table no longer holds (the last two: a
//               valid-looking answer whose replay we could not rule out).
//   kBadNonce   401/407 with a fresh challenge: nonce not ours (forged,
//               tampered, other realm/secret, from the future) or realm or
//               opaque differ from ours. Counted.
//   kReplay     401/407 with a fresh challenge: correct digest, but its nc is
//               not above the highest accepted for that nonce (RFC 7616 5.6).
//               Counted.
//   kForbidden  403 "Forbidden": wrong password or unknown user — the same
//               answer and the same work for both (a dummy HA1 for unknown
//               users), so neither the status nor the timing tells whether
//               the extension exists. Counted.
//   kMalformed  400 with AuthResult::reason as reason phrase: a parameter
//               missing, too long or of the wrong form, or an algorithm/qop we
//               did not offer. Counted.
// Every counted failure is logged (warn, logger "registrar") with the source
// address, the user name and the user agent, and recorded in the
// AuthFailureCounter passed in.
//
// Limits: qop must be "auth" (auth-int and RFC 2069 no-qop answers are
// rejected as malformed); `uri` is not compared with the Request-URI here —
// the adapter may do it (RFC 7616 3.4.6) as it knows SIP URI equality.
//
// Errors: the constructor throws std::invalid_argument (secret < 16 bytes,
// empty realm, lifetime <= 0, no algorithm or one twice) or std::runtime_error (libcrypto lacks
// MD5, SHA-256 or HMAC). challenge() and verify() never throw for any input.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/auth_failures.h"
#include "registrar/digest.h"
#include "registrar/nonce.h"
#include "registrar/nonce_count.h"

namespace duplex::registrar {

namespace detail {
class DigestHasher;
}

// The Authorization parameters as the peer sent them, unquoted (RFC 7616 3.4).
// Empty means absent.
struct DigestCredentials {
  std::string_view username;
  std::string_view realm;
  std::string_view nonce;
  std::string_view uri;
  std::string_view response;
  std::string_view algorithm;
  std::string_view cnonce;
  std::string_view qop;
  std::string_view nc;
  std::string_view opaque;
};

// An extension's stored credentials (db::ExtensionRecord::ha1Md5, ha1Sha256,
// realm). Views must outlive the verify() call.
struct StoredHa1 {
  std::string_view md5;     // 32 hex digits
  std::string_view sha256;  // 64 hex digits; empty if never set
  std::string_view realm;   // the realm both were computed for
};

// Who is asking: for the failure log and counters.
struct AuthPeer {
  std::string_view sourceAddress;  // IP without port
  std::string_view userAgent;      // User-Agent header, may be empty
};

// One WWW-Authenticate/Proxy-Authenticate header's parameters (RFC 7616 3.3).
// realm, opaque and qop view the authenticator (valid while it lives).
struct ChallengeParams {
  std::string_view realm;
  NonceText nonce;
  std::string_view opaque;
  DigestAlgorithm algorithm = DigestAlgorithm::kSha256;
  bool stale = false;
  std::string_view qop = "auth";
};

enum class AuthOutcome { kOk, kStale, kBadNonce, kReplay, kForbidden, kMalformed };

struct AuthResult {
  AuthOutcome outcome = AuthOutcome::kMalformed;
  // Static text: for the log, and the 400 reason phrase for kMalformed. Tells
  // "unknown user" from "wrong password" — never send it for kForbidden.
  std::string_view reason;
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;  // as parsed, when known
};

// The SIP status for an outcome (the one table, STYLE.md 9): 200, 401 or 407
// (with a new challenge; `proxy` picks 407), 403, 400.
int sipStatus(AuthOutcome outcome, bool proxy);
std::string_view toString(AuthOutcome outcome);

class DigestAuthenticator {
 public:
  struct Options {
    std::int64_t nonceLifetimeSeconds = NonceCodec::kDefaultLifetimeSeconds;
    // Nonces tracked for nc replay (registrar/nonce_count.h; 8 bytes each).
    std::size_t nonceCountCapacity = NonceCountTable::kDefaultCapacity;
    // The algorithms offered, most preferred first (one WWW-Authenticate
    // each). Default SHA-256 then MD5 (RFC 8760 2.4). Clients that take the
    // first challenge whatever it is (sipp 3.6, some old phones) need MD5
    // first. An answer with an algorithm not offered is kMalformed.
    std::vector<DigestAlgorithm> algorithms = {DigestAlgorithm::kSha256, DigestAlgorithm::kMd5};
  };
  // Up to one challenge per algorithm, in the configured order.
  using Challenges = std::vector<ChallengeParams>;

  // `secret`: db::SecretRepository::getOrCreate("digest-nonce", 32) or alike.
  DigestAuthenticator(std::span<const std::uint8_t> secret, std::string_view realm,
                      AuthFailureCounter& failures, Options options);
  DigestAuthenticator(std::span<const std::uint8_t> secret, std::string_view realm,
                      AuthFailureCounter& failures)
      : DigestAuthenticator(secret, realm, failures, Options{}) {}
  ~DigestAuthenticator();
  DigestAuthenticator(const DigestAuthenticator&) = delete;
  DigestAuthenticator& operator=(const DigestAuthenticator&) = delete;

  // One challenge per offered algorithm in Options::algorithms order (RFC
  // 8760 2.4: the client uses the first it supports), one fresh nonce shared
  // by all.
  Challenges challenge(std::int64_t now, bool stale = false);

  // `stored`: nullopt for an unknown (or disabled) user name. `now`: unix
  // seconds.
  AuthResult verify(const DigestCredentials& credentials, std::string_view method,
                    const std::optional<StoredHa1>& stored, const AuthPeer& peer, std::int64_t now);

  std::string_view realm() const { return nonces_.realm(); }

 private:
  AuthResult fail(AuthOutcome outcome, std::string_view reason, DigestAlgorithm algorithm,
                  const DigestCredentials& credentials, const AuthPeer& peer, std::int64_t now);

  NonceCodec nonces_;
  NonceCountTable counts_;
  AuthFailureCounter& failures_;
  std::unique_ptr<detail::DigestHasher> hasher_;
  std::string dummyHa1Md5_;
  std::string dummyHa1Sha256_;
  std::vector<DigestAlgorithm> algorithms_;
};

}  // namespace duplex::registrar
