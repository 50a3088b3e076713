// UPnP mapping decisions against a fake router (tests/fakes/fake_igd.h).
#include <gtest/gtest.h>

#include "fakes/fake_igd.h"
#include "nat/address_book.h"
#include "nat/upnp_mapper.h"

namespace duplex::nat {
namespace {

using fakes::FakeIgd;
using std::chrono::seconds;

MapperSettings settings(std::uint16_t rtp_min = 10000, std::uint16_t rtp_max = 10019) {
  MapperSettings s;
  s.budget = 24;
  s.lease = seconds(3600);
  s.check_interval = seconds(60);
  s.sip_port = 5060;
  s.rtp_min = rtp_min;
  s.rtp_max = rtp_max;
  s.lan_address = "10.0.0.5";
  return s;
}

// Runs the mapper the way the worker does: tick whenever due, up to `until`.
void runFor(UpnpMapper& mapper, ManualClock& clock, seconds span) {
  const auto end = clock.now() + span;
  while (true) {
    const auto due = mapper.nextDue();
    if (due > end) break;
    if (due > clock.now())
      clock.advance(std::chrono::duration_cast<std::chrono::milliseconds>(due - clock.now()));
    mapper.tick();
  }
  if (end > clock.now())
    clock.advance(std::chrono::duration_cast<std::chrono::milliseconds>(end - clock.now()));
}

TEST(UpnpMapper, MapsSipAndTheWholeRtpRangeWhenItFitsTheBudget) {
  ManualClock clock;
  FakeIgd igd(clock);
  UpnpMapper mapper(igd, clock, settings());
  mapper.start();
  EXPECT_EQ(mapper.state(), UpnpState::kMapped);
  EXPECT_FALSE(mapper.rtpOnDemand());
  EXPECT_EQ(igd.countFor("10.0.0.5"), 22);  // SIP UDP + TCP + 20 RTP
  const auto* sip = igd.find(Protocol::kUdp, 5060);
  ASSERT_NE(sip, nullptr);
  EXPECT_EQ(sip->description, "Duplex PBX 10.0.0.5 SIP");
  EXPECT_EQ(sip->lease, 3600u);
  ASSERT_NE(igd.find(Protocol::kTcp, 5060), nullptr);
  EXPECT_EQ(igd.find(Protocol::kUdp, 10019)->description, "Duplex PBX 10.0.0.5 RTP");
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_EQ(status.mappings.size(), 22u);
  EXPECT_TRUE(status.mappings[0].verified);
  EXPECT_TRUE(status.manual_forwarding.empty());
  EXPECT_EQ(status.igd_external_ip, "203.0.113.5");
}

TEST(UpnpMapper, RangeBeyondTheBudgetIsMappedPerCallAndShared) {
  ManualClock clock;
  FakeIgd igd(clock);
  auto s = settings(10000, 10199);
  s.budget = 6;
  UpnpMapper mapper(igd, clock, s);
  mapper.start();
  EXPECT_TRUE(mapper.rtpOnDemand());
  EXPECT_EQ(igd.countFor("10.0.0.5"), 2);  // SIP only

  auto r1 = mapper.requestRtp(1, {10000, 10001});
  EXPECT_EQ(r1.error, "");
  EXPECT_EQ(r1.mapped.size(), 2u);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 4);
  auto r2 = mapper.requestRtp(2, {10000, 10001});  // the relay preferred mapped ports
  EXPECT_EQ(r2.mapped.size(), 2u);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 4);
  AddressBookData d;
  d.mappings = mapper.mappings();
  EXPECT_EQ(AddressBook(d).mappedRtpPorts(), (std::vector<std::uint16_t>{10000, 10001}));

  auto r3 = mapper.requestRtp(3, {10002, 10003, 10004});  // budget 6: only 10002, 10003
  EXPECT_EQ(r3.mapped.size(), 2u);
  EXPECT_EQ(r3.error, "mapping budget of 6 used up");
  EXPECT_EQ(igd.countFor("10.0.0.5"), 6);

  mapper.releaseRtp(1);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 6);  // session 2 still uses them
  mapper.releaseRtp(2);
  mapper.releaseRtp(3);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 2);
  EXPECT_EQ(igd.find(Protocol::kUdp, 10000), nullptr);
}

