// Message::parse: one pass over the bytes (RFC 3261 7, 7.3, 7.5, 18.3).
//
// Which checks live where (RFC 4475 verdicts):
//  * parse() rejects what makes the message unusable as a whole, so nothing
//    downstream sees it: start line (badvers 505, lwsstart, trws, ltgtruri,
//    lwsruri, escruri, bigcode, test.dat), header-line syntax (test.dat),
//    framing (clerr, ncl, mcl01: Content-Length), required headers Via,
//    From, To, Call-ID, CSeq (insuf), single-instance headers Call-ID, From,
//    To, CSeq, Max-Forwards (multi01) and the CSeq value itself, which the
//    transaction layer needs for every message (scalar02, scalarlg).
//  * Typed views (parse_views.cpp, headers.cpp) check the value of one header
//    when someone asks for it: Via (badinv01), From/To/Contact name-addr
//    (quotbal, badaspec, baddn, regbadct), Max-Forwards range, Expires and
//    contact expires (scalar02), Date (baddate) and the CSeq method against
//    the request method (mismatch01/02). The mismatch is left to cseq() so a
//    caller that first answers unknown methods with 501 (RFC 3261 8.2.1)
//    answers mismatch02 with 501 and mismatch01 with 400.
#include <cstring>

#include "pbx/sip/message.h"
#include "pbx/sip/scanner.h"

namespace duplex::sip {

namespace {

constexpr SipError kIncomplete{400, "Incomplete message"};
constexpr SipError kBadRequestLine{400, "Bad Request-Line"};
constexpr SipError kExtraSpaces{400, "Extra spaces in Request-Line"};
constexpr SipError kBadMethod{400, "Bad method"};
constexpr SipError kBadRequestUri{400, "Bad Request-URI"};
constexpr SipError kUriHeaders{400, "Headers not allowed in Request-URI"};
constexpr SipError kBadVersion{400, "Bad SIP version"};
constexpr SipError kVersionNotSupported{505, "Version Not Supported"};
constexpr SipError kBadStatusLine{400, "Bad Status-Line"};
constexpr SipError kBadStatusCode{400, "Bad status code"};
constexpr SipError kBadHeaderLine{400, "Malformed header line"};
constexpr SipError kBadFolding{400, "Bad header folding"};
constexpr SipError kBadContentLength{400, "Bad Content-Length"};
constexpr SipError kMultipleContentLength{400, "Multiple Content-Length values"};
constexpr SipError kBadCSeq{400, "Bad CSeq"};
constexpr SipError kBadCallId{400, "Bad Call-ID"};

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (RFC 3261 7.1, 25.1); only
// 2.0 is supported: any other well-formed version gets 505 (RFC 3261 21.5.6).
Result<std::string_view> checkVersion(std::string_view v) {
  if (v.size() < 7 || !scan::iequals(v.substr(0, 4), "SIP/")) return kBadVersion;
  const std::string_view num = v.substr(4);
  const std::size_t dot = num.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot + 1 == num.size()) return kBadVersion;
  for (std::size_t i = 0; i < num.size(); ++i) {
    if (i != dot && !scan::isDigit(num[i])) return kBadVersion;
  }
  if (num != "2.0") return kVersionNotSupported;
  return v;
}

struct HeaderCounts {
  int via = 0, from = 0, to = 0, call_id = 0, cseq = 0, max_forwards = 0, content_length = 0;
};

}  // namespace

class MessageParser {
 public:
  static Result<Message> parse(std::string bytes);

 private:
  // parse() into a default-constructed Message: nullopt or the error.
  static std::optional<SipError> parseInto(std::string bytes, Message& m);
  static std::optional<SipError> startLine(Message& m, std::string_view line);
  static std::optional<SipError> requestLine(Message& m, std::string_view line);
  static std::optional<SipError> statusLine(Message& m, std::string_view line);
};

Result<Message> Message::parse(std::string bytes) {
  return MessageParser::parse(std::move(bytes));
}

