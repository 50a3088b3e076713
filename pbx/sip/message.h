// SIP message model (RFC 3261 7): requests and responses, headers in their
// received order, typed access to the headers the PBX reads.
//
// For: the transport, transaction and call layers. Thread: a Message is a
// plain value owned by one thread at a time (the SIP loop); no locking inside.
//
// Zero-copy: a parsed Message owns the datagram bytes and its header names and
// values are views into them. Values added or changed later are owned by the
// Message too, so every string_view handed out stays valid for the Message's
// lifetime (moves included), until that header is removed or replaced.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pbx/sip/error.h"
#include "pbx/sip/headers.h"
#include "pbx/sip/uri.h"

namespace duplex::sip {

enum class Method : std::uint8_t {
  kUnknown,
  kInvite,
  kAck,
  kBye,
  kCancel,
  kOptions,
  kRegister,
  kPrack,
  kUpdate,
  kInfo,
  kMessage,
  kSubscribe,
  kNotify,
  kRefer,
  kPublish,
};

// Method from its token; methods are case-sensitive (RFC 3261 7.1).
Method methodFromName(std::string_view token);
std::string_view methodName(Method m);  // "" for kUnknown

enum class Transport : std::uint8_t { kUdp, kTcp, kTls };
std::string_view transportName(Transport t);  // "UDP", "TCP", "TLS"

// An IP endpoint as text plus port; IPv6 without brackets.
struct Endpoint {
  std::string ip;
  std::uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
  std::string toString() const;  // "1.2.3.4:5060" or "[::1]:5060"
};

// Where a received message came from (RFC 3261 18.2.1; RFC 3581).
struct Origin {
  Transport transport = Transport::kUdp;
  Endpoint local;                   // the address:port it arrived on
  Endpoint source;                  // the packet's real source
  std::uint64_t connection_id = 0;  // stream transports: the connection; 0 for UDP
};

// Known header names, compact forms folded in (RFC 3261 7.3.3, 20).
enum class HeaderId : std::uint8_t {
  kOther,
  kAccept,
  kAcceptEncoding,
  kAcceptLanguage,
  kAllow,
  kAuthorization,
  kCallId,
  kContact,
  kContentDisposition,
  kContentEncoding,
  kContentLength,
  kContentType,
  kCSeq,
  kDate,
  kEvent,
  kExpires,
  kFrom,
  kMaxForwards,
  kMinExpires,
  kProxyAuthenticate,
  kProxyAuthorization,
  kProxyRequire,
  kRecordRoute,
  kReferTo,
  kRequire,
  kRoute,
  kServer,
  kSubject,
  kSupported,
  kTo,
  kUnsupported,
  kUserAgent,
  kVia,
  kWarning,
  kWwwAuthenticate,
  kRSeq,
  kRAck,
  kSessionExpires,
  kMinSE,
  kPath,
  kCount_,  // not a header
};

// Case-insensitive lookup, compact forms included ("i" -> kCallId, "v" -> kVia...).
HeaderId headerIdFromName(std::string_view name);
std::string_view canonicalHeaderName(HeaderId id);  // "Call-ID", "Via", ...
// True for headers whose values form a comma-separated list (Via, Contact,
// Route, Record-Route, Allow, Supported, Require, ...), false for headers such
// as Authorization, Date or unknown headers, which are never split.
bool isListHeader(HeaderId id);

struct Header {
  HeaderId id = HeaderId::kOther;
  std::string_view name;   // as received (or canonical for headers we add)
  std::string_view value;  // trimmed, line folding kept as received
};

class Message {
 public:
  Message();
  ~Message();
  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  Message(const Message&) = delete;
  Message& operator=(const Message&) = delete;
  Message clone() const;

  // --- parsing (pbx/sip/parser.cpp) ---
  // Parses one message. For datagrams the whole buffer is one message and a
  // body longer than Content-Length is cut (RFC 3261 18.3); a shorter one is
  // an error. Never throws; a failure carries the status and reason to answer
  // with (400 "Missing Call-ID", 505 "Version Not Supported", ...).
  // parse() checks the start line, header-line syntax, framing
  // (Content-Length), the presence of Via/From/To/Call-ID/CSeq, single
  // instances of Call-ID/From/To/CSeq/Max-Forwards and the CSeq value. The
  // other header values are checked by the typed views below when asked;
  // cseq() also checks a request's CSeq method against its method (so a
  // caller can answer an unknown method with 501 first). See parser.cpp.
  static Result<Message> parse(std::string bytes);

  // --- building ---
  static Message request(Method method, std::string_view request_uri);
  static Message request(std::string_view method_token, std::string_view request_uri);
  static Message response(int status, std::string_view reason);
  // A response to `req` per RFC 3261 8.2.6.2: Via (all), From, To, Call-ID and
  // CSeq copied; a To tag is added when `to_tag` is not empty and To has none.
  // "Content-Length: 0" is added so the response frames on streams too.
  static Message responseTo(const Message& req, int status, std::string_view reason,
                            std::string_view to_tag = {});

  // --- start line ---
  bool isRequest() const { return is_request_; }
  bool isResponse() const { return !is_request_; }
  Method method() const { return method_; }  // requests
  std::string_view methodToken() const { return method_token_; }
  std::string_view requestUriText() const { return request_uri_text_; }
  const Uri& requestUri() const { return request_uri_; }
  void setRequestUri(std::string_view uri_text);
  int statusCode() const { return status_; }  // responses
  std::string_view reasonPhrase() const { return reason_; }

