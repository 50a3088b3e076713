// Shared pieces of the SDP parser and the SDP helpers (media internal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "media/sdp.h"

namespace duplex::media::sdp_detail {

// Decimal digits only, within [min, max].
std::optional<int> parseUnsigned(std::string_view text, int min, int max);
std::optional<RtpMap> parseRtpMap(std::string_view value);

struct RtcpAttribute {
  std::uint16_t port = 0;
  std::optional<std::string> address;
};
std::optional<RtcpAttribute> parseRtcp(std::string_view value);

}  // namespace duplex::media::sdp_detail
