#include "pbx/app/value_syntax.h"

#include <arpa/inet.h>

#include <array>
#include <cctype>
#include <charconv>
#include <limits>

namespace duplex::app {
namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "500ms" into 500 and "ms" (blanks allowed between).
bool splitNumberUnit(std::string_view text, std::int64_t& number, std::string& unit) {
  text = trim(text);
  std::size_t i = 0;
  while (i < text.size() && isDigit(text[i])) ++i;
  if (i == 0) return false;
  auto n = parseInteger(text.substr(0, i));
  if (!n) return false;
  number = *n;
  unit = lower(trim(text.substr(i)));
  return true;
}

bool multiply(std::int64_t a, std::int64_t b, std::int64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::int64_t>::max() / a) return false;
  out = a * b;
  return true;
}

}  // namespace

std::string_view trim(std::string_view text) {
  constexpr std::string_view kBlank = " \t\r\n\f\v";
  const auto first = text.find_first_not_of(kBlank);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kBlank);
  return text.substr(first, last - first + 1);
}

std::optional<std::int64_t> parseInteger(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

bool isIpv6Literal(std::string_view text) {
  if (text.find(':') == std::string_view::npos) return false;
  std::array<unsigned char, 16> bytes{};
  return inet_pton(AF_INET6, std::string(text).c_str(), bytes.data()) == 1;
}

bool isIpLiteral(std::string_view text) {
  if (isIpv6Literal(text)) return true;
  std::array<unsigned char, 4> bytes{};
  // inet_pton (unlike inet_aton) takes only the dotted-quad form.
  return inet_pton(AF_INET, std::string(text).c_str(), bytes.data()) == 1;
}

bool isHostname(std::string_view text) {
  if (text.empty() || text.size() > 253) return false;
  bool last_label_numeric = true;
  std::size_t start = 0;
  while (true) {
    const auto dot = text.find('.', start);
    const auto label =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    last_label_numeric = true;
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
      if (!isDigit(c)) last_label_numeric = false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !last_label_numeric;
}

std::optional<Cidr> parseCidr(std::string_view text, std::string& why) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    why = "has no /prefix";
    return std::nullopt;
  }
  const std::string address(trim(text.substr(0, slash)));
  const auto prefix = parseInteger(trim(text.substr(slash + 1)));
  std::array<unsigned char, 16> bytes{};
  int family = AF_INET;
  std::size_t size = 4;
  if (address.find(':') != std::string::npos) {
    family = AF_INET6;
    size = 16;
  }
  if (inet_pton(family, address.c_str(), bytes.data()) != 1) {
    why = "'" + address + "' is not an IP address";
    return std::nullopt;
  }
  const auto max_prefix = static_cast<std::int64_t>(size * 8);
  if (!prefix || *prefix < 0 || *prefix > max_prefix) {
    why = "the prefix must be 0-" + std::to_string(max_prefix);
    return std::nullopt;
  }
  // Host bits must be zero: "192.168.1.5/24" is most likely a typo.
  auto network = bytes;
  for (std::size_t bit = static_cast<std::size_t>(*prefix); bit < size * 8; ++bit) {
    network[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  }
  std::array<char, INET6_ADDRSTRLEN> buffer{};
  inet_ntop(family, network.data(), buffer.data(), buffer.size());
  Cidr cidr{buffer.data(), static_cast<unsigned>(*prefix)};
  if (network != bytes) {
    why = "has host bits set (did you mean " + cidr.toString() + "?)";
    return std::nullopt;
  }
  return cidr;
}

std::string Cidr::toString() const {
  return address + "/" + std::to_string(prefix);
}

std::optional<std::int64_t> parseDurationMs(std::string_view text, DurationUnit unit) {
  std::int64_t number = 0;
  std::string suffix;
  if (!splitNumberUnit(text, number, suffix)) return std::nullopt;
  std::int64_t factor = 0;
  if (suffix.empty()) {
    factor = unit == DurationUnit::kSeconds ? 1000 : 1;
  } else if (suffix == "ms") {
    factor = 1;
  } else if (suffix == "s") {
    factor = 1000;
  } else if (suffix == "m" || suffix == "min") {
    factor = 60'000;
  } else if (suffix == "h") {
    factor = 3'600'000;
  } else {
    return std::nullopt;
  }
  std::int64_t ms = 0;
  if (!multiply(number, factor, ms)) return std::nullopt;
  return ms;
}

std::string formatDuration(std::int64_t ms) {
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::optional<std::int64_t> parseSize(std::string_view text) {
  std::int64_t number = 0;
  std::string suffix;
  if (!splitNumberUnit(text, number, suffix)) return std::nullopt;
  if (suffix.size() > 1 && suffix.back() == 'b') suffix.pop_back();  // "MB"
  if (suffix.size() > 1 && suffix.back() == 'i') suffix.pop_back();  // "MiB"
  std::int64_t factor = 0;
  if (suffix.empty()) {
    factor = 1;
  } else if (suffix == "k") {
    factor = 1024;
  } else if (suffix == "m") {
    factor = std::int64_t{1024} * 1024;
  } else if (suffix == "g") {
    factor = std::int64_t{1024} * 1024 * 1024;
  } else {
    return std::nullopt;
  }
  std::int64_t bytes = 0;
  if (!multiply(number, factor, bytes)) return std::nullopt;
  return bytes;
}

std::string formatSize(std::int64_t bytes) {
  constexpr std::int64_t kK = 1024;
  if (bytes != 0 && bytes % (kK * kK * kK) == 0)
    return std::to_string(bytes / (kK * kK * kK)) + "G";
  if (bytes != 0 && bytes % (kK * kK) == 0) return std::to_string(bytes / (kK * kK)) + "M";
  if (bytes != 0 && bytes % kK == 0) return std::to_string(bytes / kK) + "K";
  return std::to_string(bytes);
}

}  // namespace duplex::app
