// Trunk next hops and inbound sources: what a provider's INVITE is accepted
// from and where calls to it go, with the DNS answers faked; the resolver
// worker publishing off the caller's thread.
#include "pbx/call/trunk_addresses.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <thread>

namespace duplex::call {
namespace {

using namespace std::chrono_literals;

HostLookup fakeDns(std::map<std::string, std::vector<std::string>> table,
                   std::atomic<int>* calls = nullptr) {
  return [table = std::move(table), calls](const std::string& host, std::string& error) {
    if (calls) ++*calls;
    auto it = table.find(host);
    if (it == table.end()) {
      error = "cannot resolve " + host + ": Name or service not known";
      return std::vector<std::string>{};
    }
    return it->second;
  };
}

TrunkConfig trunk(std::int64_t id, std::string host) {
  TrunkConfig t;
  t.id = id;
  t.name = "t" + std::to_string(id);
  t.host = std::move(host);
  return t;
}

TEST(TrunkAddresses, HostResolvedSourcesAndNextHop) {
  TrunkConfig t = trunk(1, "sip.example");
  t.port = 5080;
  t.extraAddresses = {"203.0.113.0/29", "198.51.100.77", "not-an-address"};
  TrunkAddressCache cache;
  cache.publish(resolveTrunks({t}, fakeDns({{"sip.example", {"198.51.100.5", "198.51.100.6"}}})));
  TrunkNextHop hop = cache.nextHop(1);
  ASSERT_TRUE(hop.endpoint);
  EXPECT_EQ(hop.endpoint->toString(), "198.51.100.5:5080");
  EXPECT_EQ(cache.trunksForSource("198.51.100.6"), std::vector<std::int64_t>{1});
  EXPECT_EQ(cache.trunksForSource("203.0.113.7"), std::vector<std::int64_t>{1});
  EXPECT_EQ(cache.trunksForSource("198.51.100.77"), std::vector<std::int64_t>{1});
  EXPECT_TRUE(cache.trunksForSource("203.0.113.8").empty());
  EXPECT_TRUE(cache.trunksForSource("garbage").empty());
  EXPECT_EQ(cache.nextHop(2).error, "trunk 2 not resolved yet");
}

TEST(TrunkAddresses, OutboundProxyIsTheNextHopAndASource) {
  TrunkConfig t = trunk(1, "sip.example");
  t.outboundProxy = "proxy.example:5090";
  t.transport = "tcp";
  TrunkAddressCache cache;
  cache.publish(resolveTrunks(
      {t}, fakeDns({{"sip.example", {"198.51.100.5"}}, {"proxy.example", {"198.51.100.9"}}})));
  TrunkNextHop hop = cache.nextHop(1);
  ASSERT_TRUE(hop.endpoint);
  EXPECT_EQ(hop.endpoint->toString(), "198.51.100.9:5090");
  EXPECT_EQ(hop.transport, sip::Transport::kTcp);
  EXPECT_EQ(cache.trunksForSource("198.51.100.9"), std::vector<std::int64_t>{1});
  EXPECT_EQ(cache.trunksForSource("198.51.100.5"), std::vector<std::int64_t>{1});
}

TEST(TrunkAddresses, UnresolvableHostHasAnErrorAndNoSource) {
  TrunkAddressCache cache;
  cache.publish(resolveTrunks({trunk(1, "gone.example"), trunk(2, "198.51.100.5")},
                              fakeDns({{"198.51.100.5", {"198.51.100.5"}}})));
  TrunkNextHop hop = cache.nextHop(1);
  EXPECT_FALSE(hop.endpoint);
  EXPECT_EQ(hop.error, "cannot resolve gone.example: Name or service not known");
  // Two trunks on one address: both are named.
  cache.publish(resolveTrunks({trunk(1, "198.51.100.5"), trunk(2, "198.51.100.5")},
                              fakeDns({{"198.51.100.5", {"198.51.100.5"}}})));
  EXPECT_EQ(cache.trunksForSource("198.51.100.5"), (std::vector<std::int64_t>{1, 2}));
}

TEST(TrunkAddresses, RealResolverTakesLiteralsWithoutDns) {
  std::string error;
  EXPECT_EQ(resolveHostBlocking("198.51.100.5", error), std::vector<std::string>{"198.51.100.5"});
  EXPECT_EQ(resolveHostBlocking("[2001:db8::1]", error), std::vector<std::string>{"2001:db8::1"});
  EXPECT_TRUE(resolveHostBlocking("", error).empty());
  EXPECT_EQ(error, "no host configured");
}

// Waits (bounded) for the worker thread to publish; the worker has no clock
// to inject, so this is the one place a test waits on a thread.
template <class Pred>
bool eventually(Pred pred) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return pred();
}

TEST(TrunkAddressResolver, LiteralsAtOnceNamesFromTheWorkerAndNoRepeatWork) {
  TrunkAddressCache cache;
  std::atomic<int> lookups{0};
  // The worker resolves literals too (the real resolver answers them without
  // DNS); without them here, its answer for a literal raced the one request()
  // published and could replace it with "cannot resolve".
  TrunkAddressResolver worker(cache,
                              fakeDns({{"sip.example", {"198.51.100.5"}},
                                       {"198.51.100.8", {"198.51.100.8"}},
                                       {"198.51.100.20", {"198.51.100.20"}}},
                                      &lookups),
                              1h);
  worker.request({trunk(1, "198.51.100.8"), trunk(2, "sip.example")});
  // Published synchronously by request(): the literal works, the name waits.
  ASSERT_TRUE(cache.nextHop(1).endpoint);
  ASSERT_TRUE(eventually([&] { return cache.nextHop(2).endpoint.has_value(); }));
  EXPECT_EQ(cache.nextHop(2).endpoint->toString(), "198.51.100.5:5060");
  const int after = lookups.load();
  worker.request({trunk(1, "198.51.100.8"), trunk(2, "sip.example")});  // unchanged
  TrunkConfig moved = trunk(2, "sip.example");
  moved.extraAddresses = {"203.0.113.9"};
  worker.request({trunk(1, "198.51.100.8"), moved, trunk(3, "198.51.100.20")});
  // At once, before the worker: the new literal trunk, the changed trunk's
  // sources, and the name's last answer.
  EXPECT_TRUE(cache.nextHop(3).endpoint.has_value());
  EXPECT_EQ(cache.trunksForSource("203.0.113.9"), std::vector<std::int64_t>{2});
  ASSERT_TRUE(cache.nextHop(2).endpoint.has_value());
  EXPECT_EQ(cache.nextHop(2).endpoint->toString(), "198.51.100.5:5060");
  // One resolution (a look-up per trunk) for the change, none for the repeat.
  EXPECT_TRUE(eventually([&] { return lookups.load() >= after + 3; }));
  EXPECT_EQ(lookups.load(), after + 3);
}

}  // namespace
}  // namespace duplex::call
