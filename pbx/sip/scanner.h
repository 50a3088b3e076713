// Character classes and small scanning primitives shared by the SIP parsers
// (RFC 3261 25.1). Internal to pbx/sip. Pure functions; any thread.
//
// Nothing here allocates, throws or reads outside the view it is given.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace duplex::sip::scan {

enum CharClass : std::uint8_t {
  kToken = 1 << 0,       // token (RFC 3261 25.1)
  kDigit = 1 << 1,       // DIGIT
  kHex = 1 << 2,         // HEXDIG
  kAlpha = 1 << 3,       // ALPHA
  kUnreserved = 1 << 4,  // alphanum / mark
  kWs = 1 << 5,          // SP / HTAB / CR / LF (LWS once folding is kept)
  kHostChar = 1 << 6,    // alphanum / "-" / "." (hostname, IPv4)
};

constexpr std::array<std::uint8_t, 256> makeTable() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t v = 0;
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (digit) v |= kDigit;
    if (alpha) v |= kAlpha;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    // token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
    if (digit || alpha ||
        std::string_view("-.!%*_+`'~").find(static_cast<char>(c)) != std::string_view::npos) {
      v |= kToken;
    }
    // unreserved = alphanum / mark; mark = "-" / "_" / "." / "!" / "~" / "*" / "'" / "(" / ")"
    if (digit || alpha ||
        std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos) {
      v |= kUnreserved;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') v |= kWs;
    if (digit || alpha || c == '-' || c == '.') v |= kHostChar;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kTable = makeTable();

constexpr bool is(char c, std::uint8_t cls) {
  return (kTable[static_cast<unsigned char>(c)] & cls) != 0;
}
constexpr bool isToken(char c) {
  return is(c, kToken);
}
constexpr bool isDigit(char c) {
  return is(c, kDigit);
}
constexpr bool isHex(char c) {
  return is(c, kHex);
}
constexpr bool isAlpha(char c) {
  return is(c, kAlpha);
}
constexpr bool isWs(char c) {
  return is(c, kWs);
}

constexpr char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // Equal octets, or the same letter in the other case (bit 0x20).
    if (a[i] != b[i] && ((a[i] ^ b[i]) != 0x20 || !isAlpha(a[i]))) return false;
  }
  return true;
}

// Leading/trailing LWS (folding included: CR and LF count as white space once
// a header value has been cut out of the message, RFC 3261 7.3.1).
constexpr std::string_view trimLeft(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size() && isWs(s[i])) ++i;
  return s.substr(i);
}
constexpr std::string_view trimRight(std::string_view s) {
  std::size_t n = s.size();
  while (n > 0 && isWs(s[n - 1])) --n;
  return s.substr(0, n);
}
constexpr std::string_view trim(std::string_view s) {
  return trimRight(trimLeft(s));
}

constexpr bool allOf(std::string_view s, std::uint8_t cls) {
  for (char c : s) {
    if (!is(c, cls)) return false;
  }
  return true;
}
constexpr bool isTokenText(std::string_view s) {
  return !s.empty() && allOf(s, kToken);
}

// 1*DIGIT as an unsigned value no larger than `max`; leading zeros allowed
// (RFC 3261 7.3.1 "0009" is 9). Rejects empty text, non-digits and overflow.
constexpr std::optional<std::uint64_t> parseUnsigned(std::string_view s, std::uint64_t max) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (!isDigit(c)) return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
    if (v > max) return std::nullopt;  // checked every digit: no wrap-around
  }
  return v;
}

constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return lower(c) - 'a' + 10;
}

// Index of the first `ch` in `s` outside quoted strings (with quoted-pairs)
// and angle brackets, or npos. Used to split lists and parameters.
constexpr std::size_t findOutside(std::string_view s, char ch, std::size_t from = 0) {
  // Fast paths (memchr): no `ch` at all, or no quote and no '<' to track.
  const std::size_t plain = s.find(ch, from);
  if (plain == std::string_view::npos) return plain;
  if (s.find('"', from) == std::string_view::npos && s.find('<', from) == std::string_view::npos) {
    return plain;
  }
  bool quoted = false;
  bool angle = false;
  for (std::size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (angle) {  // inside <...> only '>' matters (URIs carry no quotes)
      if (c == '>') angle = false;
    } else if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '<') {
      angle = true;
    } else if (c == ch) {
      return i;
    }
  }
  return std::string_view::npos;
}

// First `ch` in [p, end), or end. Inline and 16 octets a step: header lines
// are short, so this beats a memchr call. Never reads outside [p, end).
inline const char* findByte(const char* p, const char* end, char ch) {
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(ch);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int hits = _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, needle));
    if (hits != 0) return p + __builtin_ctz(static_cast<unsigned>(hits));
    p += 16;
  }
#endif
  while (p < end && *p != ch) ++p;
  return p;
}

// First `a` or `b` in [p, end), or end; as findByte.
inline const char* findEither(const char* p, const char* end, char a, char b) {
#if defined(__SSE2__)
  const __m128i na = _mm_set1_epi8(a);
  const __m128i nb = _mm_set1_epi8(b);
  while (end - p >= 16) {
    const __m128i chunk = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int hits =
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(chunk, na), _mm_cmpeq_epi8(chunk, nb)));
    if (hits != 0) return p + __builtin_ctz(static_cast<unsigned>(hits));
    p += 16;
  }
#endif
  while (p < end && *p != a && *p != b) ++p;
  return p;
}

}  // namespace duplex::sip::scan
