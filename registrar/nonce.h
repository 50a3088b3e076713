// Stateless digest nonces and the opaque value (RFC 7616 3.3, 5.4; RFC 2617
// 4.3): the server validates a nonce it handed out without having stored it.
// For: DigestAuthenticator (registrar/digest_authenticator.h); tests.
// Thread: one owner (the SIP loop); not thread-safe (it reuses its HMAC
// context).
//
// A nonce is 64 lowercase hex digits encoding 32 bytes:
//   issued (8 bytes, big-endian unix seconds) || instance (4) || sequence (4)
//   || HMAC-SHA-256(secret, issued || instance || sequence || realm)
//      truncated to 16 bytes
// `instance` is random per NonceCodec (per daemon start), `sequence` counts
// the nonces it issued: together unique, and the key of the nonce-count table
// (registrar/nonce_count.h).
// The MAC covers the realm, so a nonce issued for one realm is invalid in
// another. The secret comes from db::SecretRepository::getOrCreate, so a
// nonce from before a restart still proves it is ours (kOtherInstance); as its
// nonce-count state died with the old process, the caller answers it with
// stale=true (the phone retries with a fresh nonce without asking the user)
// rather than risk accepting a replay. `opaque` is HMAC(secret, "opaque" || realm),
// 32 hex digits: constant per realm and secret, so it needs no state either.
//
// Errors: the constructor throws std::invalid_argument for a secret shorter
// than 16 bytes and std::runtime_error if libcrypto lacks HMAC-SHA-256
// (start-up errors). check() never throws: any input, however long or
// malformed, yields a NonceStatus.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace duplex::registrar {

namespace detail {
class HmacSha256;
}

// A nonce as sent to the peer: fixed size, no allocation.
struct NonceText {
  static constexpr std::size_t kLength = 64;
  std::array<char, kLength> chars{};
  std::string_view view() const { return {chars.data(), chars.size()}; }
};

enum class NonceStatus {
  kValid,
  kExpired,        // ours, but older than the lifetime: answer stale=true (RFC 7616 3.3)
  kFuture,         // ours by MAC, but issued later than now (+ skew): clock stepped back
  kOtherInstance,  // ours by MAC, unexpired, but issued by another NonceCodec (an
                   // earlier start): its nonce-count state is unknown, so stale
  kInvalid,        // wrong length, not hex, MAC mismatch (tampered, other realm/secret)
};

// What a valid nonce carries, for the nonce-count table.
struct NonceIdentity {
  std::int64_t issuedAt = 0;  // unix seconds
  std::uint32_t instance = 0;
  std::uint32_t sequence = 0;  // n-th nonce this instance issued
};

class NonceCodec {
 public:
  static constexpr std::size_t kMinSecretBytes = 16;
  static constexpr std::int64_t kDefaultLifetimeSeconds = 300;  // 5 minutes
  // Nonces up to this far in the future are accepted (a small wall-clock step
  // back, e.g. NTP, must not reject every phone at once).
  static constexpr std::int64_t kFutureSkewSeconds = 5;

  NonceCodec(std::span<const std::uint8_t> secret, std::string_view realm,
             std::int64_t lifetimeSeconds = kDefaultLifetimeSeconds);
  ~NonceCodec();
  NonceCodec(const NonceCodec&) = delete;
  NonceCodec& operator=(const NonceCodec&) = delete;

  // A fresh nonce issued at `now` (unix seconds).
  NonceText issue(std::int64_t now);
  // Validates `nonce` at `now`; fills `identity` unless kInvalid. The MAC is
  // compared in constant time (CRYPTO_memcmp). Checks in this order: form and
  // MAC, future, expiry, instance.
  NonceStatus check(std::string_view nonce, std::int64_t now, NonceIdentity& identity);

  std::string_view opaque() const { return opaque_; }
  std::string_view realm() const { return realm_; }
  std::int64_t lifetimeSeconds() const { return lifetime_; }
  std::uint32_t instance() const { return instance_; }

 private:
  bool macOf(const std::uint8_t* stamp, std::uint8_t* out16);

  std::unique_ptr<detail::HmacSha256> hmac_;
  std::string realm_;
  std::string opaque_;
  std::int64_t lifetime_;
  std::uint32_t instance_ = 0;
  std::uint32_t nextSequence_ = 0;
};

}  // namespace duplex::registrar