std::optional<SipError> MessageParser::requestLine(Message& m, std::string_view line) {
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF: exactly one SP
  // between elements (RFC 3261 7.1); extra SP is rejected (RFC 4475 3.1.2.9/10).
  const std::size_t sp1 = line.find(' ');
  const std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return kBadRequestLine;
  if (line.back() == ' ' || line[sp1 + 1] == ' ' || line[sp2 - 1] == ' ') return kExtraSpaces;
  m.method_token_ = line.substr(0, sp1);
  if (!scan::isTokenText(m.method_token_)) return kBadMethod;
  m.method_ = methodFromName(m.method_token_);
  auto version = checkVersion(line.substr(sp2 + 1));
  if (!version) return version.error();
  m.version_ = *version;
  m.request_uri_text_ = line.substr(sp1 + 1, sp2 - sp1 - 1);
  // SP or HTAB inside the URI (RFC 4475 3.1.2.8) is rejected by Uri::parse:
  // no URI part's character set admits them.
  if (Uri::parseInto(m.request_uri_text_, m.request_uri_)) return kBadRequestUri;
  // RFC 3261 19.1.1 (table): headers are not allowed in a Request-URI
  // (RFC 4475 3.1.2.11).
  if (!m.request_uri_.headers().empty()) return kUriHeaders;
  return std::nullopt;
}

std::optional<SipError> MessageParser::statusLine(Message& m, std::string_view line) {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF. The SP
  // before an empty reason is tolerated when missing (RFC 4475 3.1.1.13).
  const std::size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return kBadStatusLine;
  auto version = checkVersion(line.substr(0, sp));
  if (!version) return version.error();
  m.version_ = *version;
  const std::string_view rest = line.substr(sp + 1);
  // Status-Code = 3DIGIT, 100-699 (RFC 3261 7.2, 21); "4294967301" is
  // rejected before any arithmetic can overflow (RFC 4475 3.1.2.19).
  if (rest.size() < 3 || (rest.size() > 3 && rest[3] != ' ')) return kBadStatusCode;
  const auto code = scan::parseUnsigned(rest.substr(0, 3), 699);
  if (!code || *code < 100) return kBadStatusCode;
  m.is_request_ = false;
  m.status_ = static_cast<int>(*code);
  m.reason_ = rest.size() > 4 ? rest.substr(4) : std::string_view{};
  return std::nullopt;
}

std::optional<SipError> MessageParser::startLine(Message& m, std::string_view line) {
  if (line.size() >= 4 && scan::iequals(line.substr(0, 4), "SIP/")) return statusLine(m, line);
  return requestLine(m, line);
}

// Filled in place and returned as the one object: no move of the Message.
Result<Message> MessageParser::parse(std::string bytes) {
  Result<Message> r(std::in_place);
  if (auto err = parseInto(std::move(bytes), *r)) r = *err;
  return r;
}

