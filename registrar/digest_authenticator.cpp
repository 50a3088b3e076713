// Server-side digest authentication; see digest_authenticator.h.
#include "registrar/digest_authenticator.h"

#include <algorithm>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "registrar/digest_hasher.h"
#include "registrar/text.h"

namespace duplex::registrar {

namespace {

// Longest parameter accepted (RFC 7616 sets none; SIP UAs send far less).
// Bounds the hashing work an unauthenticated peer can cause.
constexpr std::size_t kMaxParamBytes = 512;
constexpr std::size_t kMaxUriBytes = 1024;

spdlog::logger& authLog() {
  std::shared_ptr<spdlog::logger> named = spdlog::get("registrar");
  return named ? *named : *spdlog::default_logger_raw();
}

// Peer-controlled text for the log: printable ASCII only, at most 64 bytes,
// so that a user name cannot forge log lines.
std::string printable(std::string_view text) {
  std::string out;
  std::size_t n = text.size() < 64 ? text.size() : 64;
  out.reserve(n + 3);
  for (std::size_t i = 0; i < n; ++i) {
    char c = text[i];
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  if (text.size() > n) out += "...";
  return out;
}

using detail::iequals;

// RFC 7616 3.4: nc is exactly 8 hex digits.
std::optional<std::uint32_t> parseNc(std::string_view nc) {
  std::array<std::uint8_t, 4> bytes{};
  if (!detail::fromHex(nc, bytes)) return std::nullopt;
  return std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
         std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]};
}

// Copies a stored HA1 in lowercase into `out` if it is 2 * size hex digits.
bool normalizedHa1(std::string_view stored, std::size_t size, std::array<char, 64>& out) {
  if (stored.size() != 2 * size) return false;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    char c = stored[i];
    if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    out[i] = c;
  }
  return true;
}

}  // namespace

int sipStatus(AuthOutcome outcome, bool proxy) {
  switch (outcome) {
    case AuthOutcome::kOk:
      return 200;
    case AuthOutcome::kStale:
    case AuthOutcome::kBadNonce:
    case AuthOutcome::kReplay:
      return proxy ? 407 : 401;  // RFC 3261 22.2, 22.3
    case AuthOutcome::kForbidden:
      return 403;
    case AuthOutcome::kMalformed:
      return 400;
  }
  return 400;
}

std::string_view toString(AuthOutcome outcome) {
  switch (outcome) {
    case AuthOutcome::kOk:
      return "ok";
    case AuthOutcome::kStale:
      return "stale";
    case AuthOutcome::kBadNonce:
      return "bad nonce";
    case AuthOutcome::kReplay:
      return "replay";
    case AuthOutcome::kForbidden:
      return "forbidden";
    case AuthOutcome::kMalformed:
      return "malformed";
  }
  return "?";
}

DigestAuthenticator::DigestAuthenticator(std::span<const std::uint8_t> secret,
                                         std::string_view realm, AuthFailureCounter& failures,
                                         Options options)
    : nonces_(secret, realm, options.nonceLifetimeSeconds),
      counts_(options.nonceCountCapacity),
      failures_(failures),
      hasher_(std::make_unique<detail::DigestHasher>()),
      algorithms_(std::move(options.algorithms)) {
  if (realm.empty()) throw std::invalid_argument("digest realm must not be empty");
  if (algorithms_.empty()) throw std::invalid_argument("no digest algorithm offered");
  if (algorithms_.size() > 2 || (algorithms_.size() == 2 && algorithms_[0] == algorithms_[1])) {
    throw std::invalid_argument("digest algorithm offered twice");
  }
  // Unknown users are checked against a random HA1 nobody knows, so that they
  // cost the same hashing as real ones (no user enumeration by timing).
  std::array<std::uint8_t, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    throw std::runtime_error("digest authentication: RAND_bytes failed");
  }
  std::string password(32, '\0');
  detail::toHex(random, password.data());
  dummyHa1Md5_ = ha1(DigestAlgorithm::kMd5, "-", realm, password);
  dummyHa1Sha256_ = ha1(DigestAlgorithm::kSha256, "-", realm, password);
}

DigestAuthenticator::~DigestAuthenticator() = default;

DigestAuthenticator::Challenges DigestAuthenticator::challenge(std::int64_t now, bool stale) {
  const NonceText nonce = nonces_.issue(now);
  // RFC 8760 2.4 / RFC 7616 3.7: preferred algorithm first.
  Challenges challenges;
  challenges.reserve(algorithms_.size());
  for (DigestAlgorithm algorithm : algorithms_) {
    challenges.push_back(
        ChallengeParams{nonces_.realm(), nonce, nonces_.opaque(), algorithm, stale, "auth"});
  }
  return challenges;
}

AuthResult DigestAuthenticator::fail(AuthOutcome outcome, std::string_view reason,
                                     DigestAlgorithm algorithm,
                                     const DigestCredentials& credentials, const AuthPeer& peer,
                                     std::int64_t now) {
  failures_.record(peer.sourceAddress, credentials.username, now);
  authLog().warn("digest authentication failed ({}: {}) from {} extension '{}' user-agent '{}'",
                 toString(outcome), reason, printable(peer.sourceAddress),
                 printable(credentials.username), printable(peer.userAgent));
  return {outcome, reason, algorithm};
}