TEST(UpnpMapper, RouterRefusingBeyondNMappingsLeavesAPlanForTheRest) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.max_mappings = 3;
  UpnpMapper mapper(igd, clock, settings());
  mapper.start();
  EXPECT_EQ(mapper.state(), UpnpState::kMapped);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 3);
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_NE(status.upnp_text.find("the router refused 19 (728 NoPortMapsAvailable)"),
            std::string::npos)
      << status.upnp_text;
  ASSERT_EQ(status.manual_forwarding.size(), 1u);
  EXPECT_EQ(status.manual_forwarding_text,
            "Forward UDP ports 10000-10019 to 10.0.0.5 ports 10000-10019 (RTP media).");
}

TEST(UpnpMapper, ConflictMovesTheExternalPortAndItIsAdvertised) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.holdForOther(Protocol::kUdp, 5060);
  igd.holdForOther(Protocol::kUdp, 5061);
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  ASSERT_NE(igd.find(Protocol::kUdp, 5062), nullptr);
  EXPECT_EQ(igd.find(Protocol::kUdp, 5062)->client, "10.0.0.5");
  EXPECT_EQ(igd.find(Protocol::kUdp, 5060)->client, "10.0.0.9");  // untouched
  AddressBookData d;
  d.main_address = "pbx.example.org";
  d.mappings = mapper.mappings();
  EXPECT_EQ(AddressBook(d).advertisedFor("198.51.100.1", Protocol::kUdp, 5060).port, 5062);
  EXPECT_EQ(AddressBook(d).advertisedFor("198.51.100.1", Protocol::kTcp, 5060).port, 5060);
}

TEST(UpnpMapper, OnlyPermanentLeasesGiveTrackedPermanentMappingsRemovedAtStop) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.only_permanent = true;
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  EXPECT_EQ(mapper.state(), UpnpState::kMapped);
  ASSERT_NE(igd.find(Protocol::kUdp, 5060), nullptr);
  EXPECT_EQ(igd.find(Protocol::kUdp, 5060)->lease, 0u);
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_TRUE(status.mappings[0].permanent);
  mapper.stop();
  EXPECT_EQ(igd.countFor("10.0.0.5"), 0);
}

TEST(UpnpMapper, RouterIgnoringTheLeaseIsTreatedAsPermanent) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.ignore_lease = true;
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  NatStatus status;
  mapper.fillStatus(status);
  ASSERT_EQ(status.mappings.size(), 2u);
  EXPECT_TRUE(status.mappings[0].permanent);
  mapper.stop();
  EXPECT_EQ(igd.countFor("10.0.0.5"), 0);
}

TEST(UpnpMapper, LeasesAreRenewedAtHalfLifeAndNeverLapse) {
  ManualClock clock;
  FakeIgd igd(clock);
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  const int adds = igd.add_calls;
  runFor(mapper, clock, seconds(1799));
  EXPECT_EQ(igd.add_calls, adds);  // not yet
  runFor(mapper, clock, seconds(2));
  EXPECT_EQ(igd.add_calls, adds + 2);        // both renewed at 1800 s
  runFor(mapper, clock, seconds(5 * 3600));  // the fake expires entries whose lease lapses
  EXPECT_EQ(igd.countFor("10.0.0.5"), 2);
  EXPECT_EQ(igd.add_calls, adds + 2 * 11);
}

TEST(UpnpMapper, RouterRebootIsNoticedAndEverythingMappedAgain) {
  ManualClock clock;
  FakeIgd igd(clock);
  UpnpMapper mapper(igd, clock, settings());
  mapper.start();
  igd.loseAll();
  igd.external_ip = "203.0.113.77";
  runFor(mapper, clock, seconds(61));
  EXPECT_EQ(igd.countFor("10.0.0.5"), 22);
  EXPECT_EQ(mapper.externalIp(), "203.0.113.77");
  EXPECT_EQ(mapper.state(), UpnpState::kMapped);
}

