// Internal to registrar/: the OpenSSL EVP contexts that digest authentication
// hashes with, fetched once and reused so that a verification allocates
// nothing. For: digest.cpp, nonce.cpp, digest_authenticator.cpp. Thread: one
// object per owner; not thread-safe (the SIP loop owns its authenticator).
//
// Errors: the constructor throws std::runtime_error if libcrypto lacks MD5,
// SHA-256 or HMAC (e.g. a FIPS-only provider without MD5) — a start-up error.
// The hashing calls cannot fail for in-memory input; should OpenSSL report a
// failure anyway they return false, and every caller then rejects (fails
// closed).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

#include "registrar/digest.h"

using EVP_MD_CTX = struct evp_md_ctx_st;
using EVP_MD = struct evp_md_st;
using EVP_MAC = struct evp_mac_st;
using EVP_MAC_CTX = struct evp_mac_ctx_st;

namespace duplex::registrar::detail {

inline constexpr std::size_t kMaxDigestBytes = 32;  // SHA-256
using DigestBytes = std::array<std::uint8_t, kMaxDigestBytes>;

// Bytes of a digest: 16 for MD5, 32 for SHA-256 (RFC 7616 3.2).
constexpr std::size_t digestSize(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5 ? 16 : 32;
}

// Lowercase hex of `bytes` into `out` (2 * bytes.size() chars).
void toHex(std::span<const std::uint8_t> bytes, char* out);
// Decodes exactly out.size() bytes from 2 * out.size() hex digits (either
// case). False, with `out` unspecified, on any other input.
bool fromHex(std::string_view hex, std::span<std::uint8_t> out);

class DigestHasher {
 public:
  DigestHasher();
  ~DigestHasher();
  DigestHasher(const DigestHasher&) = delete;
  DigestHasher& operator=(const DigestHasher&) = delete;

  // H(parts[0] ":" parts[1] ":" ...) — the colon-joined form every digest
  // input takes (RFC 7616 3.4.1, 3.4.2, 3.4.3), hashed without building the
  // joined string. Writes digestSize(algorithm) bytes; false on failure.
  bool hash(DigestAlgorithm algorithm, std::initializer_list<std::string_view> parts,
            DigestBytes& out);

 private:
  EVP_MD_CTX* ctx_ = nullptr;
  EVP_MD* md5_ = nullptr;
  EVP_MD* sha256_ = nullptr;
};

// HMAC-SHA-256 under one key (RFC 2104), re-initialised per message without
// re-deriving the key pads.
class HmacSha256 {
 public:
  explicit HmacSha256(std::span<const std::uint8_t> key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // MAC over the concatenation of `parts` (no separators: callers feed
  // fixed-size fields or length-prefix what varies).
  // False on failure.
  bool mac(std::initializer_list<std::span<const std::uint8_t>> parts, DigestBytes& out);

 private:
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
};

}  // namespace duplex::registrar::detail