  // --- headers ---
  const std::vector<Header>& headers() const { return headers_; }
  // First header line with this id / name (case-insensitive, compact forms
  // folded), or nullopt.
  std::optional<std::string_view> header(HeaderId id) const;
  std::optional<std::string_view> header(std::string_view name) const;
  std::size_t headerLineCount(HeaderId id) const;
  // Every value of a header: all its lines, and for list headers each line
  // split at commas outside quotes and angle brackets.
  std::vector<std::string_view> headerValues(HeaderId id) const;
  std::vector<std::string_view> headerValues(std::string_view name) const;

  void addHeader(std::string_view name, std::string_view value);      // at the end
  void prependHeader(std::string_view name, std::string_view value);  // first (Via)
  // Replaces every line of the header with one line holding `value`
  // (at the position of the first one), or adds it when absent.
  void setHeader(std::string_view name, std::string_view value);
  std::size_t removeHeader(std::string_view name);  // all lines; returns count
  void removeFirstHeader(HeaderId id);

  // --- typed views; each parses on demand and reports what is wrong ---
  Result<Via> topVia() const;
  Result<std::vector<Via>> vias() const;
  // What vias() would report, without building the list (every request's
  // stateless check runs it). nullopt when every Via is well-formed.
  std::optional<SipError> checkVias() const;
  Result<NameAddr> from() const;
  Result<NameAddr> to() const;
  Result<CSeq> cseq() const;
  std::optional<std::string_view> callId() const { return header(HeaderId::kCallId); }
  Result<std::optional<std::uint32_t>> maxForwards() const;  // nullopt when absent
  Result<std::optional<std::uint32_t>> expires() const;      // Expires header
  Result<ContactList> contacts() const;
  Result<std::vector<NameAddr>> routes() const;
  Result<std::vector<NameAddr>> recordRoutes() const;
  Result<std::optional<std::uint32_t>> contentLength() const;  // nullopt when absent
  std::optional<std::string_view> contentType() const { return header(HeaderId::kContentType); }
  std::vector<Credentials> authorizations() const;  // Authorization lines
  std::vector<Credentials> proxyAuthorizations() const;
  std::vector<Challenge> wwwAuthenticates() const;
  std::vector<Challenge> proxyAuthenticates() const;
  std::vector<std::string_view> optionTags(HeaderId id) const;  // Require, Supported...
  // Date header (RFC 3261 20.17): rfc1123-date whose zone must be "GMT";
  // nullopt when absent, 400 "Bad Date" otherwise (RFC 4475 3.1.2.12).
  Result<std::optional<std::string_view>> date() const;

  // --- body ---
  std::string_view body() const { return body_; }
  // Sets the body and Content-Type, and Content-Length to match.
  void setBody(std::string_view content_type, std::string_view body);

  // --- transport facts (received messages only) ---
  const std::optional<Origin>& origin() const { return origin_; }
  void setOrigin(Origin o) { origin_ = std::move(o); }

  // --- serializing (pbx/sip/serializer.cpp) ---
  // Start line, each header as "Name: value" CRLF in order, empty line, body.
  // Content-Length is written as stored; setBody() keeps it right.
  std::string serialize() const;
  void serializeTo(std::string& out) const;

 private:
  friend class MessageParser;
  std::string_view own(std::string_view text);  // copies into owned storage
  void reserveOwned(std::size_t bytes);         // room for `bytes` more, one block
  bool ownsText(std::string_view v) const;      // v lies in an owned block

  // Text the Message owns beyond the received bytes: a chain of blocks sized
  // to need (small first, then doubling), never moved, so views stay valid.
  struct OwnedBlock;
  struct OwnedText {
    OwnedBlock* head = nullptr;  // newest block; each links to the older one
    OwnedText() = default;
    OwnedText(OwnedText&& o) noexcept : head(std::exchange(o.head, nullptr)) {}
    OwnedText& operator=(OwnedText&& o) noexcept;
    ~OwnedText();
  };

  std::string buffer_;  // received bytes (always heap-held); views point here
  OwnedText owned_;
  bool is_request_ = true;
  Method method_ = Method::kUnknown;
  std::string_view method_token_;
  std::string_view request_uri_text_;
  Uri request_uri_;
  std::string_view version_;
  int status_ = 0;
  std::string_view reason_;
  std::vector<Header> headers_;
  // CSeq as parse() checked it (the transaction layer and the request checks
  // read it for every message); dropped when a CSeq line is edited.
  CSeq cseq_;
  bool cseq_cached_ = false;
  // The top Via as topVia() parsed it (the endpoint, the request checks, the
  // transaction layer and the registrar each ask for it); dropped when a Via
  // line is edited. Its views point into buffer_ or owned text, which never
  // move while the Message lives, moves included.
  mutable std::optional<Result<Via>> top_via_;
  std::string_view body_;
  std::optional<Origin> origin_;
};

// Stream framing (RFC 3261 18.3): the length of the first complete message at
// the start of `stream` (headers + Content-Length body), 0 when more bytes are
// needed, or an error (missing/invalid Content-Length on a stream) that means
// the connection must be closed. Leading CRLFs (keep-alives, RFC 5626 4.4.1)
// are reported through `skip`.
struct StreamFrame {
  std::size_t skip = 0;    // leading CRLF bytes to discard
  std::size_t length = 0;  // message length after `skip`; 0 = need more data
};
Result<StreamFrame> frameStreamMessage(std::string_view stream, std::size_t max_message_size);

}  // namespace duplex::sip
