// STUN message codec (RFC 5389, with the RFC 5780 attributes): parses a
// datagram into a Message and builds Binding requests and responses.
//
// For: the STUN client and NAT-type probe of this module (internal), the fuzz
// target and the unit tests (which also use the response builder as a fake
// server). Thread: any (pure functions).
//
// The parser is hardened for untrusted input: it never reads past the buffer,
// never throws and never asserts. It checks the header (top two bits zero,
// magic cookie, length = datagram - 20 and a multiple of 4), every attribute's
// length against the remaining bytes (with its padding to 4), the address
// attributes' family and length, and FINGERPRINT (RFC 5389 15.5: CRC-32 XOR
// 0x5354554e, and nothing after it). Unknown comprehension-optional attributes
// are skipped; unknown comprehension-required ones are listed (RFC 5389 7.3.3).
// Errors: StunError, with stunErrorText() for the log.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nat/ip_address.h"

namespace duplex::nat::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::uint16_t kBindingMethod = 0x0001;
inline constexpr std::size_t kHeaderSize = 20;

// Attribute types (RFC 5389 18.2, RFC 5780 7).
inline constexpr std::uint16_t kMappedAddress = 0x0001;
inline constexpr std::uint16_t kChangeRequest = 0x0003;
inline constexpr std::uint16_t kErrorCode = 0x0009;
inline constexpr std::uint16_t kUnknownAttributes = 0x000A;
inline constexpr std::uint16_t kXorMappedAddress = 0x0020;
inline constexpr std::uint16_t kSoftware = 0x8022;
inline constexpr std::uint16_t kFingerprint = 0x8028;
inline constexpr std::uint16_t kResponseOrigin = 0x802B;
inline constexpr std::uint16_t kOtherAddress = 0x802C;
inline constexpr std::uint16_t kChangedAddress = 0x0005;  // RFC 3489, treated as OTHER-ADDRESS

enum class MessageClass : std::uint8_t { kRequest, kIndication, kSuccess, kError };

using TransactionId = std::array<std::uint8_t, 12>;

struct TransportAddress {
  IpAddress ip;
  std::uint16_t port = 0;
  std::string toString() const;  // "1.2.3.4:3478", "[2001:db8::1]:3478"
  bool operator==(const TransportAddress&) const = default;
};

struct Message {
  std::uint16_t method = kBindingMethod;
  MessageClass message_class = MessageClass::kRequest;
  TransactionId transaction_id{};
  std::optional<TransportAddress> xor_mapped_address;
  std::optional<TransportAddress> mapped_address;
  std::optional<TransportAddress> other_address;  // or RFC 3489 CHANGED-ADDRESS
  std::optional<TransportAddress> response_origin;
  bool change_ip = false;  // CHANGE-REQUEST flags
  bool change_port = false;
  std::optional<int> error_code;  // 300-699
  std::string error_reason;
  std::string software;
  bool fingerprint = false;                     // present and correct
  std::vector<std::uint16_t> unknown_required;  // comprehension-required types not understood

  // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS (RFC 5389 15.1/15.2: old servers).
  std::optional<TransportAddress> mappedAddress() const;
};

enum class StunError : std::uint8_t {
  kNone,
  kTooShort,          // fewer than 20 bytes
  kNotStun,           // top two bits not zero
  kBadMagicCookie,    // RFC 3489 messages are not accepted
  kBadLength,         // header length != datagram - 20, or not a multiple of 4
  kAttributeOverrun,  // an attribute (with padding) runs past the message
  kBadAddress,        // address attribute with a bad family or length
  kBadAttribute,      // CHANGE-REQUEST or ERROR-CODE malformed
  kBadFingerprint,    // CRC mismatch, wrong length, or attributes after it
};
std::string_view stunErrorText(StunError error);

struct ParseResult {
  Message message;
  StunError error = StunError::kNone;
  bool ok() const { return error == StunError::kNone; }
};

ParseResult parse(std::span<const std::uint8_t> datagram);

// A Binding request, optionally with CHANGE-REQUEST (RFC 5780 7.2) and
// SOFTWARE, always ending in FINGERPRINT.
std::vector<std::uint8_t> buildBindingRequest(const TransactionId& id, bool change_ip = false,
                                              bool change_port = false,
                                              std::string_view software = {});

// A Binding success response (tests and fakes): XOR-MAPPED-ADDRESS, optional
// OTHER-ADDRESS and RESPONSE-ORIGIN, FINGERPRINT.
std::vector<std::uint8_t> buildBindingSuccess(
    const TransactionId& id, const TransportAddress& mapped,
    const std::optional<TransportAddress>& other = std::nullopt,
    const std::optional<TransportAddress>& origin = std::nullopt, bool fingerprint = true);

// CRC-32 (ISO 3309, the one FINGERPRINT uses).
std::uint32_t crc32(std::span<const std::uint8_t> bytes);

}  // namespace duplex::nat::stun
