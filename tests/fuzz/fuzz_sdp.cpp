// libFuzzer target for the SDP parser (STYLE.md 14): parse, and for accepted
// bodies exercise every accessor, serialize, re-parse (must succeed and be a
// fixed point), rewrite every media line toward a relay and re-parse again.
// Rejections must carry a reason. Untrusted input must never crash, assert,
// read out of bounds or overflow (run under ASan + UBSan).
//
//   ./build-fuzz/tests/fuzz/fuzz_sdp -max_total_time=300 -max_len=4096 /tmp/sdp-corpus
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "media/sdp.h"

namespace duplex::media {

void exerciseSdpParser(const std::uint8_t* data, std::size_t size);

void exerciseSdpParser(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = parseSdp(body);
  if (!parsed) {
    if (parsed.error.empty()) __builtin_trap();
    return;
  }
  SessionDescription sdp = *parsed.description;
  for (std::size_t i = 0; i < sdp.media.size(); ++i) {
    (void)effectiveDirection(sdp, i);
    (void)isHold(sdp, i);
    (void)mediaTarget(sdp, i);
    const SdpMedia& m = sdp.media[i];
    (void)m.rtpMaps();
    (void)m.ptime();
    (void)m.fmtp(101);
    (void)m.rtcpPort();
    (void)m.rtcpAddress();
    (void)m.firstFormatClockRate();
  }
  const std::string text = serializeSdp(sdp);
  auto again = parseSdp(text);
  if (!again || serializeSdp(*again.description) != text) __builtin_trap();
  for (std::size_t i = 0; i < sdp.media.size(); ++i) {
    rewriteMedia(sdp, i, i % 2 == 0 ? "203.0.113.7" : "2001:db8::7", 10000, 10001);
    setDirection(sdp, i, Direction::kSendOnly);
    if (!isHold(sdp, i) && sdp.media[i].port != 0) __builtin_trap();
  }
  if (!parseSdp(serializeSdp(sdp))) __builtin_trap();
}

}  // namespace duplex::media

#ifndef DUPLEX_FUZZ_NO_MAIN
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  duplex::media::exerciseSdpParser(data, size);
  return 0;
}
#endif
