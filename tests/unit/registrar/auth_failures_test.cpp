// Failure counters per address and per extension.
#include <gtest/gtest.h>

#include <string>

#include "registrar/auth_failures.h"

namespace duplex::registrar {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

TEST(AuthFailureCounter, CountsPerAddressAndExtension) {
  AuthFailureCounter counter(600);
  counter.record("192.0.2.1", "101", kNow);
  counter.record("192.0.2.1", "102", kNow);
  counter.record("198.51.100.7", "101", kNow + 1);
  const AuthFailureView& view = counter;
  EXPECT_EQ(view.failuresFromAddress("192.0.2.1", kNow + 1), 2u);
  EXPECT_EQ(view.failuresFromAddress("198.51.100.7", kNow + 1), 1u);
  EXPECT_EQ(view.failuresFromAddress("203.0.113.9", kNow + 1), 0u);
  EXPECT_EQ(view.failuresForExtension("101", kNow + 1), 2u);
  EXPECT_EQ(view.failuresForExtension("102", kNow + 1), 1u);
}

TEST(AuthFailureCounter, SlidingWindowDecays) {
  AuthFailureCounter counter(600);
  for (int i = 0; i < 10; ++i) counter.record("192.0.2.1", "101", kNow);
  EXPECT_EQ(counter.failuresFromAddress("192.0.2.1", kNow + 599), 10u);
  EXPECT_EQ(counter.failuresFromAddress("192.0.2.1", kNow + 900), 5u);  // half overlaps
  EXPECT_EQ(counter.failuresFromAddress("192.0.2.1", kNow + 1200), 0u);
  counter.record("192.0.2.1", "101", kNow + 900);
  EXPECT_EQ(counter.failuresFromAddress("192.0.2.1", kNow + 900), 6u);
}

TEST(AuthFailureCounter, MemoryBoundedAndSnapshot) {
  AuthFailureCounter counter(600, 100);
  for (int i = 0; i < 1000; ++i) {
    counter.record("10.0.0." + std::to_string(i), std::string(1000, 'x') + std::to_string(i),
                   kNow + i);
  }
  AuthFailureSnapshot snap = counter.snapshot(kNow + 1000, 1000);
  EXPECT_EQ(snap.addresses.size(), 100u);
  EXPECT_EQ(snap.extensions.size(), 1u);  // long user names clipped to one key
  EXPECT_EQ(snap.extensions[0].key.size(), AuthFailureCounter::kMaxKeyBytes);
  EXPECT_EQ(snap.addresses.front().key, "10.0.0.999");                  // most recent first
  EXPECT_EQ(counter.failuresFromAddress("10.0.0.0", kNow + 1000), 0u);  // evicted
  EXPECT_EQ(counter.snapshot(kNow + 1000, 5).addresses.size(), 5u);
}

}  // namespace
}  // namespace duplex::registrar