std::optional<SipError> MessageParser::parseInto(std::string bytes, Message& m) {
  m.buffer_ = std::move(bytes);
  m.top_via_.reset();
  // Views point into buffer_, so its bytes must not live inside the string
  // object (small-string storage would move with the Message).
  if (m.buffer_.capacity() < 16) m.buffer_.reserve(16);
  const std::string_view data = m.buffer_;
  const char* const base = data.data();
  const std::size_t size = data.size();

  // RFC 3261 7.5: CRLFs before the start line are ignored.
  std::size_t pos = 0;
  while (pos < size && (data[pos] == '\r' || data[pos] == '\n')) ++pos;

  const char* const stop = base + size;
  auto findLf = [&](std::size_t from) -> std::size_t {
    if (from >= size) return std::string_view::npos;
    const char* p = scan::findByte(base + from, stop, '\n');
    return p == stop ? std::string_view::npos : static_cast<std::size_t>(p - base);
  };

  // Lines end in CRLF; a bare LF is tolerated (robustness), a bare CR is not
  // a line end.
  std::size_t lf = findLf(pos);
  if (lf == std::string_view::npos) return kIncomplete;
  std::string_view line = data.substr(pos, lf - pos);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return kIncomplete;
  if (auto err = startLine(m, line)) return *err;
  pos = lf + 1;

  // 24 x 40 bytes stays within glibc's per-thread cache (allocations <= 1032 bytes).
  m.headers_.reserve(24);
  HeaderCounts counts;
  std::optional<std::uint64_t> content_length;
  std::string_view cseq_value;
  std::string_view call_id_value;
  while (true) {
    if (pos >= size) break;  // datagram ended without the empty line: tolerated
    const char c = data[pos];
    if (c == '\n') {
      ++pos;
      break;
    }
    if (c == '\r' && pos + 1 < size && data[pos + 1] == '\n') {
      pos += 2;
      break;
    }
    if (c == ' ' || c == '\t') return kBadFolding;  // continuation with nothing to continue
    // field-name HCOLON field-value, HCOLON = *( SP / HTAB ) ":" SWS (RFC 3261 7.3.1).
    // The name is what precedes the first ':' less trailing SP/HTAB; a known
    // name matched exactly is a token, any other is checked octet by octet.
    const char* colon = scan::findByte(base + pos, stop, ':');
    if (colon == stop) return kBadHeaderLine;
    std::size_t name_end = static_cast<std::size_t>(colon - base);
    while (name_end > pos && (data[name_end - 1] == ' ' || data[name_end - 1] == '\t')) {
      --name_end;
    }
    const std::string_view name = data.substr(pos, name_end - pos);
    const HeaderId id = headerIdFromName(name);
    if (id == HeaderId::kOther && !scan::isTokenText(name)) return kBadHeaderLine;
    const std::size_t value_start = static_cast<std::size_t>(colon - base) + 1;
    // The field ends at the first line end not followed by SP/HTAB (folding).
    std::size_t end = findLf(value_start);
    while (end != std::string_view::npos && end + 1 < size &&
           (data[end + 1] == ' ' || data[end + 1] == '\t')) {
      end = findLf(end + 1);
    }
    if (end == std::string_view::npos) end = size;
    const std::string_view value = scan::trim(data.substr(value_start, end - value_start));
    pos = end + 1;

    m.headers_.push_back({id, name, value});
    switch (id) {
      case HeaderId::kVia:
        ++counts.via;
        break;
      case HeaderId::kFrom:
        ++counts.from;
        break;
      case HeaderId::kTo:
        ++counts.to;
        break;
      case HeaderId::kCallId:
        ++counts.call_id;
        call_id_value = value;
        break;
      case HeaderId::kCSeq:
        ++counts.cseq;
        cseq_value = value;
        break;
      case HeaderId::kMaxForwards:
        ++counts.max_forwards;
        break;
      case HeaderId::kContentLength: {
        // RFC 3261 20.14: 1*DIGIT; negative or non-numeric values make the
        // framing unrecoverable (RFC 4475 3.1.2.3); differing duplicates too
        // (3.3.9).
        ++counts.content_length;
        const auto n = scan::parseUnsigned(value, 0xFFFFFFFFu);
        if (!n) return kBadContentLength;
        if (content_length && *content_length != *n) return kMultipleContentLength;
        content_length = n;
        break;
      }
      default:
        break;
    }
  }

  // RFC 3261 8.1.1 / 8.2.2: a request (and, for the transaction layer, a
  // response) without these cannot be processed (RFC 4475 3.3.1).
  if (counts.call_id == 0) return SipError{400, "Missing Call-ID"};
  if (counts.cseq == 0) return SipError{400, "Missing CSeq"};
  if (counts.from == 0) return SipError{400, "Missing From"};
  if (counts.to == 0) return SipError{400, "Missing To"};
  if (counts.via == 0) return SipError{400, "Missing Via"};
  // RFC 3261 7.3.1: these are not list headers; a second line is an error
  // (RFC 4475 3.3.8).
  if (counts.call_id > 1) return SipError{400, "Multiple Call-ID headers"};
  if (counts.from > 1) return SipError{400, "Multiple From headers"};
  if (counts.to > 1) return SipError{400, "Multiple To headers"};
  if (counts.cseq > 1) return SipError{400, "Multiple CSeq headers"};
  if (counts.max_forwards > 1) return SipError{400, "Multiple Max-Forwards headers"};
  if (call_id_value.empty()) return kBadCallId;
  for (char ch : call_id_value) {
    if (scan::isWs(ch)) return kBadCallId;  // callid = word [ "@" word ]
  }
  auto cseq = CSeq::parse(cseq_value);
  if (!cseq) return kBadCSeq;
  m.cseq_ = *cseq;
  m.cseq_cached_ = true;

  // Body (RFC 3261 18.3): datagrams take Content-Length octets and ignore the
  // rest (RFC 4475 3.1.1.8); without Content-Length the rest of the datagram
  // (3.4.1). A Content-Length beyond the datagram is an error (3.1.2.2).
  if (pos > size) pos = size;
  const std::size_t available = size - pos;
  if (content_length) {
    if (*content_length > available) return kBadContentLength;
    m.body_ = data.substr(pos, static_cast<std::size_t>(*content_length));
  } else {
    m.body_ = data.substr(pos);
  }
  return std::nullopt;
}

}  // namespace duplex::sip