AuthResult DigestAuthenticator::verify(const DigestCredentials& c, std::string_view method,
                                       const std::optional<StoredHa1>& stored, const AuthPeer& peer,
                                       std::int64_t now) {
  auto malformed = [&](std::string_view reason, DigestAlgorithm a = DigestAlgorithm::kMd5) {
    return fail(AuthOutcome::kMalformed, reason, a, c, peer, now);
  };
  for (std::string_view p : {c.username, c.realm, c.nonce, c.response, c.algorithm, c.cnonce, c.qop,
                             c.nc, c.opaque, method}) {
    if (p.size() > kMaxParamBytes) return malformed("Digest parameter too long");
  }
  if (c.uri.size() > kMaxUriBytes) return malformed("Digest uri too long");
  // RFC 7616 3.4: username, realm, nonce, uri, response are required; with
  // qop also cnonce and nc.
  if (c.username.empty()) return malformed("Digest username missing");
  if (c.uri.empty()) return malformed("Digest uri missing");
  if (c.nonce.empty()) return malformed("Digest nonce missing");
  if (method.empty()) return malformed("Request method missing");
  std::optional<DigestAlgorithm> parsed = parseDigestAlgorithm(c.algorithm);
  if (!parsed) return malformed("Digest algorithm not supported");
  const DigestAlgorithm algorithm = *parsed;
  if (std::find(algorithms_.begin(), algorithms_.end(), algorithm) == algorithms_.end()) {
    return malformed("Digest algorithm not offered", algorithm);
  }
  const std::size_t size = detail::digestSize(algorithm);
  if (!iequals(c.qop, "auth")) return malformed("Digest qop=auth required", algorithm);
  std::optional<std::uint32_t> nc = parseNc(c.nc);
  if (!nc || *nc == 0) return malformed("Digest nc must be 8 hex digits above 0", algorithm);
  if (c.cnonce.empty()) return malformed("Digest cnonce missing", algorithm);
  detail::DigestBytes response{};
  if (!detail::fromHex(c.response, std::span(response.data(), size))) {
    return malformed("Digest response is not a digest", algorithm);
  }

  // RFC 7616 3.4: realm and opaque must be the ones we sent. A missing opaque
  // is tolerated (some UAs drop it; it is constant per realm, no secret).
  if (c.realm != nonces_.realm()) {
    return fail(AuthOutcome::kBadNonce, "realm mismatch", algorithm, c, peer, now);
  }
  if (!c.opaque.empty() && c.opaque != nonces_.opaque()) {
    return fail(AuthOutcome::kBadNonce, "opaque mismatch", algorithm, c, peer, now);
  }
  NonceIdentity identity;
  switch (nonces_.check(c.nonce, now, identity)) {
    case NonceStatus::kValid:
      break;
    case NonceStatus::kExpired:
      return {AuthOutcome::kStale, "nonce expired", algorithm};
    case NonceStatus::kOtherInstance:
      return {AuthOutcome::kStale, "nonce from an earlier start", algorithm};
    case NonceStatus::kFuture:
      return fail(AuthOutcome::kBadNonce, "nonce issued in the future", algorithm, c, peer, now);
    case NonceStatus::kInvalid:
      return fail(AuthOutcome::kBadNonce, "nonce not issued here", algorithm, c, peer, now);
  }

  // Pick the HA1; anything unusable is checked against the dummy HA1 so that
  // every kForbidden costs the same.
  std::string_view forbiddenReason;
  std::array<char, 64> ha1Hex{};
  const std::string_view dummy =
      algorithm == DigestAlgorithm::kMd5 ? dummyHa1Md5_ : dummyHa1Sha256_;
  if (!stored) {
    forbiddenReason = "unknown user";
  } else if (stored->realm != nonces_.realm()) {
    forbiddenReason = "HA1 stored for another realm (set the password again)";
  } else if (!normalizedHa1(algorithm == DigestAlgorithm::kMd5 ? stored->md5 : stored->sha256, size,
                            ha1Hex)) {
    forbiddenReason = "no valid HA1 stored for this algorithm";
  }
  if (!forbiddenReason.empty()) std::copy(dummy.begin(), dummy.end(), ha1Hex.begin());

  // RFC 7616 3.4.1: response = H(HA1:nonce:nc:cnonce:qop:H(method:uri)).
  detail::DigestBytes digest{};
  std::array<char, 64> ha2Hex{};
  bool hashed = hasher_->hash(algorithm, {method, c.uri}, digest);
  detail::toHex(std::span(digest.data(), size), ha2Hex.data());
  hashed = hashed && hasher_->hash(algorithm,
                                   {std::string_view(ha1Hex.data(), 2 * size), c.nonce, c.nc,
                                    c.cnonce, c.qop, std::string_view(ha2Hex.data(), 2 * size)},
                                   digest);
  const bool match = hashed && CRYPTO_memcmp(digest.data(), response.data(), size) == 0;
  if (!forbiddenReason.empty()) {
    return fail(AuthOutcome::kForbidden, forbiddenReason, algorithm, c, peer, now);
  }
  if (!match) return fail(AuthOutcome::kForbidden, "wrong password", algorithm, c, peer, now);

  // RFC 7616 5.6 replay check, after the digest verified; state changes only
  // on success.
  switch (counts_.check(identity, *nc)) {
    case NonceCountTable::Check::kFresh:
      break;
    case NonceCountTable::Check::kReplay:
      return fail(AuthOutcome::kReplay, "nonce-count replayed", algorithm, c, peer, now);
    case NonceCountTable::Check::kUnknownOld:
      return {AuthOutcome::kStale, "nonce-count state evicted", algorithm};
  }
  counts_.commit(identity, *nc);
  return {AuthOutcome::kOk, "ok", algorithm};
}

}  // namespace duplex::registrar
