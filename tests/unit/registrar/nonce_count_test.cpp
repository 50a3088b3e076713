// Nonce-count table: replay, bounded memory, eviction fails safe.
#include <gtest/gtest.h>

#include "registrar/nonce_count.h"

namespace duplex::registrar {
namespace {

using Check = NonceCountTable::Check;
constexpr std::int64_t kNow = 1'800'000'000;

NonceIdentity nonce(std::uint32_t sequence) {
  return {kNow, 0x1234, sequence};
}

TEST(NonceCount, StrictlyIncreasingAfterCommit) {
  NonceCountTable table(1024);
  EXPECT_EQ(table.check(nonce(7), 1), Check::kFresh);
  EXPECT_EQ(table.check(nonce(7), 1), Check::kFresh);  // check() changes nothing
  table.commit(nonce(7), 1);
  EXPECT_EQ(table.check(nonce(7), 1), Check::kReplay);
  EXPECT_EQ(table.check(nonce(7), 2), Check::kFresh);
  table.commit(nonce(7), 5);
  EXPECT_EQ(table.check(nonce(7), 4), Check::kReplay);
  EXPECT_EQ(table.check(nonce(7), 5), Check::kReplay);
  EXPECT_EQ(table.check(nonce(7), 6), Check::kFresh);
  EXPECT_EQ(table.check(nonce(8), 1), Check::kFresh);
}

TEST(NonceCount, BoundedAndEvictionNeverAcceptsAReplay) {
  NonceCountTable table(1000);
  ASSERT_EQ(table.capacity(), 1024u);
  for (std::uint32_t i = 0; i < 10000; ++i) table.commit(nonce(i), 1);
  EXPECT_EQ(table.capacity(), 1024u);
  // Every nonce used with nc=1 is either still known (replay) or may have been
  // overwritten (demand a fresh nonce) — never accepted again.
  for (std::uint32_t i = 0; i < 10000; ++i) {
    EXPECT_EQ(table.check(nonce(i), 1), i >= 10000 - 1024 ? Check::kReplay : Check::kUnknownOld);
  }
  // Newer nonces, never used, are fresh.
  EXPECT_EQ(table.check(nonce(10000), 1), Check::kFresh);
  EXPECT_EQ(table.check(nonce(12000), 1), Check::kFresh);
}

TEST(NonceCount, AnOlderNonceNeverOverwritesANewer) {
  NonceCountTable table(16);
  table.commit(nonce(20), 3);
  table.commit(nonce(4), 1);  // same slot, older: not recorded...
  EXPECT_EQ(table.check(nonce(20), 3), Check::kReplay);
  EXPECT_EQ(table.check(nonce(4), 2), Check::kUnknownOld);  // ...and not accepted
}

TEST(NonceCount, SequenceWrapsAround) {
  NonceCountTable table(16);
  table.commit(nonce(0xfffffff5u), 1);
  table.commit(nonce(0x00000005u), 1);  // 16 later, same slot
  EXPECT_EQ(table.check(nonce(0xfffffff5u), 2), Check::kUnknownOld);
  EXPECT_EQ(table.check(nonce(0x00000005u), 1), Check::kReplay);
}

}  // namespace
}  // namespace duplex::registrar
