// Runs the fuzz entry (tests/fuzz/fuzz_sip_parser.cpp) over every corpus
// file and a few thousand deterministic mutations of them: bit flips,
// separator bytes, truncations, duplicated and deleted slices. Nothing may
// crash; under ASan + UBSan (DUPLEX_SANITIZE=ON) nothing may read out of
// bounds or overflow either. The fuzz entry traps on a broken invariant.
#define DUPLEX_FUZZ_NO_MAIN
#include "fuzz/fuzz_sip_parser.cpp"  // NOLINT: the fuzz entry itself, without main

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace duplex::sip {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> corpus() {
  std::vector<std::string> out;
  for (const char* dir : {"rfc4475", "rfc5118"}) {
    std::vector<fs::path> paths;
    for (const auto& e : fs::directory_iterator(fs::path(DUPLEX_TEST_DATA) / dir)) {
      const std::string name = e.path().filename().string();
      if (name == "INDEX.md" || name == "SHA256SUMS") continue;
      paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());  // deterministic order
    for (const auto& p : paths) {
      std::ifstream in(p, std::ios::binary);
      out.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }
  return out;
}

// splitmix64: a fixed, platform-independent sequence.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

std::string mutate(const std::string& in, Rng& rng) {
  static const char kSpecial[] = ":;,\"<>\r\n \t\\%[]@=?&/0123456789\xff";
  std::string s = in;
  const int edits = 1 + static_cast<int>(rng.below(4));
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const std::size_t at = rng.below(s.size());
    switch (rng.below(6)) {
      case 0:  // bit flip
        s[at] = static_cast<char>(s[at] ^ (1 << rng.below(8)));
        break;
      case 1:  // separator or digit
        s[at] = kSpecial[rng.below(sizeof(kSpecial) - 1)];
        break;
      case 2:  // truncation
        s.resize(at);
        break;
      case 3: {  // duplicate a slice (repeats headers, separators, digits)
        const std::size_t len = 1 + rng.below(std::min<std::size_t>(64, s.size() - at));
        const std::string slice = s.substr(at, len);
        s.insert(at, slice);
        break;
      }
      case 4: {  // delete a slice
        const std::size_t len = 1 + rng.below(std::min<std::size_t>(32, s.size() - at));
        s.erase(at, len);
        break;
      }
      default:  // long run of digits (integer overflow paths)
        s.insert(at, std::string(1 + rng.below(30), static_cast<char>('0' + rng.below(10))));
        break;
    }
  }
  return s;
}

void run(const std::string& input) {
  exerciseMessageParser(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

TEST(FuzzReplay, CorpusFilesAsIs) {
  const auto files = corpus();
  ASSERT_EQ(files.size(), 62u);  // 50 RFC 4475 + 12 RFC 5118
  for (const auto& f : files) run(f);
}

TEST(FuzzReplay, EveryPrefixOfASmallMessage) {
  const std::string msg =
      "INVITE sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP [2001:db8::1]:5060;branch=z9hG4bK1;received=192.0.2.1;rport=1\r\n"
      "From: \"A \\\"q\\\"\" <sip:a@example.com>;tag=1\r\n"
      "To: <sip:bob@example.com>\r\n"
      "Call-ID: c\r\n"
      "CSeq: 4294967295 INVITE\r\n"
      "Contact: <sip:a@h;lr>;expires=4294967295;q=1.000, *\r\n"
      "Content-Length: 4\r\n"
      "\r\n"
      "body";
  for (std::size_t n = 0; n <= msg.size(); ++n) run(msg.substr(0, n));
}

TEST(FuzzReplay, DeterministicMutations) {
  const auto files = corpus();
  Rng rng{20240601};
  int runs = 0;
  for (const auto& f : files) {
    for (int i = 0; i < 60; ++i, ++runs) run(mutate(f, rng));
  }
  EXPECT_EQ(runs, 62 * 60);
}

TEST(FuzzReplay, OverflowingNumbers) {
  const std::string head =
      "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP h;branch=z9hG4bKx;rport=99999999999999999999\r\n"
      "From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: c\r\n";
  for (const char* cseq : {"18446744073709551616 INVITE", "4294967296 INVITE", "-1 INVITE"}) {
    auto r = Message::parse(head + "CSeq: " + cseq + "\r\n\r\n");
    ASSERT_FALSE(r.ok()) << cseq;
    EXPECT_EQ(r.error(), (SipError{400, "Bad CSeq"}));
  }
  auto r =
      Message::parse(head + "CSeq: 1 INVITE\r\nContent-Length: 99999999999999999999999\r\n\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), (SipError{400, "Bad Content-Length"}));
  auto ok = Message::parse(head + "CSeq: 1 INVITE\r\n\r\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->topVia().error(), (SipError{400, "Bad Via header"}));  // rport > 65535
  for (const char* code : {"SIP/2.0 99 X", "SIP/2.0 700 X", "SIP/2.0 2000 X", "SIP/2.0 -20 X"}) {
    auto bad = Message::parse(std::string(code) + "\r\n" + head.substr(head.find("Via")));
    ASSERT_FALSE(bad.ok()) << code;
  }
}

}  // namespace
}  // namespace duplex::sip
