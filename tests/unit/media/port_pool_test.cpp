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

// An admin moves the RTP range while calls are up (applied without restart):
// new calls get ports from the new range only, the calls in progress keep
// theirs, nothing is handed out twice and nothing leaks.
TEST(PortPool, RangeChangeAppliesToNewPairsAndKeepsPairsInUse) {
  PortPool pool(10000, 10007);     // 10000, 10002, 10004, 10006
  const auto a = *pool.acquire();  // 10000
  const auto b = *pool.acquire();  // 10002
  ASSERT_EQ(pool.inUseCount(), 2u);

  // Overlapping move: 10004-10011 (10004, 10006, 10008, 10010).
  ASSERT_TRUE(pool.setRange(10004, 10011));
  EXPECT_EQ(pool.range(), (std::pair<std::uint16_t, std::uint16_t>{10004, 10011}));
  EXPECT_EQ(pool.capacity(), 4u);
  EXPECT_EQ(pool.freeCount(), 4u);
  std::set<std::uint16_t> handed;
  for (int i = 0; i < 4; ++i) {
    const auto p = pool.acquire();
    ASSERT_TRUE(p);
    EXPECT_GE(*p, 10004);
    EXPECT_LE(*p + 1, 10011);
    EXPECT_TRUE(handed.insert(*p).second) << *p;
  }
  EXPECT_FALSE(pool.acquire());
  // The old calls end: their pairs, outside the range now, are not reused.
  pool.release(a);
  pool.release(b);
  EXPECT_FALSE(pool.acquire());
  EXPECT_EQ(pool.inUseCount(), 4u);

  // A pair in use stays unique across a move back to the old range.
  ASSERT_TRUE(pool.setRange(10000, 10007));  // 10000..10006; 10004, 10006 in use
  EXPECT_EQ(pool.freeCount(), 2u);
  std::set<std::uint16_t> again{*pool.acquire(), *pool.acquire()};
  EXPECT_EQ(again, (std::set<std::uint16_t>{10000, 10002}));
  EXPECT_FALSE(pool.acquire());
  pool.release(10004);  // back to the queue: in range and no longer in use
  EXPECT_EQ(*pool.acquire(), 10004);
  // Everything released: the whole new range is free, nothing else.
  for (std::uint16_t p : {10000, 10002, 10004, 10006, 10008, 10010}) pool.release(p);
  EXPECT_EQ(pool.inUseCount(), 0u);
  EXPECT_EQ(pool.freeCount(), 4u);
}

TEST(PortPool, RangeWithoutAPairIsRefusedAndChangesNothing) {
  PortPool pool(10000, 10003);
  EXPECT_FALSE(pool.setRange(20001, 20001));
  EXPECT_FALSE(pool.setRange(20000, 19000));
  EXPECT_FALSE(pool.setRange(65535, 65535));
  EXPECT_EQ(pool.range(), (std::pair<std::uint16_t, std::uint16_t>{10000, 10003}));
  EXPECT_EQ(pool.freeCount(), 2u);
}

TEST(PortPool, RangeChangeKeepsThePreference) {
  PortPool pool(10000, 10003);
  pool.setPreference([](std::uint16_t port) { return port == 10010; });
  ASSERT_TRUE(pool.setRange(10000, 10011));
  EXPECT_EQ(*pool.acquire(), 10010);
}

}  // namespace
}  // namespace duplex::media
