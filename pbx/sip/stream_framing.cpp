// Stream framing (RFC 3261 18.3): where one SIP message ends on a TCP/TLS
// byte stream. Only the header section is scanned, for Content-Length; the
// parser sees the framed bytes later. No allocation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

constexpr SipError kMissingLength{400, "Missing Content-Length"};
constexpr SipError kInvalidLength{400, "Invalid Content-Length"};
constexpr SipError kConflictingLength{400, "Conflicting Content-Length"};
constexpr SipError kTooLarge{513, "Message Too Large"};

bool isWsp(char c) {
  return c == ' ' || c == '\t';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool equalsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Content-Length = ("Content-Length" / "l") HCOLON 1*DIGIT (RFC 3261 20.14,
// 25.1). `value` runs from after the colon to the end of the header, folded
// continuation lines included, so LWS may hold CRLFs. Values above `cap` are
// saturated at cap + 1: the caller only needs "too large", and a huge digit
// string must not overflow (RFC 4475 3.1.2.3: never trust the number).
Result<std::size_t> parseLength(std::string_view value, std::size_t cap) {
  std::size_t i = 0;
  auto skipLws = [&] {
    while (i < value.size() && (isWsp(value[i]) || value[i] == '\r' || value[i] == '\n')) ++i;
  };
  skipLws();
  const std::size_t digits_start = i;
  std::size_t n = 0;
  bool over = false;
  while (i < value.size() && value[i] >= '0' && value[i] <= '9') {
    const auto digit = static_cast<std::size_t>(value[i] - '0');
    if (!over && digit <= cap && n <= (cap - digit) / 10) {
      n = n * 10 + digit;
    } else {
      over = true;
    }
    ++i;
  }
  if (over) n = cap < SIZE_MAX ? cap + 1 : cap;
  if (i == digits_start) return kInvalidLength;  // empty, negative or not a number
  skipLws();
  if (i != value.size()) return kInvalidLength;  // "5 5", "5, 5", "12abc"
  return n;
}

}  // namespace

Result<StreamFrame> frameStreamMessage(std::string_view stream, std::size_t max_message_size) {
  StreamFrame frame;
  // RFC 3261 7.5: CRLFs before the start line are ignored on streams; they are
  // the keep-alives of RFC 5626 4.4.1. Bare CR or LF is skipped too: neither
  // can start a start line.
  while (frame.skip < stream.size() && (stream[frame.skip] == '\r' || stream[frame.skip] == '\n')) {
    ++frame.skip;
  }
  const std::string_view msg = stream.substr(frame.skip);
  const std::size_t blank = msg.find("\r\n\r\n");
  if (blank == std::string_view::npos) {
    // A header section that fills the limit without ending can only be too large.
    if (msg.size() >= max_message_size) return kTooLarge;
    return frame;  // need more
  }
  const std::size_t head_length = blank + 4;
  if (head_length > max_message_size) return kTooLarge;

  // Header lines, each ending in CRLF; the start line is not a header.
  const std::string_view head = msg.substr(0, blank + 2);
  std::size_t pos = head.find("\r\n") + 2;
  bool have_length = false;
  std::size_t length = 0;
  while (pos < head.size()) {
    std::size_t eol = head.find("\r\n", pos);
    // A header ends at the first CRLF not followed by SP/HT (RFC 3261 7.3.1).
    std::size_t end = eol;
    while (end + 2 < head.size() && isWsp(head[end + 2])) end = head.find("\r\n", end + 2);
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty() || isWsp(line[0])) continue;  // not a header start (parser's concern)
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = line.substr(0, colon);
    while (!name.empty() && isWsp(name.back())) name.remove_suffix(1);
    if (!equalsNoCase(name, "content-length") && !equalsNoCase(name, "l")) continue;
    auto value = parseLength(line.substr(colon + 1), max_message_size);
    if (!value) return value.error();
    // RFC 4475 3.3.9 (mcl01): two different lengths make the framing unknowable.
    if (have_length && *value != length) return kConflictingLength;
    have_length = true;
    length = *value;
  }
  // RFC 3261 18.3: "In the case of stream-oriented transports such as TCP,
  // the Content-Length header field indicates the size of the body ... MUST
  // be used with stream oriented transports."
  if (!have_length) return kMissingLength;
  if (length > max_message_size - head_length) return kTooLarge;  // or saturated above
  if (msg.size() < head_length + length) return frame;            // need more
  frame.length = head_length + length;
  return frame;
}

}  // namespace duplex::sip
