// Digest maths; see digest.h.
#include "registrar/digest.h"

#include "registrar/digest_hasher.h"
#include "registrar/text.h"

namespace duplex::registrar {

std::string_view toString(DigestAlgorithm algorithm) {
  return algorithm == DigestAlgorithm::kMd5 ? "MD5" : "SHA-256";
}

namespace {

using detail::iequals;

std::string hexOf(DigestAlgorithm algorithm, const detail::DigestBytes& bytes) {
  std::string out(2 * detail::digestSize(algorithm), '\0');
  detail::toHex(std::span(bytes.data(), detail::digestSize(algorithm)), out.data());
  return out;
}

}  // namespace

std::optional<DigestAlgorithm> parseDigestAlgorithm(std::string_view token) {
  if (token.empty() || iequals(token, "MD5")) return DigestAlgorithm::kMd5;
  if (iequals(token, "SHA-256")) return DigestAlgorithm::kSha256;
  return std::nullopt;
}

std::string ha1(DigestAlgorithm algorithm, std::string_view user, std::string_view realm,
                std::string_view password) {
  detail::DigestHasher hasher;
  detail::DigestBytes bytes{};
  if (!hasher.hash(algorithm, {user, realm, password}, bytes)) return {};
  return hexOf(algorithm, bytes);
}

std::string computeResponse(DigestAlgorithm algorithm, std::string_view ha1Hex,
                            std::string_view nonce, std::string_view nc, std::string_view cnonce,
                            std::string_view qop, std::string_view method, std::string_view uri) {
  detail::DigestHasher hasher;
  detail::DigestBytes bytes{};
  if (!hasher.hash(algorithm, {method, uri}, bytes)) return {};
  std::string ha2 = hexOf(algorithm, bytes);
  if (!hasher.hash(algorithm, {ha1Hex, nonce, nc, cnonce, qop, ha2}, bytes)) return {};
  return hexOf(algorithm, bytes);
}

}  // namespace duplex::registrar
