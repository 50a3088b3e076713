// One relay session's logic on a manual clock: forwarding decisions, stats,
// keep-alive schedule, media timeout (not during hold), one-way diagnosis.
#include <gtest/gtest.h>

#include <array>

#include "media/relay_session.h"

namespace duplex::media {
namespace {

using namespace std::chrono_literals;

UdpAddress addr(const char* ip, std::uint16_t port) {
  return *UdpAddress::parse(ip, port);
}

std::array<std::uint8_t, 172> rtp(std::uint16_t seq) {
  std::array<std::uint8_t, 172> p{};
  p[0] = 0x80;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  const std::uint32_t ts = seq * 160u;
  p[4] = static_cast<std::uint8_t>(ts >> 24);
  p[5] = static_cast<std::uint8_t>(ts >> 16);
  p[6] = static_cast<std::uint8_t>(ts >> 8);
  p[7] = static_cast<std::uint8_t>(ts);
  p[11] = 1;
  return p;
}

RemoteMedia remote(const char* ip, std::uint16_t port, const char* signal = "") {
  RemoteMedia r;
  r.address = ip;
  r.rtp_port = port;
  r.signal_ip = signal;
  r.advertised = "203.0.113.1:10000";
  return r;
}

class RelaySessionTest : public ::testing::Test {
 protected:
  RelaySessionTest() : session(timings, clock.now()) {
    session.setRemote(Leg::kA, remote("192.0.2.10", 4000), AF_INET, clock.now());
    session.setRemote(Leg::kB, remote("10.0.0.5", 5000, "198.51.100.9"), AF_INET, clock.now());
  }
  const UdpAddress* send(Leg from, const UdpAddress& source, std::uint16_t seq,
                         Channel ch = Channel::kRtp) {
    auto p = rtp(seq);
    bool latched = false;
    const UdpAddress* to =
        session.onPacket(from, ch, source, p.data(), p.size(), clock.now(), latched);
    if (to != nullptr) session.onSent(otherLeg(from), ch, p.size(), true, clock.now());
    return to;
  }
  TickActions tick() {
    TickActions actions;
    session.tick(clock.now(), actions);
    return actions;
  }

