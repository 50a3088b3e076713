// The syntax of configuration values: IP literals, hostnames, CIDR networks,
// durations and sizes. Pure functions, no exceptions; used by config.cpp to
// validate and by the help text to print ranges. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pbx/app/config.h"

namespace duplex::app {

// Strict IPv4 dotted quad or IPv6 literal (no brackets, no zone).
bool isIpLiteral(std::string_view text);
bool isIpv6Literal(std::string_view text);

// A DNS hostname (RFC 1123 2.1 labels; the last label not all digits, so that
// "999.1.1.1" is rejected rather than taken for a name).
bool isHostname(std::string_view text);

// "192.168.0.0/16". On failure `why` says what is wrong (host bits set,
// prefix out of range, not an address).
std::optional<Cidr> parseCidr(std::string_view text, std::string& why);

// "500ms", "30s", "10m", "1h"; a bare number is in `unit`. Result in ms.
std::optional<std::int64_t> parseDurationMs(std::string_view text, DurationUnit unit);
// The shortest exact form: 500 -> "500ms", 4000 -> "4s", 600000 -> "10m".
std::string formatDuration(std::int64_t ms);

// "65535", "64K", "10M", "1G" (powers of 1024; K/KB/KiB and so on).
std::optional<std::int64_t> parseSize(std::string_view text);
std::string formatSize(std::int64_t bytes);

std::optional<std::int64_t> parseInteger(std::string_view text);

std::string_view trim(std::string_view text);

}  // namespace duplex::app
