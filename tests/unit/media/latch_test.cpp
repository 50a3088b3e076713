// Latching rules on an injected clock (issue 4 section 2), including the
// hijack attempts: a third party's single packets and in-sequence bursts
// during and after the learning window never move a leg.
#include <gtest/gtest.h>

#include "media/latch.h"

namespace duplex::media {
namespace {

using namespace std::chrono_literals;
using V = Latch::Verdict;

UdpAddress addr(const char* ip, std::uint16_t port) {
  return *UdpAddress::parse(ip, port);
}

class LatchTest : public ::testing::Test {
 protected:
  ManualClock clock;
  Latch latch{2s};
  const UdpAddress sdp = addr("10.0.0.5", 4000);       // what the phone advertised
  const UdpAddress nat = addr("198.51.100.9", 31000);  // where it really sends from
  const UdpAddress signal = addr("198.51.100.9", 0);   // its SIP came from the NAT
  const UdpAddress attacker = addr("203.0.113.66", 4000);
};

TEST_F(LatchTest, DestinationIsSdpAddressBeforeAnyPacket) {
  latch.reset(sdp, UdpAddress());
  EXPECT_EQ(latch.destination(), sdp);
  EXPECT_FALSE(latch.latched().isSet());
}

TEST_F(LatchTest, FirstPacketLatchesRealSourceBehindNat) {
  latch.reset(sdp, UdpAddress());
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  EXPECT_EQ(latch.destination(), nat);
  clock.advance(20ms);
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kAccept);
}

TEST_F(LatchTest, SdpAddressWinsOverEarlierStrangerInsideWindow) {
  latch.reset(sdp, UdpAddress());
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kLatched);
  clock.advance(500ms);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);
  EXPECT_EQ(latch.destination(), sdp);
  clock.advance(100ms);
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);  // never back to a lower rank
}

TEST_F(LatchTest, SignallingIpOutranksStranger) {
  latch.reset(sdp, signal);
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kLatched);
  clock.advance(300ms);
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);  // same IP as the SIP source
  EXPECT_EQ(latch.destination(), nat);
}

TEST_F(LatchTest, AttackerSingleAndBurstDuringWindowDoNotSwitch) {
  latch.reset(sdp, UdpAddress());
  ASSERT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  clock.advance(100ms);
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);  // single packet
  for (int i = 0; i < 200; ++i) {                              // in-sequence burst
    clock.advance(5ms);
    EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);
    EXPECT_EQ(
        latch.onPacket(addr("203.0.113.66", static_cast<std::uint16_t>(5000 + i)), clock.now()),
        V::kDrop);
  }
  EXPECT_EQ(latch.destination(), nat);
}

TEST_F(LatchTest, LockedAfterWindowEvenForTheSdpAddress) {
  latch.reset(sdp, signal);  // the NAT source is the phone's (its SIP came from there)
  ASSERT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  clock.advance(2s);
  EXPECT_FALSE(latch.learning(clock.now()));
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kDrop);  // too late: locked
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kAccept);
  EXPECT_EQ(latch.destination(), nat);
}

// The attacker's spray reaches the port first, as single packets and as
// in-sequence bursts from two ports, and opens the window; the phone's
// packets from its SDP address come 400 ms later: the leg ends latched to
// the SDP address and the attacker's later packets are dropped.
TEST_F(LatchTest, SprayFirstThenSdpAddressInsideWindowEndsOnSdpAddress) {
  latch.reset(sdp, signal);
  const UdpAddress attacker2 = addr("203.0.113.66", 4002);
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kLatched);  // first of all: latches
  for (int i = 0; i < 40; ++i) {  // a 20 ms in-sequence burst from both ports
    clock.advance(10ms);
    EXPECT_NE(latch.onPacket(attacker, clock.now()), V::kLatched);
    EXPECT_EQ(latch.onPacket(attacker2, clock.now()), V::kDrop);  // equal rank never switches
  }
  EXPECT_EQ(latch.destination(), attacker);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);  // 400 ms: the phone speaks
  EXPECT_EQ(latch.destination(), sdp);
  for (int i = 0; i < 200; ++i) {  // the burst goes on, inside and after the window
    clock.advance(10ms);
    EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);
    EXPECT_EQ(latch.onPacket(attacker2, clock.now()), V::kDrop);
    EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kAccept);
  }
  EXPECT_FALSE(latch.learning(clock.now()));
  EXPECT_EQ(latch.latched(), sdp);
  EXPECT_EQ(latch.destination(), sdp);
}