  ManualClock clock;
  RelayTimings timings;
  RelaySession session;
  const UdpAddress phoneA = addr("192.0.2.10", 4000);
  const UdpAddress natB = addr("198.51.100.9", 40000);
};

TEST_F(RelaySessionTest, ForwardsToSdpAddressThenToLatchedSource) {
  const UdpAddress* to = send(Leg::kA, phoneA, 1);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(*to, addr("10.0.0.5", 5000));  // B has not sent yet: its SDP address
  ASSERT_NE(send(Leg::kB, natB, 1), nullptr);
  to = send(Leg::kA, phoneA, 2);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(*to, natB);  // B latched to its real (NAT) source
}

TEST_F(RelaySessionTest, StatsCountEachWayWithTimeToFirstPacket) {
  clock.advance(1500ms);
  send(Leg::kA, phoneA, 1);
  clock.advance(20ms);
  send(Leg::kA, phoneA, 2);
  send(Leg::kA, phoneA, 4);  // 3 lost
  send(Leg::kB, natB, 1);
  const SessionStats s = session.stats(clock.now());
  EXPECT_EQ(s.a.sdp_address, "192.0.2.10:4000");
  EXPECT_EQ(s.a.first_source, "192.0.2.10:4000");
  EXPECT_EQ(s.a.latched_source, "192.0.2.10:4000");
  EXPECT_EQ(s.a.first_packet_ms, 1500);
  EXPECT_EQ(s.a.rtp_packets_in, 3u);
  EXPECT_EQ(s.a.rtp_bytes_in, 3u * 172);
  EXPECT_EQ(s.a.packets_lost, 1);
  EXPECT_EQ(s.b.rtp_packets_out, 3u);  // what A sent went to B
  EXPECT_EQ(s.b.latched_source, "198.51.100.9:40000");
  EXPECT_EQ(s.b.sdp_address, "10.0.0.5:5000");
  EXPECT_EQ(s.a.rtp_packets_out, 1u);
  const std::string json = mediaFactsJson(s, "why");
  EXPECT_NE(json.find("\"latched_source\":\"198.51.100.9:40000\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"first_packet_ms\":1500"), std::string::npos) << json;
  EXPECT_NE(json.find("\"diagnosis\":\"why\""), std::string::npos) << json;
}

TEST_F(RelaySessionTest, ForeignPacketsAreDroppedCountedAndNeverForwarded) {
  send(Leg::kB, natB, 1);
  const UdpAddress attacker = addr("203.0.113.66", 7777);
  for (std::uint16_t i = 2; i < 50; ++i) EXPECT_EQ(send(Leg::kB, attacker, i), nullptr);
  clock.advance(3s);
  for (std::uint16_t i = 50; i < 100; ++i) EXPECT_EQ(send(Leg::kB, attacker, i), nullptr);
  // What A sends still goes to B's real source, never to the attacker.
  const UdpAddress* to = send(Leg::kA, phoneA, 1);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(*to, natB);
  const SessionStats s = session.stats(clock.now());
  EXPECT_EQ(s.b.foreign_dropped, 98u);
  EXPECT_EQ(s.b.last_foreign_source, "203.0.113.66:7777");
  EXPECT_EQ(s.b.rtp_packets_in, 1u);
}

// A third party sprays B's relay port with an in-sequence burst before B's
// phone sends anything (it opens the learning window and latches first);
// B's phone then speaks from its NAT address (its SIP came from that IP),
// inside the window and after it. B ends latched to its phone: what A sends
// goes there, and the attacker's packets are dropped and reach nobody.
TEST_F(RelaySessionTest, SprayBeforeThePhoneDoesNotKeepTheLeg) {
  const UdpAddress attacker = addr("203.0.113.66", 7777);
  std::uint16_t seq = 1000;
  for (int i = 0; i < 50; ++i) {  // the burst: 10 ms apart, in sequence
    send(Leg::kB, attacker, seq++);
    clock.advance(10ms);
  }
  const UdpAddress* to = send(Leg::kA, phoneA, 1);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(*to, attacker);  // the stranger holds B for now...
  clock.advance(2500ms);     // ... past the window it opened
  ASSERT_NE(send(Leg::kB, natB, 1), nullptr);
  EXPECT_EQ(session.latched(Leg::kB, Channel::kRtp), natB);
  for (int i = 0; i < 100; ++i) {
    clock.advance(10ms);
    EXPECT_EQ(send(Leg::kB, attacker, seq++), nullptr);  // never forwarded to A
    to = send(Leg::kA, phoneA, static_cast<std::uint16_t>(2 + i));
    ASSERT_NE(to, nullptr);
    EXPECT_EQ(*to, natB);  // and A's audio never goes to the attacker again
  }
  const SessionStats s = session.stats(clock.now());
  EXPECT_EQ(s.b.foreign_dropped, 100u);
  EXPECT_EQ(s.b.latched_source, "198.51.100.9:40000");
}

TEST_F(RelaySessionTest, NonRtpIsLatchedButNotForwarded) {
  const std::uint8_t keepalive[4] = {0, 0, 0, 0};
  bool latched = false;
  EXPECT_EQ(session.onPacket(Leg::kB, Channel::kRtp, natB, keepalive, sizeof keepalive, clock.now(),
                             latched),
            nullptr);
  EXPECT_TRUE(latched);  // a phone's NAT-opening packet teaches the relay its address
  EXPECT_EQ(session.destination(Leg::kB, Channel::kRtp), natB);
  EXPECT_EQ(session.stats(clock.now()).b.non_rtp_packets_in, 1u);
}

TEST_F(RelaySessionTest, RtcpChannelLatchesOnItsOwn) {
  const UdpAddress rtcpB = addr("198.51.100.9", 40001);
  std::array<std::uint8_t, 28> sr{0x80, 200};
  bool latched = false;
  const UdpAddress* to =
      session.onPacket(Leg::kB, Channel::kRtcp, rtcpB, sr.data(), sr.size(), clock.now(), latched);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(*to, addr("192.0.2.10", 4001));  // A's RTCP: SDP port + 1
  EXPECT_EQ(session.destination(Leg::kB, Channel::kRtcp), rtcpB);
  EXPECT_EQ(session.destination(Leg::kB, Channel::kRtp), addr("10.0.0.5", 5000));
}

TEST_F(RelaySessionTest, KeepaliveTowardSilentLegEveryInterval) {
  EXPECT_FALSE(tick().keepalive[0]);
  clock.advance(14s);
  EXPECT_FALSE(tick().keepalive[0]);
  clock.advance(1s);
  TickActions actions = tick();
  EXPECT_TRUE(actions.keepalive[0]);
  EXPECT_TRUE(actions.keepalive[1]);
  session.onKeepaliveSent(Leg::kA, clock.now());
  session.onKeepaliveSent(Leg::kB, clock.now());
  clock.advance(10s);
  send(Leg::kA, phoneA, 1);  // media toward B resets B's schedule
  clock.advance(5s);
  actions = tick();
  EXPECT_TRUE(actions.keepalive[0]);   // nothing sent to A for 15 s
  EXPECT_FALSE(actions.keepalive[1]);  // B got media 5 s ago
  EXPECT_EQ(session.stats(clock.now()).a.keepalives_sent, 1u);
}

TEST_F(RelaySessionTest, MediaTimeoutAfterAnswerButNotDuringHold) {
  session.answered(clock.now());
  clock.advance(59s);
  EXPECT_FALSE(tick().timed_out);
  session.setHold(Leg::kA, true);
  clock.advance(120s);
  EXPECT_FALSE(tick().timed_out);  // on hold: silence is expected
  session.setHold(Leg::kA, false);
  clock.advance(1s);
  const TickActions actions = tick();
  EXPECT_TRUE(actions.timed_out);
  EXPECT_EQ(actions.text, "media timeout: no RTP from either phone for 60 s");
  clock.advance(1s);
  EXPECT_FALSE(tick().timed_out);  // reported once
}

TEST_F(RelaySessionTest, RtpFromOneSideKeepsTheCallAlive) {
  session.answered(clock.now());
  for (int i = 0; i < 100; ++i) {
    clock.advance(1s);
    send(Leg::kA, phoneA, static_cast<std::uint16_t>(i));
    EXPECT_FALSE(tick().timed_out);
  }
}

TEST_F(RelaySessionTest, NoTimeoutBeforeAnswer) {
  clock.advance(300s);
  EXPECT_FALSE(tick().timed_out);
}

TEST_F(RelaySessionTest, OneWayDiagnosisNamesSilentNatedLeg) {
  session.answered(clock.now());
  for (std::uint16_t i = 0; i < 249; ++i) {
    clock.advance(20ms);
    send(Leg::kA, phoneA, i);
    EXPECT_FALSE(tick().one_way);
  }
  clock.advance(20ms);
  const TickActions actions = tick();  // 5 s after answer
  ASSERT_TRUE(actions.one_way);
  EXPECT_EQ(actions.one_way_leg, Leg::kB);
  EXPECT_NE(actions.text.find("advertised the private address 10.0.0.5:5000"), std::string::npos)
      << actions.text;
  EXPECT_NE(actions.text.find("behind NAT"), std::string::npos) << actions.text;
  clock.advance(5s);
  EXPECT_FALSE(tick().one_way);  // once
}

TEST_F(RelaySessionTest, NoOneWayWhenBothFlowOrOnHold) {
  session.answered(clock.now());
  send(Leg::kA, phoneA, 1);
  send(Leg::kB, natB, 1);
  clock.advance(5s);
  EXPECT_FALSE(tick().one_way);
  session.setRemote(Leg::kB, remote("10.0.0.5", 5000), AF_INET, clock.now());  // re-INVITE
  session.setHold(Leg::kA, true);
  send(Leg::kA, phoneA, 2);
  clock.advance(5s);
  EXPECT_FALSE(tick().one_way);  // A holds B: B's silence is expected
}

TEST_F(RelaySessionTest, ReInviteRearmsOneWayCheck) {
  session.answered(clock.now());
  send(Leg::kA, phoneA, 1);
  send(Leg::kB, natB, 1);
  clock.advance(10s);
  EXPECT_FALSE(tick().one_way);
  session.setRemote(Leg::kB, remote("10.0.0.5", 5002, "198.51.100.9"), AF_INET, clock.now());
  for (std::uint16_t i = 2; i < 300; ++i) {
    clock.advance(20ms);
    send(Leg::kA, phoneA, i);
  }
  const TickActions actions = tick();
  ASSERT_TRUE(actions.one_way);
  EXPECT_EQ(actions.one_way_leg, Leg::kB);
}

TEST_F(RelaySessionTest, Ipv4SdpOnIpv6SocketIsMapped) {
  RelaySession v6(timings, clock.now());
  v6.setRemote(Leg::kB, remote("192.0.2.20", 6000), AF_INET6, clock.now());
  const UdpAddress& to = v6.destination(Leg::kB, Channel::kRtp);
  EXPECT_EQ(to.family(), AF_INET6);
  EXPECT_EQ(to.toString(), "[::ffff:192.0.2.20]:6000");
  EXPECT_EQ(v6.stats(clock.now()).b.sdp_address, "192.0.2.20:6000");
}

}  // namespace
}  // namespace duplex::media
