#include "admin/password_policy.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace duplex::admin {
namespace {

// Lower-cased stems of the most used passwords (public breach lists), long
// enough that with digits appended they would reach the minimum length.
constexpr std::array<std::string_view, 40> kCommon = {
    "password", "passw0rd", "qwerty",           "qwertyuiop", "123456789012",  "1234567890",
    "letmein",  "welcome",  "iloveyou",         "admin",      "administrator", "changeme",
    "trustno1", "football", "baseball",         "monkey",     "dragon",        "sunshine",
    "princess", "superman", "starwars",         "whatever",   "qazwsxedc",     "asdfghjkl",
    "zxcvbnm",  "abc123",   "abcdefghijkl",     "secret",     "master",        "shadow",
    "michael",  "jennifer", "passwordpassword", "qwerty123",  "1q2w3e4r5t6y",  "voip",
    "asterisk", "freepbx",  "telephone",        "phone"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<std::string> weakPasswordReason(std::string_view password, std::string_view number) {
  if (password.size() < kMinSipPasswordLength) {
    return "must be at least " + std::to_string(kMinSipPasswordLength) + " characters long (has " +
           std::to_string(password.size()) + ")";
  }
  if (password.size() > kMaxSipPasswordLength) {
    return "must be at most " + std::to_string(kMaxSipPasswordLength) + " characters long";
  }
  bool lowerCase = false, upperCase = false, digit = false, other = false;
  for (char c : password) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return "must not contain control characters";
    lowerCase |= std::islower(u) != 0;
    upperCase |= std::isupper(u) != 0;
    digit |= std::isdigit(u) != 0;
    other |= !std::isalnum(u);
  }
  if (lowerCase + upperCase + digit + other < 2) {
    return "must mix at least two kinds of characters (lower case, upper case, digits, others)";
  }
  if (number.size() >= 3 && password.find(number) != std::string_view::npos) {
    return "must not contain the extension number";
  }
  // A common password with digits or symbols appended ("password2024!") is
  // as guessable as the stem.
  const std::string folded = lower(password);
  std::string stem = folded;
  while (!stem.empty() && !std::isalpha(static_cast<unsigned char>(stem.back()))) stem.pop_back();
  for (std::string_view common : kCommon) {
    if (folded == common || stem == common) return "is a commonly used password";
  }
  if (std::all_of(folded.begin(), folded.end(), [&](char c) { return c == folded.front(); })) {
    return "must not repeat one character";
  }
  return std::nullopt;
}

}  // namespace duplex::admin