// The same spray during ringing: it opens the window seconds before the
// phone's first packet. The stranger's latch is no lock: the phone, from its
// SDP address, takes the leg when it speaks; then it is locked for good.
TEST_F(LatchTest, SprayThatOpenedTheWindowLongBeforeThePhoneDoesNotKeepTheLeg) {
  latch.reset(sdp, signal);
  for (int i = 0; i < 500; ++i) {  // 5 s of in-sequence burst, window long over
    latch.onPacket(attacker, clock.now());
    clock.advance(10ms);
  }
  EXPECT_FALSE(latch.learning(clock.now()));
  EXPECT_EQ(latch.destination(), attacker);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);
  EXPECT_EQ(latch.destination(), sdp);
  for (int i = 0; i < 100; ++i) {
    clock.advance(10ms);
    EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);
    EXPECT_EQ(
        latch.onPacket(addr("203.0.113.66", static_cast<std::uint16_t>(6000 + i)), clock.now()),
        V::kDrop);
  }
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kDrop);  // the phone's IP, but locked on it
  EXPECT_EQ(latch.destination(), sdp);
}

// ... and a NATed phone (SDP private, packets from the IP its SIP came from)
// takes the leg from the stranger in the same way.
TEST_F(LatchTest, SprayBeforeNatedPhoneGivesWayToTheSignallingIp) {
  latch.reset(sdp, signal);
  ASSERT_EQ(latch.onPacket(attacker, clock.now()), V::kLatched);
  clock.advance(3s);
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  clock.advance(20ms);
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);
  EXPECT_EQ(latch.destination(), nat);
}

// The callee's side before its answer: no SDP yet, a spray latches. Then the
// answer's SDP arrives (reset): the stranger's earlier latch earns it
// nothing, neither rank nor destination. The attacker's first packet after
// the answer opens the window; the phone speaks after it closed, from its
// SDP address or from its NAT (the IP its SIP came from): the leg is the
// phone's, the attacker's packets are dropped.
TEST_F(LatchTest, SprayBeforeTheAnswerEarnsTheStrangerNothingAfterIt) {
  for (const UdpAddress& phone : {sdp, nat}) {
    Latch leg{2s};
    for (int i = 0; i < 100; ++i) {  // ringing: in-sequence burst, nothing known yet
      leg.onPacket(attacker, clock.now());
      clock.advance(10ms);
    }
    leg.reset(sdp, signal);  // the 200's SDP
    EXPECT_EQ(leg.destination(), sdp);
    EXPECT_EQ(leg.onPacket(attacker, clock.now()), V::kLatched);  // a stranger again
    clock.advance(2500ms);
    EXPECT_EQ(leg.onPacket(phone, clock.now()), V::kLatched);
    for (int i = 0; i < 50; ++i) {
      clock.advance(10ms);
      EXPECT_EQ(leg.onPacket(attacker, clock.now()), V::kDrop);
    }
    EXPECT_EQ(leg.destination(), phone);
  }
}

TEST_F(LatchTest, WindowStartsWithFirstPacketNotWithReset) {
  latch.reset(sdp, UdpAddress());
  clock.advance(10s);  // ringing, no media yet
  ASSERT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  clock.advance(1900ms);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);  // still learning
  clock.advance(200ms);
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kDrop);
}

