// The NAT worker's threading glue with fake parts: the first address book is
// there when start() returns, UPnP runs on the worker, on-demand RTP requests
// from another thread complete on the worker with the address book already
// updated, and stop() removes every mapping.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "fakes/fake_dyndns_http.h"
#include "fakes/fake_igd.h"
#include "nat/nat_worker.h"

namespace duplex::nat {
namespace {

using std::chrono::milliseconds;

template <typename Pred>
bool eventually(Pred pred) {
  for (int i = 0; i < 500;
       ++i) {  // up to 5 s of real time: a thread hand-off, not a protocol timer
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return pred();
}

class NatWorkerTest : public testing::Test {
 protected:
  NatWorkerTest() {
    auto igd = std::make_unique<fakes::FakeIgd>(igd_clock_);
    igd_ = igd.get();
    NatWorkerParts parts;
    parts.igd = std::move(igd);
    parts.http = std::make_unique<fakes::FakeDynDnsHttp>();
    parts.stun_socket = [] { return std::unique_ptr<StunTransport>(); };
    parts.interfaces = [] {
      return std::vector<LocalInterface>{{"lo", "127.0.0.1", 8, true},
                                         {"eth0", "10.0.0.5", 24, false}};
    };
    parts.resolve = [](const std::string&) { return std::string(); };
    parts.clock = &clock_;
    parts.watch_interfaces = false;
    NatSettings s;
    s.sip_port = 5060;
    s.rtp_port_min = 10000;
    s.rtp_port_max = 10999;  // 1000 ports: per call
    s.upnp_budget = 6;
    worker_ = std::make_unique<NatWorker>(s, std::move(parts));
  }

  ManualClock igd_clock_;  // the fake router's lease clock (never advanced here)
  SystemClock clock_;
  fakes::FakeIgd* igd_ = nullptr;  // owned by the worker
  std::unique_ptr<NatWorker> worker_;
};

TEST_F(NatWorkerTest, FirstSnapshotAtOnceThenMappingsFromTheWorker) {
  std::atomic<std::thread::id> listener_thread{};
  worker_->publisher().subscribe([&](const AddressBookSnapshot&, const AddressBookChange& c) {
    if (c.mappings) listener_thread = std::this_thread::get_id();
  });
  worker_->start();
  EXPECT_EQ(worker_->publisher().current()->lanAddress(), "10.0.0.5");  // no wait for UPnP
  ASSERT_TRUE(
      eventually([&] { return worker_->publisher().current()->data().mappings.size() == 2; }));
  EXPECT_NE(listener_thread.load(), std::thread::id());
  EXPECT_NE(listener_thread.load(), std::this_thread::get_id());  // listeners run on the worker
  EXPECT_TRUE(eventually([&] { return worker_->status().upnp == UpnpState::kMapped; }));
  EXPECT_TRUE(worker_->status().rtp_on_demand);
}

TEST_F(NatWorkerTest, OnDemandRtpCompletesOnTheWorkerWithTheBookUpdated) {
  worker_->start();
  ASSERT_TRUE(eventually([&] { return worker_->status().upnp == UpnpState::kMapped; }));
  std::promise<std::pair<RtpMappingResult, std::vector<std::uint16_t>>> got;
  worker_->requestRtpPorts(7, {10000, 10001}, [&](const RtpMappingResult& r) {
    got.set_value({r, worker_->publisher().current()->mappedRtpPorts()});
  });
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  const auto [result, mapped_now] = future.get();
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.mapped.size(), 2u);
  EXPECT_EQ(mapped_now, (std::vector<std::uint16_t>{10000, 10001}));
  worker_->releaseRtpPorts(7);
  EXPECT_TRUE(eventually([&] { return worker_->publisher().current()->mappedRtpPorts().empty(); }));
}

TEST_F(NatWorkerTest, StopRemovesEveryMappingFromTheRouter) {
  worker_->start();
  ASSERT_TRUE(eventually([&] { return worker_->status().upnp == UpnpState::kMapped; }));
  worker_->requestRtpPorts(1, {10002}, {});
  ASSERT_TRUE(eventually([&] { return worker_->status().mappings.size() == 3; }));
  worker_->stop();
  EXPECT_EQ(igd_->countFor("10.0.0.5"), 0);
  worker_->requestRtpPorts(2, {10004}, [](const RtpMappingResult&) { FAIL() << "after stop"; });
}

TEST_F(NatWorkerTest, UpnpTurnedOffAndOnFromAnotherThread) {
  worker_->start();
  ASSERT_TRUE(eventually([&] { return worker_->status().upnp == UpnpState::kMapped; }));
  worker_->setUpnp(false);
  ASSERT_TRUE(eventually([&] {
    const NatStatus s = worker_->status();
    return s.upnp == UpnpState::kOff && s.mappings.empty();
  }));
  EXPECT_TRUE(worker_->publisher().current()->data().mappings.empty());
  EXPECT_EQ(igd_->countFor("10.0.0.5"), 0);  // the worker is idle: UPnP off
  worker_->setRtpRange(12000, 12003);        // now fits the budget of 6
  worker_->setUpnp(true);
  ASSERT_TRUE(eventually([&] {
    const NatStatus s = worker_->status();
    return s.upnp == UpnpState::kMapped && s.mappings.size() == 6 && !s.rtp_on_demand;
  }));
}

}  // namespace
}  // namespace duplex::nat
