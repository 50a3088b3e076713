// Runs the SDP fuzz entry (tests/fuzz/fuzz_sdp.cpp) over phone-like bodies and
// thousands of deterministic mutations: byte flips, separators, truncations,
// duplicated and deleted slices, digit runs. Nothing may crash or break the
// parse -> serialize -> parse fixed point (the fuzz entry traps).
#define DUPLEX_FUZZ_NO_MAIN
#include "fuzz/fuzz_sdp.cpp"  // NOLINT: the fuzz entry itself, without main

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace duplex::media {
namespace {

const std::vector<std::string> kSeeds = {
    "v=0\r\no=- 3912 3912 IN IP4 10.0.0.5\r\ns=SIP Call\r\nc=IN IP4 10.0.0.5\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 "
    "telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
    "v=0\r\no=alice 1 2 IN IP6 2001:db8::1\r\ns=-\r\nt=0 0\r\nr=7d 1h 0 25h\r\n"
    "m=audio 49170/2 RTP/AVP 96\r\nc=IN IP6 2001:db8::2\r\nb=AS:64\r\n"
    "a=rtpmap:96 opus/48000/2\r\na=rtcp:49171 IN IP6 2001:db8::2\r\na=rtcp-mux\r\n"
    "m=video 0 RTP/AVP 31\r\na=inactive\r\n",
    "v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nc=IN IP4 224.2.1.1/127/3\nt=0 0\na=sendonly\n"
    "m=audio 5000 RTP/SAVP 0\nk=prompt\ni=x\n",
};

struct Rng {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  std::size_t below(std::size_t n) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return n == 0 ? 0 : static_cast<std::size_t>(state % n);
  }
};

std::string mutate(std::string s, Rng& rng) {
  static constexpr char kSpecial[] = "\r\n =:/ 0129-aAvmcotIN\t";
  const int edits = 1 + static_cast<int>(rng.below(4));
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const std::size_t at = rng.below(s.size());
    switch (rng.below(6)) {
      case 0:
        s[at] = static_cast<char>(rng.below(256));
        break;
      case 1:
        s[at] = kSpecial[rng.below(sizeof(kSpecial) - 1)];
        break;
      case 2:
        s.resize(at);
        break;
      case 3: {
        const std::size_t len = 1 + rng.below(std::min<std::size_t>(64, s.size() - at));
        s.insert(at, s.substr(at, len));
        break;
      }
      case 4:
        s.erase(at, 1 + rng.below(std::min<std::size_t>(32, s.size() - at)));
        break;
      default:
        s.insert(at, std::string(1 + rng.below(30), static_cast<char>('0' + rng.below(10))));
        break;
    }
  }
  return s;
}

void run(const std::string& input) {
  exerciseSdpParser(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

TEST(SdpFuzzReplay, SeedsParseAndEveryPrefixIsSafe) {
  for (const auto& seed : kSeeds) {
    ASSERT_TRUE(parseSdp(seed)) << parseSdp(seed).error;
    for (std::size_t n = 0; n <= seed.size(); ++n) run(seed.substr(0, n));
  }
}

TEST(SdpFuzzReplay, TwentyThousandMutations) {
  Rng rng;
  std::size_t accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string input = mutate(kSeeds[rng.below(kSeeds.size())], rng);
    run(input);
    accepted += parseSdp(input) ? 1 : 0;
  }
  // The mutations must reach both outcomes, or the test exercises nothing.
  EXPECT_GT(accepted, 1000u);
  EXPECT_LT(accepted, 19000u);
}

}  // namespace
}  // namespace duplex::media
