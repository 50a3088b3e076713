// Port pool: even/odd pairs within the range, no double hand-out, FIFO reuse,
// released without leaks, preferred (UPnP-mapped) pairs first.
#include <gtest/gtest.h>

#include <set>

#include "media/port_pool.h"

namespace duplex::media {
namespace {

TEST(PortPool, HandsOutEveryEvenPairOnceThenNothing) {
  PortPool pool(10001, 10010);  // pairs 10002, 10004, 10006, 10008 (10010 has no 10011)
  EXPECT_EQ(pool.capacity(), 4u);
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 4; ++i) {
    auto port = pool.acquire();
    ASSERT_TRUE(port);
    EXPECT_EQ(*port % 2, 0);
    EXPECT_GE(*port, 10002);
    EXPECT_LE(*port + 1, 10010);
    EXPECT_TRUE(seen.insert(*port).second);
  }
  EXPECT_FALSE(pool.acquire());
  EXPECT_EQ(pool.freeCount(), 0u);
}

TEST(PortPool, ReleasedPairIsReusedLastAndDoubleReleaseIsIgnored) {
  PortPool pool(20000, 20005);  // 20000, 20002, 20004
  const auto first = *pool.acquire();
  EXPECT_EQ(first, 20000);
  pool.release(first);
  pool.release(first);  // ignored
  pool.release(12345);  // not ours: ignored
  pool.release(20001);  // odd: ignored
  EXPECT_EQ(pool.freeCount(), 3u);
  EXPECT_EQ(*pool.acquire(), 20002);
  EXPECT_EQ(*pool.acquire(), 20004);
  EXPECT_EQ(*pool.acquire(), 20000);
  EXPECT_FALSE(pool.acquire());
}

TEST(PortPool, ManyCallsLeakNothing) {
  PortPool pool(10000, 10099);
  const std::size_t capacity = pool.freeCount();
  for (int round = 0; round < 1000; ++round) {
    auto a = pool.acquire();
    auto b = pool.acquire();
    ASSERT_TRUE(a && b);
    ASSERT_NE(*a, *b);
    pool.release(*a);
    pool.release(*b);
  }
  EXPECT_EQ(pool.freeCount(), capacity);
}

TEST(PortPool, PreferredPairsComeFirstAndReturnToPreferred) {
  PortPool pool(10000, 10019);
  pool.setPreference([](std::uint16_t port) { return port == 10008 || port == 10016; });
  EXPECT_EQ(*pool.acquire(), 10008);
  EXPECT_EQ(*pool.acquire(), 10016);
  EXPECT_EQ(*pool.acquire(), 10000);
  pool.release(10016);
  EXPECT_EQ(*pool.acquire(), 10016);  // back at the front of the preferred queue
  pool.setPreference({});
  EXPECT_EQ(*pool.acquire(), 10002);
}

}  // namespace
}  // namespace duplex::media