TEST(UpnpMapper, VanishingRouterIsRetriedWithBackoffAndRemappedWhenBack) {
  ManualClock clock;
  FakeIgd igd(clock);
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  igd.present = false;
  runFor(mapper, clock, seconds(61));
  EXPECT_EQ(mapper.state(), UpnpState::kFailing);
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_NE(status.upnp_text.find("stopped answering"), std::string::npos) << status.upnp_text;
  const int before = igd.discover_calls;
  runFor(mapper, clock, seconds(30 + 60 + 120 + 1));  // retries at +30, +60, +120
  EXPECT_EQ(igd.discover_calls, before + 3);
  igd.present = true;
  igd.loseAll();
  runFor(mapper, clock, seconds(240));
  EXPECT_EQ(mapper.state(), UpnpState::kMapped);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 2);
}

TEST(UpnpMapper, NoRouterGivesTheExactManualForwardingPlan) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.present = false;
  UpnpMapper mapper(igd, clock, settings(10000, 10199));
  mapper.start();
  EXPECT_EQ(mapper.state(), UpnpState::kNoIgd);
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_EQ(status.manual_forwarding.size(), 3u);
  EXPECT_EQ(status.manual_forwarding_text,
            "Forward UDP port 5060 to 10.0.0.5 port 5060 (SIP). Forward TCP port 5060 to "
            "10.0.0.5 port 5060 (SIP). Forward UDP ports 10000-10199 to 10.0.0.5 ports "
            "10000-10199 (RTP media).");
  EXPECT_EQ(mapper.requestRtp(1, {10000}).mapped.size(), 0u);
}

TEST(UpnpMapper, RefusingRouterIsReportedAsRefused) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.max_mappings = 0;
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  EXPECT_EQ(mapper.state(), UpnpState::kRefused);
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_EQ(status.manual_forwarding.size(), 2u);
}

TEST(UpnpMapper, StaleMappingsOfThisPbxAreRemovedFirstAndOthersKept) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.table[{Protocol::kUdp, 10005}] = {"10.0.0.5", 10005, "Duplex PBX 10.0.0.5 RTP", 0,
                                        clock.now()};
  igd.table[{Protocol::kUdp, 7000}] = {"10.0.0.50", 7000, "Duplex PBX 10.0.0.50 SIP", 0,
                                       clock.now()};
  igd.table[{Protocol::kUdp, 7001}] = {"10.0.0.5", 7001, "game console", 0, clock.now()};
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  EXPECT_EQ(igd.find(Protocol::kUdp, 10005), nullptr);
  EXPECT_NE(igd.find(Protocol::kUdp, 7000), nullptr);
  EXPECT_NE(igd.find(Protocol::kUdp, 7001), nullptr);
  EXPECT_NE(igd.find(Protocol::kUdp, 5060), nullptr);
}

TEST(UpnpMapper, StopRemovesEveryMapping) {
  ManualClock clock;
  FakeIgd igd(clock);
  UpnpMapper mapper(igd, clock, settings());
  mapper.start();
  mapper.stop();
  EXPECT_EQ(igd.countFor("10.0.0.5"), 0);
  EXPECT_TRUE(mapper.mappings().empty());
}

TEST(UpnpMapper, PrivateExternalAddressMeansDoubleNat) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.external_ip = "100.64.3.4";
  igd.connected = false;
  UpnpMapper mapper(igd, clock, settings(0, 0));
  mapper.start();
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_TRUE(status.double_nat);
  EXPECT_NE(status.double_nat_text.find("100.64.3.4"), std::string::npos);
  EXPECT_EQ(status.upnp, UpnpState::kMapped);  // mapping is still done
  EXPECT_NE(status.upnp_text.find("not connected"), std::string::npos);
}

TEST(UpnpMapper, OffMeansNoRouterTrafficAndAPlan) {
  ManualClock clock;
  FakeIgd igd(clock);
  auto s = settings(0, 0);
  s.enabled = false;
  UpnpMapper mapper(igd, clock, s);
  mapper.start();
  EXPECT_EQ(igd.discover_calls, 0);
  EXPECT_EQ(mapper.state(), UpnpState::kOff);
  EXPECT_EQ(mapper.requestRtp(1, {10000}).error, "UPnP off");
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_EQ(status.manual_forwarding.size(), 2u);
}