TEST_F(LatchTest, ReInviteReopensLearningAndFollowsMovedPort) {
  latch.reset(sdp, UdpAddress());
  ASSERT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);
  clock.advance(30s);
  const UdpAddress moved = addr("10.0.0.5", 4100);
  latch.reset(moved, UdpAddress());  // re-INVITE: new port
  EXPECT_EQ(latch.destination(), moved);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);  // old stream still running
  clock.advance(40ms);
  EXPECT_EQ(latch.onPacket(moved, clock.now()), V::kLatched);  // exact SDP match wins
  clock.advance(3s);
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kDrop);
  EXPECT_EQ(latch.destination(), moved);
}

TEST_F(LatchTest, ReofferWithSameAddressKeepsSendingToLatchedSource) {
  latch.reset(sdp, signal);
  ASSERT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  clock.advance(30s);
  latch.reset(sdp, UdpAddress());       // session refresh / codec change re-INVITE
  EXPECT_EQ(latch.destination(), nat);  // not back to the unreachable private address
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  // The stranger ranks below the previously latched IP: no switch.
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);
}

TEST_F(LatchTest, HoldWithZeroAddressKeepsLatchedDestination) {
  latch.reset(sdp, signal);
  ASSERT_EQ(latch.onPacket(nat, clock.now()), V::kLatched);
  latch.reset(addr("0.0.0.0", 4000), UdpAddress());
  EXPECT_EQ(latch.destination(), nat);
}

// A stranger's latch is not carried over a re-offer: neither as the
// destination nor as a source that outranks others.
TEST_F(LatchTest, StrangersLatchIsForgottenAtAReoffer) {
  latch.reset(sdp, UdpAddress());
  ASSERT_EQ(latch.onPacket(attacker, clock.now()), V::kLatched);
  latch.reset(sdp, UdpAddress());
  EXPECT_EQ(latch.destination(), sdp);
  ASSERT_EQ(latch.onPacket(attacker, clock.now()), V::kLatched);
  EXPECT_EQ(latch.onPacket(nat, clock.now()), V::kDrop);  // equal rank: no switch
  EXPECT_EQ(latch.onPacket(sdp, clock.now()), V::kLatched);
}

TEST_F(LatchTest, StrangerNeverLatchesWhenSdpAddressIsPublic) {
  const UdpAddress public_sdp = addr("192.0.2.10", 4000);
  latch.reset(public_sdp, UdpAddress());
  EXPECT_EQ(latch.onPacket(attacker, clock.now()), V::kDrop);  // even as the very first packet
  EXPECT_EQ(latch.destination(), public_sdp);
  // The phone behind a port-changing NAT keeps its IP: accepted.
  EXPECT_EQ(latch.onPacket(addr("192.0.2.10", 61000), clock.now()), V::kLatched);
}

TEST_F(LatchTest, RtcpFromAnotherIpThanLatchedRtpNeverLatches) {
  Latch rtcp{2s};
  rtcp.reset(addr("10.0.0.5", 4001), UdpAddress());
  EXPECT_EQ(rtcp.onPacket(attacker, clock.now(), &nat), V::kDrop);
  EXPECT_EQ(rtcp.onPacket(addr("198.51.100.9", 31001), clock.now(), &nat), V::kLatched);
  // Before RTP has latched anything, RTCP learns on its own.
  Latch early{2s};
  early.reset(addr("10.0.0.5", 4001), UdpAddress());
  const UdpAddress unset;
  EXPECT_EQ(early.onPacket(attacker, clock.now(), &unset), V::kLatched);
}

TEST_F(LatchTest, NoAddressNoLatchMeansNowhereToSend) {
  latch.reset(addr("0.0.0.0", 0), UdpAddress());
  EXPECT_TRUE(latch.destination().isNull() || !latch.destination().isSet());
}

}  // namespace
}  // namespace duplex::media
