// The syntax of configuration values, one rule at a time.
#include <gtest/gtest.h>

#include "pbx/app/value_syntax.h"

namespace duplex::app {
namespace {

TEST(ValueSyntax, IpLiterals) {
  for (auto ok : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "::", "::1", "2001:db8::1",
                  "::ffff:192.0.2.1"}) {
    EXPECT_TRUE(isIpLiteral(ok)) << ok;
  }
  // inet_aton would take "1" and "0x7f.1"; a bind address must be unambiguous.
  for (auto bad : {"", "1", "0x7f.1", "1.2.3", "256.1.1.1", "1.2.3.4.5", "[::1]", "fe80::1%eth0",
                   "localhost", " 1.2.3.4"}) {
    EXPECT_FALSE(isIpLiteral(bad)) << bad;
  }
}

TEST(ValueSyntax, Hostnames) {
  for (auto ok : {"localhost", "pbx.example.com", "a-b.c", "x1.example", "3com.com",
                  "xn--bcher-kva.example"}) {
    EXPECT_TRUE(isHostname(ok)) << ok;
  }
  for (auto bad : {"", "a..b", "-a.com", "a-.com", "a_b.com", "999.1.1.1", "1.2.3.4", "a.com.",
                   "exa mple.com", "a.123"}) {
    EXPECT_FALSE(isHostname(bad)) << bad;
  }
  EXPECT_FALSE(isHostname(std::string(64, 'a') + ".com"));  // label > 63
  EXPECT_TRUE(isHostname(std::string(63, 'a') + ".com"));
}

TEST(ValueSyntax, Cidr) {
  std::string why;
  auto v4 = parseCidr("192.168.0.0/16", why);
  ASSERT_TRUE(v4);
  EXPECT_EQ(v4->toString(), "192.168.0.0/16");
  auto v6 = parseCidr("fc00::/7", why);
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->toString(), "fc00::/7");
  EXPECT_TRUE(parseCidr("10.0.0.1/32", why));
  EXPECT_FALSE(parseCidr("10.0.0.1/31", why));
  EXPECT_EQ(why, "has host bits set (did you mean 10.0.0.0/31?)");
  EXPECT_FALSE(parseCidr("fd00::1/64", why));
  EXPECT_EQ(why, "has host bits set (did you mean fd00::/64?)");
  EXPECT_FALSE(parseCidr("10.0.0.0/x", why));
  EXPECT_EQ(why, "the prefix must be 0-32");
}

TEST(ValueSyntax, Durations) {
  EXPECT_EQ(parseDurationMs("500", DurationUnit::kMilliseconds), 500);
  EXPECT_EQ(parseDurationMs("500", DurationUnit::kSeconds), 500'000);
  EXPECT_EQ(parseDurationMs("500ms", DurationUnit::kSeconds), 500);
  EXPECT_EQ(parseDurationMs("4 s", DurationUnit::kMilliseconds), 4000);
  EXPECT_EQ(parseDurationMs("10m", DurationUnit::kMilliseconds), 600'000);
  EXPECT_EQ(parseDurationMs("1H", DurationUnit::kMilliseconds), 3'600'000);
  for (auto bad : {"", "ms", "1.5s", "-1s", "5x", "1 2s", "99999999999999999999"}) {
    EXPECT_FALSE(parseDurationMs(bad, DurationUnit::kMilliseconds)) << bad;
  }
  EXPECT_FALSE(parseDurationMs("9223372036854775807h", DurationUnit::kMilliseconds));  // overflow
  EXPECT_EQ(formatDuration(500), "500ms");
  EXPECT_EQ(formatDuration(4000), "4s");
  EXPECT_EQ(formatDuration(600'000), "10m");
  EXPECT_EQ(formatDuration(86'400'000), "24h");
  EXPECT_EQ(formatDuration(0), "0ms");
}

TEST(ValueSyntax, Sizes) {
  EXPECT_EQ(parseSize("65535"), 65535);
  EXPECT_EQ(parseSize("64K"), 64 * 1024);
  EXPECT_EQ(parseSize("10MB"), 10 * 1024 * 1024);
  EXPECT_EQ(parseSize("1 GiB"), 1024LL * 1024 * 1024);
  EXPECT_EQ(parseSize("2m"), 2 * 1024 * 1024);
  for (auto bad : {"", "K", "1T", "1.5M", "ten"}) EXPECT_FALSE(parseSize(bad)) << bad;
  EXPECT_EQ(formatSize(10 * 1024 * 1024), "10M");
  EXPECT_EQ(formatSize(65535), "65535");
  EXPECT_EQ(formatSize(1024), "1K");
}

}  // namespace
}  // namespace duplex::app
