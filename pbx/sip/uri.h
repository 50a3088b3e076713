// SIP and SIPS URIs (RFC 3261 19.1, 25.1) and, for other schemes, the scheme
// and the opaque rest (so "416 Unsupported URI Scheme" can be answered).
// For: parser, registrar adapter, call control. Any thread; plain values.
//
// Views point into the text the URI was parsed from (normally the Message's
// buffer): a Uri must not outlive it. Escaped parts are kept escaped; the
// unescape helpers decode exactly once (RFC 3261 19.1.4: never twice).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pbx/sip/error.h"
#include "pbx/sip/small_vector.h"

namespace duplex::sip {

enum class UriScheme : std::uint8_t { kSip, kSips, kTel, kOther };
enum class HostType : std::uint8_t { kNone, kName, kIpv4, kIpv6 };

struct UriParam {
  std::string_view name;   // as written (compare case-insensitively)
  std::string_view value;  // empty for a flag parameter such as ";lr"
  bool has_value = false;
};

// Most URIs carry a few parameters (";lr", ";transport=tcp") and no headers.
using UriParams = SmallVector<UriParam, 2>;
using UriHeaders = SmallVector<UriParam, 1>;

class Uri {
 public:
  // Parses an addr-spec. Accepts any scheme; only sip/sips are split into
  // parts. Errors: 400 with a reason such as "Bad Request-URI host".
  static Result<Uri> parse(std::string_view text);

  std::string_view text() const { return text_; }  // the whole URI as written
  UriScheme scheme() const { return scheme_; }
  std::string_view schemeText() const { return scheme_text_; }
  bool isSip() const { return scheme_ == UriScheme::kSip || scheme_ == UriScheme::kSips; }

  std::string_view user() const { return user_; }          // escaped, as written
  std::string_view password() const { return password_; }  // escaped, as written
  bool hasUser() const { return has_user_; }
  std::string_view host() const { return host_; }  // IPv6 without brackets
  HostType hostType() const { return host_type_; }
  std::optional<std::uint16_t> port() const { return port_; }
  const UriParams& params() const { return params_; }
  const UriHeaders& headers() const { return headers_; }               // after '?'
  std::optional<std::string_view> param(std::string_view name) const;  // case-insensitive
  bool hasParam(std::string_view name) const;
  std::string_view opaque() const { return opaque_; }  // non-SIP schemes: after ':'

  std::string userUnescaped() const;  // %HH decoded once; NULs kept (RFC 4475 3.1.1.4)

 private:
  friend struct NameAddr;
  friend class MessageParser;
  // parse() into an existing Uri (no Result and no move of the parts):
  // nullopt on success; on an error `out` holds no meaningful value.
  static std::optional<SipError> parseInto(std::string_view text, Uri& out);
  // The common shape ("sip:" / "sips:", plain user, hostname or IPv4, port,
  // plain parameters) in one pass; false means "not that shape", and the
  // general parser decides.
  static bool parseSimple(std::string_view text, Uri& u);

  std::string_view text_;
  std::string_view scheme_text_;
  UriScheme scheme_ = UriScheme::kOther;
  bool has_user_ = false;
  std::string_view user_;
  std::string_view password_;
  std::string_view host_;
  HostType host_type_ = HostType::kNone;
  std::optional<std::uint16_t> port_;
  UriParams params_;
  UriHeaders headers_;
  std::string_view opaque_;
};

// Decodes %HH escapes once. Invalid escapes ("%Z4") are kept literally.
std::string unescape(std::string_view text);
// Escapes characters outside `allowed` (unreserved plus the given extras).
std::string escape(std::string_view text, std::string_view extra_allowed);

}  // namespace duplex::sip
