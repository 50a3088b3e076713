#include "admin/password_hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include <Poco/Base64Decoder.h>
#include <Poco/Base64Encoder.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace duplex::admin {
namespace {

constexpr std::string_view kScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;

std::vector<unsigned char> randomBytes(std::size_t size) {
  std::vector<unsigned char> bytes(size);
  std::size_t filled = 0;
  while (filled < size) {
    const ssize_t n = getrandom(bytes.data() + filled, size - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("getrandom failed: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(n);
  }
  return bytes;
}

std::string base64(const std::vector<unsigned char>& bytes, int options = 0) {
  std::ostringstream out;
  Poco::Base64Encoder encoder(out, options);
  encoder.rdbuf()->setLineLength(0);
  encoder.write(reinterpret_cast<const char*>(bytes.data()),
                static_cast<std::streamsize>(bytes.size()));
  encoder.close();
  return out.str();
}

std::vector<unsigned char> unbase64(std::string_view text) {
  std::istringstream in{std::string(text)};
  Poco::Base64Decoder decoder(in);
  std::vector<unsigned char> out;
  char c;
  while (decoder.get(c)) out.push_back(static_cast<unsigned char>(c));
  return out;
}

std::vector<unsigned char> derive(std::string_view password, const std::vector<unsigned char>& salt,
                                  int iterations) {
  std::vector<unsigned char> key(kKeyBytes);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(key.size()), key.data()) != 1) {
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  }
  return key;
}

std::string digestHex(const EVP_MD* md, std::string_view text) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), out, &size, md, nullptr) != 1) {
    throw std::runtime_error("EVP_Digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    hex.push_back(kHex[out[i] >> 4]);
    hex.push_back(kHex[out[i] & 0xf]);
  }
  return hex;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == text.npos ? text.npos : end - start));
    if (end == text.npos) return parts;
    start = end + 1;
  }
}

}  // namespace

std::string hashPassword(std::string_view password, int iterations) {
  if (iterations < 1) throw std::invalid_argument("iterations must be positive");
  const auto salt = randomBytes(kSaltBytes);
  const auto key = derive(password, salt, iterations);
  return std::string(kScheme) + "$" + std::to_string(iterations) + "$" + base64(salt) + "$" +
         base64(key);
}

bool verifyPassword(std::string_view password, std::string_view stored) {
  const auto parts = split(stored, '$');
  if (parts.size() != 4 || parts[0] != kScheme) return false;
  int iterations = 0;
  const auto [end, ec] =
      std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || iterations < 1 ||
      iterations > 100000000) {
    return false;
  }
  try {
    const auto salt = unbase64(parts[2]);
    const auto expected = unbase64(parts[3]);
    if (salt.empty() || expected.size() != kKeyBytes) return false;
    const auto actual = derive(password, salt, iterations);
    return CRYPTO_memcmp(actual.data(), expected.data(), kKeyBytes) == 0;
  } catch (const std::exception&) {
    return false;
  }
}

std::string generatePassword(std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  if (length < 3) throw std::invalid_argument("a generated password needs 3 characters or more");
  while (true) {
    // 256 % 57 != 0: reject the top bytes so every character is equally likely.
    constexpr unsigned kLimit = 256 - 256 % kAlphabet.size();
    std::string password;
    while (password.size() < length) {
      for (unsigned char b : randomBytes(length * 2)) {
        if (b >= kLimit) continue;
        password.push_back(kAlphabet[b % kAlphabet.size()]);
        if (password.size() == length) break;
      }
    }
    bool lower = false, upper = false, digit = false;
    for (char c : password) {
      lower |= c >= 'a' && c <= 'z';
      upper |= c >= 'A' && c <= 'Z';
      digit |= c >= '0' && c <= '9';
    }
    if (lower && upper && digit) return password;
  }
}

std::string generateToken(std::string_view prefix) {
  std::string text = base64(randomBytes(32), Poco::BASE64_URL_ENCODING | Poco::BASE64_NO_PADDING);
  return std::string(prefix) + text;
}

std::string sha256Hex(std::string_view text) {
  return digestHex(EVP_sha256(), text);
}

std::string md5Hex(std::string_view text) {
  return digestHex(EVP_md5(), text);
}

Ha1Pair digestHa1(std::string_view user, std::string_view realm, std::string_view password) {
  std::string input;
  input.append(user).append(":").append(realm).append(":").append(password);
  return {md5Hex(input), sha256Hex(input)};
}

}  // namespace duplex::admin
