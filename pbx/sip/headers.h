// Typed views of the SIP headers the PBX reads (RFC 3261 20, 25.1).
// For: transaction layer (Via, CSeq), registrar adapter (Contact, Expires,
// Authorization), call control (From/To, Route). Any thread; plain values
// whose string_views point into the Message they came from.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "pbx/sip/error.h"
#include "pbx/sip/uri.h"

namespace duplex::sip {

struct GenericParam {
  std::string_view name;
  std::string_view value;  // unquoted text for quoted-string values (escapes kept)
  bool has_value = false;
  bool quoted = false;
};

// Parameter lists held inline up to the usual count (no allocation for a
// typical Via, tag list or digest credentials).
using ViaParams = SmallVector<GenericParam, 4>;
using HeaderParams = SmallVector<GenericParam, 3>;
using AuthParams = SmallVector<GenericParam, 12>;

// One generic-param list lookup, case-insensitive.
const GenericParam* findParam(std::span<const GenericParam> params, std::string_view name);

// Via: SIP/2.0/UDP host:port;branch=...;received=...;rport (RFC 3261 20.42, RFC 3581).
struct Via {
  std::string_view protocol;   // "SIP/2.0"
  std::string_view transport;  // "UDP", "TCP", "TLS", or anything else as written
  std::string_view host;       // IPv6 without brackets
  HostType host_type = HostType::kNone;
  std::optional<std::uint16_t> port;
  std::string_view branch;  // empty when absent
  std::optional<std::string_view> received;
  bool has_rport = false;              // ";rport" with or without a value
  std::optional<std::uint16_t> rport;  // the value, when present
  std::optional<std::string_view> maddr;
  std::optional<std::uint8_t> ttl;
  ViaParams params;  // all parameters, in order

  static Result<Via> parse(std::string_view value);
  // parse() into a default-constructed `out`: nullopt on success, else the
  // error parse() returns (`out` then holds no meaningful value).
  static std::optional<SipError> parseInto(std::string_view value, Via& out);
  // True when the branch carries the RFC 3261 magic cookie and more.
  bool hasRfc3261Branch() const;
};

// name-addr or addr-spec with header parameters (From, To, Contact, Route...).
struct NameAddr {
  std::string_view display_name;  // unquoted when quoted; empty when absent
  bool display_quoted = false;
  bool angle_brackets = false;  // written as name-addr
  Uri uri;
  HeaderParams params;  // header parameters (after '>' or addr-spec)

  std::optional<std::string_view> param(std::string_view name) const;
  std::string_view tag() const;  // empty when absent

  // In an addr-spec without '<>', parameters belong to the header, not the
  // URI (RFC 3261 20.10): so "sip:a@b;unknownparam" has a header param.
  static Result<NameAddr> parse(std::string_view value);
  // parse() into a default-constructed `out`, as Via::parseInto.
  static std::optional<SipError> parseInto(std::string_view value, NameAddr& out);
};

// Contact header: either "*" or a list of name-addr with expires and q.
struct ContactEntry {
  NameAddr address;
  std::optional<std::uint32_t> expires;  // contact "expires" param
  std::optional<float> q;                // 0.0 .. 1.0
};
struct ContactList {
  bool star = false;
  SmallVector<ContactEntry, 1> entries;
};

struct CSeq {
  std::uint32_t number = 0;
  std::string_view method;

  static Result<CSeq> parse(std::string_view value);
};

// Authorization / Proxy-Authorization (RFC 3261 22.4, RFC 7616).
struct Credentials {
  std::string_view scheme;  // "Digest"
  AuthParams params;
  std::optional<std::string_view> param(std::string_view name) const;

  static Result<Credentials> parse(std::string_view value);
};

// WWW-Authenticate / Proxy-Authenticate.
struct Challenge {
  std::string_view scheme;
  AuthParams params;
  std::optional<std::string_view> param(std::string_view name) const;

  static Result<Challenge> parse(std::string_view value);
};

// Splits a header value at commas outside quoted strings and angle brackets;
// each element trimmed.
std::vector<std::string_view> splitHeaderList(std::string_view value);

}  // namespace duplex::sip
