// OpenSSL EVP wrappers for digest authentication; see digest_hasher.h.
#include "registrar/digest_hasher.h"

#include <cstring>
#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

namespace duplex::registrar::detail {

void toHex(std::span<const std::uint8_t> bytes, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::uint8_t b : bytes) {
    *out++ = kDigits[b >> 4];
    *out++ = kDigits[b & 0x0f];
  }
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool fromHex(std::string_view hex, std::span<std::uint8_t> out) {
  if (hex.size() != 2 * out.size()) return false;
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = hexValue(hex[2 * i]);
    int lo = hexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

DigestHasher::DigestHasher()
    : ctx_(EVP_MD_CTX_new()),
      md5_(EVP_MD_fetch(nullptr, "MD5", nullptr)),
      sha256_(EVP_MD_fetch(nullptr, "SHA2-256", nullptr)) {
  if (ctx_ == nullptr || md5_ == nullptr || sha256_ == nullptr) {
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md5_);
    EVP_MD_free(sha256_);
    throw std::runtime_error("digest authentication: libcrypto offers no MD5 or SHA-256");
  }
}

DigestHasher::~DigestHasher() {
  EVP_MD_CTX_free(ctx_);
  EVP_MD_free(md5_);
  EVP_MD_free(sha256_);
}

bool DigestHasher::hash(DigestAlgorithm algorithm, std::initializer_list<std::string_view> parts,
                        DigestBytes& out) {
  const std::size_t size = digestSize(algorithm);
  bool ok =
      EVP_DigestInit_ex2(ctx_, algorithm == DigestAlgorithm::kMd5 ? md5_ : sha256_, nullptr) == 1;
  bool first = true;
  for (std::string_view part : parts) {
    if (!first) ok = ok && EVP_DigestUpdate(ctx_, ":", 1) == 1;
    first = false;
    ok = ok && EVP_DigestUpdate(ctx_, part.data(), part.size()) == 1;
  }
  unsigned int written = 0;
  ok = ok && EVP_DigestFinal_ex(ctx_, out.data(), &written) == 1 && written == size;
  return ok;
}

HmacSha256::HmacSha256(std::span<const std::uint8_t> key)
    : mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)) {
  if (mac_ != nullptr) ctx_ = EVP_MAC_CTX_new(mac_);
  char digestName[] = "SHA2-256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digestName, 0),
                         OSSL_PARAM_construct_end()};
  if (ctx_ == nullptr || EVP_MAC_init(ctx_, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx_);
    EVP_MAC_free(mac_);
    throw std::runtime_error("digest authentication: libcrypto offers no HMAC-SHA-256");
  }
}

HmacSha256::~HmacSha256() {
  EVP_MAC_CTX_free(ctx_);
  EVP_MAC_free(mac_);
}

bool HmacSha256::mac(std::initializer_list<std::span<const std::uint8_t>> parts, DigestBytes& out) {
  // A null key re-initialises with the key already set (OpenSSL 3 HMAC).
  bool ok = EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1;
  for (auto part : parts) ok = ok && EVP_MAC_update(ctx_, part.data(), part.size()) == 1;
  std::size_t written = 0;
  return ok && EVP_MAC_final(ctx_, out.data(), &written, out.size()) == 1 && written == out.size();
}

}  // namespace duplex::registrar::detail
