// STUN codec: RFC 5769 golden vectors, round trips, and every malformation
// the parser must reject with its precise reason.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "nat/stun_message.h"

namespace duplex::nat::stun {
namespace {

std::vector<std::uint8_t> golden(const std::string& name) {
  std::ifstream in(std::string(DUPLEX_TEST_DATA) + "/stun/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const TransactionId kId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

TEST(StunMessage, Rfc5769Ipv4ResponseGivesMappedAddressAndFingerprint) {
  const auto r = parse(golden("rfc5769_ipv4_response.bin"));
  ASSERT_TRUE(r.ok()) << stunErrorText(r.error);
  EXPECT_EQ(r.message.message_class, MessageClass::kSuccess);
  EXPECT_EQ(r.message.method, kBindingMethod);
  EXPECT_EQ(r.message.transaction_id, kId);
  ASSERT_TRUE(r.message.mappedAddress());
  EXPECT_EQ(r.message.mappedAddress()->toString(), "192.0.2.1:32853");
  EXPECT_EQ(r.message.software, "test vector");  // 11 bytes + 1 padding
  EXPECT_TRUE(r.message.fingerprint);
  // MESSAGE-INTEGRITY is comprehension-required and not ours to check.
  EXPECT_EQ(r.message.unknown_required, std::vector<std::uint16_t>{0x0008});
}

TEST(StunMessage, Rfc5769Ipv6Response) {
  const auto r = parse(golden("rfc5769_ipv6_response.bin"));
  ASSERT_TRUE(r.ok()) << stunErrorText(r.error);
  EXPECT_EQ(r.message.mappedAddress()->toString(), "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

TEST(StunMessage, Rfc5769RequestParsesAsBindingRequest) {
  const auto r = parse(golden("rfc5769_request.bin"));
  ASSERT_TRUE(r.ok()) << stunErrorText(r.error);
  EXPECT_EQ(r.message.message_class, MessageClass::kRequest);
  EXPECT_EQ(r.message.software, "STUN test client");
  EXPECT_TRUE(r.message.fingerprint);
}

TEST(StunMessage, BuiltRequestRoundTripsWithChangeRequest) {
  const auto bytes = buildBindingRequest(kId, true, false, "Duplex PBX");
  EXPECT_EQ(bytes.size() % 4, 0u);
  const auto r = parse(bytes);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.message.change_ip);
  EXPECT_FALSE(r.message.change_port);
  EXPECT_EQ(r.message.software, "Duplex PBX");
  EXPECT_TRUE(r.message.fingerprint);
}

TEST(StunMessage, BuiltSuccessRoundTripsOtherAddressAndOrigin) {
  const TransportAddress mapped{*IpAddress::parse("203.0.113.7"), 40000};
  const TransportAddress other{*IpAddress::parse("198.51.100.2"), 3479};
  const TransportAddress origin{*IpAddress::parse("198.51.100.1"), 3478};
  const auto r = parse(buildBindingSuccess(kId, mapped, other, origin));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.message.xor_mapped_address, mapped);
  EXPECT_EQ(r.message.other_address, other);
  EXPECT_EQ(r.message.response_origin, origin);
}

TEST(StunMessage, RejectsTruncatedAndForeignData) {
  auto good = buildBindingSuccess(kId, {*IpAddress::parse("203.0.113.7"), 1});
  EXPECT_EQ(parse(std::span(good).first(19)).error, StunError::kTooShort);
  auto rtp = good;
  rtp[0] = 0x80;  // an RTP packet
  EXPECT_EQ(parse(rtp).error, StunError::kNotStun);
  auto classic = good;
  classic[4] = 0;  // RFC 3489: no magic cookie
  EXPECT_EQ(parse(classic).error, StunError::kBadMagicCookie);
  EXPECT_EQ(parse(std::span(good).first(good.size() - 4)).error, StunError::kBadLength);
}

TEST(StunMessage, RejectsAttributeRunningPastTheEnd) {
  auto bytes = buildBindingSuccess(kId, {*IpAddress::parse("203.0.113.7"), 1}, {}, {}, false);
  bytes[22] = 0x00;
  bytes[23] = 0x40;  // XOR-MAPPED-ADDRESS claims 64 bytes
  EXPECT_EQ(parse(bytes).error, StunError::kAttributeOverrun);
  bytes[23] = 0x09;  // 9 -> padded 12, 4 more than present
  EXPECT_EQ(parse(bytes).error, StunError::kAttributeOverrun);
}

TEST(StunMessage, RejectsBadAddressFamilyAndLength) {
  auto bytes = buildBindingSuccess(kId, {*IpAddress::parse("203.0.113.7"), 1}, {}, {}, false);
  auto family = bytes;
  family[25] = 0x03;
  EXPECT_EQ(parse(family).error, StunError::kBadAddress);
  auto v6_short = bytes;
  v6_short[25] = 0x02;  // IPv6 family in an 8-byte attribute
  EXPECT_EQ(parse(v6_short).error, StunError::kBadAddress);
}

TEST(StunMessage, RejectsWrongFingerprintAndAttributesAfterIt) {
  auto bytes = buildBindingSuccess(kId, {*IpAddress::parse("203.0.113.7"), 1});
  auto flipped = bytes;
  flipped.back() ^= 1;
  EXPECT_EQ(parse(flipped).error, StunError::kBadFingerprint);
  auto trailing = bytes;
  for (std::uint8_t b : std::initializer_list<std::uint8_t>{0x80, 0x22, 0x00, 0x00})
    trailing.push_back(b);  // empty SOFTWARE
  trailing[3] = static_cast<std::uint8_t>(trailing.size() - kHeaderSize);
  EXPECT_EQ(parse(trailing).error, StunError::kBadFingerprint);
}

TEST(StunMessage, ErrorCodeParsedAndBadClassRejected) {
  std::vector<std::uint8_t> m = {0x01, 0x11, 0x00, 0x10, 0x21, 0x12, 0xa4, 0x42};
  m.insert(m.end(), kId.begin(), kId.end());
  for (std::uint8_t b : std::initializer_list<std::uint8_t>{
           0x00, 0x09, 0x00, 0x0b, 0x00, 0x00, 0x04, 0x00, 'B', 'a', 'd', ' ', 'R', 'e', 'q', 0})
    m.push_back(b);
  auto r = parse(m);
  ASSERT_TRUE(r.ok()) << stunErrorText(r.error);
  EXPECT_EQ(r.message.message_class, MessageClass::kError);
  EXPECT_EQ(r.message.error_code, 400);
  m[26] = 0x09;  // class 9 is not an error class
  EXPECT_EQ(parse(m).error, StunError::kBadAttribute);
}

TEST(StunMessage, OldServersMappedAddressIsTheFallback) {
  // A success response with only MAPPED-ADDRESS (RFC 5389 15.1, RFC 3489 servers).
  std::vector<std::uint8_t> m = {0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42};
  m.insert(m.end(), kId.begin(), kId.end());
  for (std::uint8_t b : std::initializer_list<std::uint8_t>{0x00, 0x01, 0x00, 0x08, 0x00, 0x01,
                                                            0x13, 0x88, 203, 0, 113, 9}) {
    m.push_back(b);
  }
  const auto r = parse(m);
  ASSERT_TRUE(r.ok()) << stunErrorText(r.error);
  EXPECT_FALSE(r.message.xor_mapped_address);
  ASSERT_TRUE(r.message.mappedAddress());
  EXPECT_EQ(r.message.mappedAddress()->toString(), "203.0.113.9:5000");
}

TEST(StunMessage, Crc32MatchesIsoCheckValue) {
  const std::string check = "123456789";
  EXPECT_EQ(crc32(std::span(reinterpret_cast<const std::uint8_t*>(check.data()), check.size())),
            0xCBF43926u);
}

}  // namespace
}  // namespace duplex::nat::stun