// Admin changes without restart: UPnP off removes what the PBX mapped from
// the router and gives the manual plan; on again maps it all again.
TEST(UpnpMapper, TurnedOffLiveRemovesItsMappingsAndOnMapsThemAgain) {
  ManualClock clock;
  FakeIgd igd(clock);
  igd.holdForOther(Protocol::kUdp, 8000);  // someone else's: never touched
  UpnpMapper mapper(igd, clock, settings());
  mapper.start();
  ASSERT_EQ(igd.countFor("10.0.0.5"), 22);
  mapper.setEnabled(false);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 0);
  EXPECT_EQ(igd.countFor("10.0.0.9"), 1);
  EXPECT_EQ(mapper.state(), UpnpState::kOff);
  EXPECT_EQ(mapper.nextDue(), Clock::TimePoint::max());
  EXPECT_EQ(mapper.requestRtp(1, {10000}).error, "UPnP off");
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_TRUE(status.mappings.empty());
  EXPECT_EQ(status.manual_forwarding_text,
            "Forward UDP port 5060 to 10.0.0.5 port 5060 (SIP). Forward TCP port 5060 to "
            "10.0.0.5 port 5060 (SIP). Forward UDP ports 10000-10019 to 10.0.0.5 ports "
            "10000-10019 (RTP media).");
  const int discoveries = igd.discover_calls;
  runFor(mapper, clock, seconds(7200));  // off stays off: no router traffic
  EXPECT_EQ(igd.discover_calls, discoveries);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 0);

  mapper.setEnabled(true);
  EXPECT_EQ(mapper.state(), UpnpState::kMapped);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 22);
  runFor(mapper, clock, seconds(7200));  // and the leases are renewed again
  EXPECT_EQ(igd.countFor("10.0.0.5"), 22);
}

// A new RTP range applies to the router: the old range's mappings go, the
// new range is mapped (or per call when it no longer fits the budget), and a
// call's on-demand mapping stays until that call ends.
TEST(UpnpMapper, RtpRangeChangeMovesTheMappingsAndThePlan) {
  ManualClock clock;
  FakeIgd igd(clock);
  UpnpMapper mapper(igd, clock, settings(10000, 10019));
  mapper.start();
  mapper.setRtpRange(12000, 12009);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 12);  // SIP UDP + TCP + 10 RTP
  EXPECT_EQ(igd.find(Protocol::kUdp, 10000), nullptr);
  ASSERT_NE(igd.find(Protocol::kUdp, 12009), nullptr);
  EXPECT_FALSE(mapper.rtpOnDemand());

  mapper.setRtpRange(20000, 20999);  // 1000 ports > budget 24: per call
  EXPECT_TRUE(mapper.rtpOnDemand());
  EXPECT_EQ(igd.countFor("10.0.0.5"), 2);
  EXPECT_EQ(mapper.requestRtp(5, {20000, 20001}).error, "");
  EXPECT_EQ(igd.countFor("10.0.0.5"), 4);

  mapper.setRtpRange(30000, 30003);  // fits again; the call on 20000 keeps its ports
  EXPECT_EQ(igd.countFor("10.0.0.5"), 8);
  ASSERT_NE(igd.find(Protocol::kUdp, 20000), nullptr);
  mapper.releaseRtp(5);
  EXPECT_EQ(igd.find(Protocol::kUdp, 20000), nullptr);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 6);
  NatStatus status;
  mapper.fillStatus(status);
  EXPECT_TRUE(status.manual_forwarding.empty());

  mapper.setEnabled(false);
  mapper.setRtpRange(40000, 40009);  // off: nothing asked of the router, the plan follows
  mapper.fillStatus(status);
  EXPECT_EQ(igd.countFor("10.0.0.5"), 0);
  ASSERT_EQ(status.manual_forwarding.size(), 3u);
  EXPECT_EQ(status.manual_forwarding[2].external_first, 40000);
  EXPECT_EQ(status.manual_forwarding[2].external_last, 40009);
}

TEST(UpnpBackoff, DoublesFrom30SecondsTo15Minutes) {
  EXPECT_EQ(upnpBackoff(1), seconds(30));
  EXPECT_EQ(upnpBackoff(2), seconds(60));
  EXPECT_EQ(upnpBackoff(5), seconds(480));
  EXPECT_EQ(upnpBackoff(6), seconds(900));
  EXPECT_EQ(upnpBackoff(50), seconds(900));
}

}  // namespace
}  // namespace duplex::nat
