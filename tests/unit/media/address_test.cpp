// UdpAddress as the relay uses it: text form (call records, diagnosis),
// equality (latching compares every packet's source), "no media here".
#include <gtest/gtest.h>

#include "media/address.h"

namespace duplex::media {
namespace {

UdpAddress at(const char* ip, std::uint16_t port) {
  auto a = UdpAddress::parse(ip, port);
  EXPECT_TRUE(a) << ip;
  return a.value_or(UdpAddress());
}

TEST(UdpAddress, TextFormIsIpColonPort) {
  EXPECT_EQ(at("10.0.0.5", 4000).toString(), "10.0.0.5:4000");
  EXPECT_EQ(at("0.0.0.0", 0).toString(), "0.0.0.0:0");
  EXPECT_EQ(at("255.255.255.255", 65535).toString(), "255.255.255.255:65535");
  EXPECT_EQ(at("192.0.2.100", 10).toString(), "192.0.2.100:10");
  EXPECT_EQ(at("2001:db8::1", 5004).toString(), "[2001:db8::1]:5004");
  EXPECT_EQ(at("10.0.0.5", 4000).mappedTo(AF_INET6).toString(), "[::ffff:10.0.0.5]:4000");
  EXPECT_EQ(at("172.16.3.4", 1).ip(), "172.16.3.4");
  EXPECT_EQ(UdpAddress().toString(), "");
  EXPECT_EQ(UdpAddress().ip(), "");
  // The text form parses back to the same address.
  EXPECT_EQ(UdpAddress::parseHostPort(at("203.0.113.9", 31337).toString()),
            at("203.0.113.9", 31337));
}

TEST(UdpAddress, EqualityIsFamilyIpAndPort) {
  EXPECT_EQ(at("10.0.0.5", 4000), at("10.0.0.5", 4000));
  EXPECT_NE(at("10.0.0.5", 4000), at("10.0.0.5", 4002));
  EXPECT_NE(at("10.0.0.5", 4000), at("10.0.0.6", 4000));
  EXPECT_NE(at("10.0.0.5", 4000), at("10.0.0.5", 4000).mappedTo(AF_INET6));
  EXPECT_EQ(at("2001:db8::1", 5004), at("2001:db8::1", 5004));
  EXPECT_NE(at("2001:db8::1", 5004), at("2001:db8::2", 5004));
  EXPECT_EQ(UdpAddress(), UdpAddress());
  EXPECT_NE(UdpAddress(), at("0.0.0.0", 0));
}

TEST(UdpAddress, NullMeansNoMediaHere) {
  EXPECT_TRUE(UdpAddress().isNull());
  EXPECT_TRUE(at("0.0.0.0", 4000).isNull());  // RFC 3264 8.4 hold
  EXPECT_TRUE(at("10.0.0.5", 0).isNull());
  EXPECT_TRUE(at("::", 4000).isNull());
  EXPECT_FALSE(at("10.0.0.5", 4000).isNull());
  EXPECT_FALSE(at("2001:db8::1", 5004).isNull());
}

}  // namespace
}  // namespace duplex::media
