// Stateless nonces; see nonce.h.
#include "registrar/nonce.h"

#include <cstring>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "registrar/digest_hasher.h"

namespace duplex::registrar {

namespace {

constexpr std::size_t kStampBytes = 16;  // issued (8) || instance (4) || sequence (4)
constexpr std::size_t kMacBytes = 16;
constexpr std::size_t kNonceBytes = kStampBytes + kMacBytes;
static_assert(NonceText::kLength == 2 * kNonceBytes);

std::span<const std::uint8_t> bytesOf(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

void putBigEndian(std::uint64_t value, std::uint8_t* out) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
}

std::uint64_t getBigEndian(const std::uint8_t* in, int bytes = 8) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = value << 8 | in[i];
  return value;
}

}  // namespace

NonceCodec::NonceCodec(std::span<const std::uint8_t> secret, std::string_view realm,
                       std::int64_t lifetimeSeconds)
    : realm_(realm), lifetime_(lifetimeSeconds) {
  if (secret.size() < kMinSecretBytes) {
    throw std::invalid_argument("digest nonce secret: need at least 16 bytes, got " +
                                std::to_string(secret.size()));
  }
  if (lifetimeSeconds <= 0) throw std::invalid_argument("digest nonce lifetime must be > 0");
  hmac_ = std::make_unique<detail::HmacSha256>(secret);
  std::array<std::uint8_t, 4> instance{};
  if (RAND_bytes(instance.data(), static_cast<int>(instance.size())) != 1) {
    throw std::runtime_error("digest nonce: RAND_bytes failed");
  }
  instance_ = static_cast<std::uint32_t>(getBigEndian(instance.data(), 4));
  detail::DigestBytes mac{};
  static constexpr std::string_view kOpaqueLabel = "opaque";
  if (!hmac_->mac({bytesOf(kOpaqueLabel), bytesOf(realm_)}, mac)) {
    throw std::runtime_error("digest nonce: HMAC-SHA-256 failed");
  }
  opaque_.resize(32);
  detail::toHex(std::span(mac.data(), 16), opaque_.data());
}

NonceCodec::~NonceCodec() = default;

bool NonceCodec::macOf(const std::uint8_t* stamp, std::uint8_t* out16) {
  detail::DigestBytes mac{};
  if (!hmac_->mac({std::span(stamp, kStampBytes), bytesOf(realm_)}, mac)) return false;
  std::memcpy(out16, mac.data(), kMacBytes);
  return true;
}

NonceText NonceCodec::issue(std::int64_t now) {
  std::array<std::uint8_t, kNonceBytes> raw{};
  putBigEndian(static_cast<std::uint64_t>(now), raw.data());
  putBigEndian(std::uint64_t{instance_} << 32 | nextSequence_++, raw.data() + 8);
  if (!macOf(raw.data(), raw.data() + kStampBytes)) {
    // Unverifiable nonce: the peer's answer will be kInvalid and re-challenged.
    std::memset(raw.data() + kStampBytes, 0, kMacBytes);
  }
  NonceText text;
  detail::toHex(raw, text.chars.data());
  return text;
}

NonceStatus NonceCodec::check(std::string_view nonce, std::int64_t now, NonceIdentity& identity) {
  std::array<std::uint8_t, kNonceBytes> raw{};
  if (!detail::fromHex(nonce, raw)) return NonceStatus::kInvalid;
  std::array<std::uint8_t, kMacBytes> expected{};
  if (!macOf(raw.data(), expected.data())) return NonceStatus::kInvalid;
  // RFC 7616 5.4: the server must not accept a nonce it did not issue.
  if (CRYPTO_memcmp(expected.data(), raw.data() + kStampBytes, kMacBytes) != 0) {
    return NonceStatus::kInvalid;
  }
  identity.issuedAt = static_cast<std::int64_t>(getBigEndian(raw.data()));
  identity.instance = static_cast<std::uint32_t>(getBigEndian(raw.data() + 8, 4));
  identity.sequence = static_cast<std::uint32_t>(getBigEndian(raw.data() + 12, 4));
  if (identity.issuedAt > now + kFutureSkewSeconds) return NonceStatus::kFuture;
  // RFC 7616 3.3: an expired nonce is answered with stale=true.
  if (now - identity.issuedAt > lifetime_) return NonceStatus::kExpired;
  if (identity.instance != instance_) return NonceStatus::kOtherInstance;
  return NonceStatus::kValid;
}

}  // namespace duplex::registrar
