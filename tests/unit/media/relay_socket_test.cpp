// MediaRelay with real sockets on loopback: bytes arrive at the far phone
// from the port the relay advertised to it, in both directions; a third
// party spraying the relay ports during and after the learning window (single
// packets and in-sequence bursts with the call's own SSRC) never moves the
// media and receives nothing; ports come back on release.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "fakes/fake_media_clock.h"
#include "media/relay.h"

namespace duplex::media {
namespace {

using namespace std::chrono_literals;

// A UDP socket on 127.0.0.1 standing in for a phone (or an attacker).
class Peer {
 public:
  // 127.0.0.2 and up are other hosts on loopback (an attacker elsewhere).
  explicit Peer(std::uint16_t port = 0, std::uint32_t host = INADDR_LOOPBACK) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(host);
    a.sin_port = htons(port);
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~Peer() { ::close(fd_); }
  bool ok() const { return ok_; }
  std::uint16_t port() const { return port_; }
  void sendTo(std::uint16_t port, const std::vector<std::uint8_t>& bytes) const {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  struct Datagram {
    std::vector<std::uint8_t> bytes;
    std::uint16_t from_port = 0;
  };
  // Waits up to `wait` for one datagram.
  std::optional<Datagram> receive(std::chrono::milliseconds wait = 1000ms) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) return std::nullopt;
    Datagram d;
    d.bytes.resize(4096);
    sockaddr_in from{};
    socklen_t len = sizeof from;
    const ssize_t n = ::recvfrom(fd_, d.bytes.data(), d.bytes.size(), 0,
                                 reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) return std::nullopt;
    d.bytes.resize(static_cast<std::size_t>(n));
    d.from_port = ntohs(from.sin_port);
    return d;
  }
  // Everything that arrives within `wait`.
  std::vector<Datagram> drain(std::chrono::milliseconds wait = 150ms) const {
    std::vector<Datagram> all;
    while (auto d = receive(wait)) all.push_back(std::move(*d));
    return all;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::uint16_t port_ = 0;
};

std::vector<std::uint8_t> rtp(std::uint16_t seq, std::uint32_t ssrc, std::uint8_t fill = 0xD5) {
  std::vector<std::uint8_t> p(172, fill);
  p[0] = 0x80;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  const std::uint32_t ts = seq * 160u;
  p[4] = static_cast<std::uint8_t>(ts >> 24);
  p[5] = static_cast<std::uint8_t>(ts >> 16);
  p[6] = static_cast<std::uint8_t>(ts >> 8);
  p[7] = static_cast<std::uint8_t>(ts);
  p[8] = static_cast<std::uint8_t>(ssrc >> 24);
  p[9] = static_cast<std::uint8_t>(ssrc >> 16);
  p[10] = static_cast<std::uint8_t>(ssrc >> 8);
  p[11] = static_cast<std::uint8_t>(ssrc);
  return p;
}

RemoteMedia at(const Peer& peer) {
  RemoteMedia r;
  r.address = "127.0.0.1";
  r.rtp_port = peer.port();
  r.rtcp_port = peer.port();  // the test phones take RTCP on the same socket
  return r;
}

// Events from the relay thread, waited for by the test thread.
class EventLog {
 public:
  void push(const MediaEvent& e) {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
    cv_.notify_all();
  }
  std::optional<MediaEvent> waitFor(MediaEventKind kind, std::chrono::milliseconds wait = 3000ms) {
    std::unique_lock lock(mutex_);
    std::optional<MediaEvent> found;
    cv_.wait_for(lock, wait, [&] {
      for (auto it = events_.begin(); it != events_.end(); ++it) {
        if (it->kind == kind) {
          found = *it;
          events_.erase(it);
          return true;
        }
      }
      return false;
    });
    return found;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<MediaEvent> events_;
};

class RelaySocketTest : public ::testing::Test {
 protected:
  static RelayConfig config() {
    RelayConfig c;
    c.bind_address = "127.0.0.1";
    // A range of its own per test process (ctest runs tests in parallel).
    c.port_min = static_cast<std::uint16_t>(20000 + (::getpid() % 200) * 200);
    c.port_max = static_cast<std::uint16_t>(c.port_min + 199);
    return c;
  }
  void SetUp() override {
    relay.start();
    created = relay.createSession();
    ASSERT_TRUE(created) << created.error;
    relay.setRemote(created.id, Leg::kA, at(phoneA));
    relay.setRemote(created.id, Leg::kB, at(phoneB));
    // Barrier: the relay thread has applied the commands before the test
    // moves the clock.
    relay.requestStats(created.id);
    ASSERT_TRUE(log.waitFor(MediaEventKind::kStats));
  }
  // A sends `count` packets in sequence; returns what B received.
  std::vector<Peer::Datagram> flowAtoB(std::uint16_t first_seq, int count) {
    for (int i = 0; i < count; ++i) {
      phoneA.sendTo(created.a.rtp, rtp(static_cast<std::uint16_t>(first_seq + i), kSsrcA));
    }
    return phoneB.drain();
  }
  std::vector<Peer::Datagram> flowBtoA(std::uint16_t first_seq, int count) {
    for (int i = 0; i < count; ++i) {
      phoneB.sendTo(created.b.rtp, rtp(static_cast<std::uint16_t>(first_seq + i), kSsrcB, 0x55));
    }
    return phoneA.drain();
  }
  // Sprays both relay ports of both legs like an attacker who guessed them,
  // with the call's own SSRCs and the next sequence numbers.
  void spray(const Peer& attacker, std::uint16_t first_seq, int burst) {
    for (std::uint16_t port : {created.a.rtp, created.a.rtcp, created.b.rtp, created.b.rtcp}) {
      attacker.sendTo(port, rtp(first_seq, kSsrcA, 0x00));  // single packet
      for (int i = 0; i < burst; ++i) {
        attacker.sendTo(port, rtp(static_cast<std::uint16_t>(first_seq + 1 + i), kSsrcB, 0x00));
      }
    }
  }

  static constexpr std::uint32_t kSsrcA = 0xAAAA0001;
  static constexpr std::uint32_t kSsrcB = 0xBBBB0002;
  testing::SharedManualClock clock;
  EventLog log;
  MediaRelay relay{config(), [this](const MediaEvent& e) { log.push(e); }, &clock};
  Peer phoneA;
  Peer phoneB;
  CreateResult created;
};

TEST_F(RelaySocketTest, PortsAreEvenOddPairsInRange) {
  const RelayConfig c = config();
  for (LegPorts p : {created.a, created.b}) {
    EXPECT_EQ(p.rtp % 2, 0);
    EXPECT_EQ(p.rtcp, p.rtp + 1);
    EXPECT_GE(p.rtp, c.port_min);
    EXPECT_LE(p.rtcp, c.port_max);
  }
  EXPECT_NE(created.a.rtp, created.b.rtp);
}

TEST_F(RelaySocketTest, BytesArriveBothWaysFromTheAdvertisedPort) {
  const auto atB = flowAtoB(1, 10);
  ASSERT_EQ(atB.size(), 10u);
  EXPECT_EQ(atB[0].bytes, rtp(1, kSsrcA));  // unchanged payload
  EXPECT_EQ(atB[9].bytes, rtp(10, kSsrcA));
  EXPECT_EQ(atB[0].from_port, created.b.rtp);  // symmetric: B's advertised port
  const auto atA = flowBtoA(1, 10);
  ASSERT_EQ(atA.size(), 10u);
  EXPECT_EQ(atA[3].bytes, rtp(4, kSsrcB, 0x55));
  EXPECT_EQ(atA[3].from_port, created.a.rtp);
  ASSERT_TRUE(log.waitFor(MediaEventKind::kLatched));
}

TEST_F(RelaySocketTest, RtcpGoesRtcpPortToRtcpPort) {
  std::vector<std::uint8_t> sr(28, 0);
  sr[0] = 0x80;
  sr[1] = 200;
  phoneA.sendTo(created.a.rtcp, sr);
  const auto got = phoneB.receive();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->bytes, sr);
  EXPECT_EQ(got->from_port, created.b.rtcp);
}

TEST_F(RelaySocketTest, AttackDuringLearningWindowDoesNotSwitchMedia) {
  ASSERT_EQ(flowAtoB(1, 3).size(), 3u);  // both latched, window open (2 s)
  ASSERT_EQ(flowBtoA(1, 3).size(), 3u);
  Peer attacker(0, INADDR_LOOPBACK + 1);  // 127.0.0.2: another host
  clock.advance(500ms);
  spray(attacker, 4, 50);
  const auto atB = flowAtoB(4, 20);
  const auto atA = flowBtoA(4, 20);
  EXPECT_TRUE(attacker.drain(300ms).empty()) << "the attacker received media";
  ASSERT_EQ(atB.size(), 20u);  // nothing of the attacker's, all of A's
  for (const auto& d : atB) EXPECT_EQ(d.bytes[20], 0xD5);
  ASSERT_EQ(atA.size(), 20u);
  for (const auto& d : atA) EXPECT_EQ(d.bytes[20], 0x55);
  // Every sprayed packet was dropped as foreign, RTCP ports included: RTCP
  // only latches to the IP its leg's RTP latched to.
  EXPECT_EQ(relay.counters().packets_dropped_foreign.load(), 4u * 51u);
}

TEST_F(RelaySocketTest, AttackAfterLearningWindowDoesNotSwitchMedia) {
  ASSERT_EQ(flowAtoB(1, 3).size(), 3u);
  ASSERT_EQ(flowBtoA(1, 3).size(), 3u);
  clock.advance(3s);                      // locked
  Peer attacker(0, INADDR_LOOPBACK + 1);  // 127.0.0.2: another host
  spray(attacker, 4, 100);
  const auto atB = flowAtoB(4, 20);
  const auto atA = flowBtoA(4, 20);
  EXPECT_TRUE(attacker.drain(300ms).empty()) << "the attacker received media";
  ASSERT_EQ(atB.size(), 20u);
  for (const auto& d : atB) EXPECT_EQ(d.bytes[20], 0xD5);
  ASSERT_EQ(atA.size(), 20u);
  relay.requestStats(created.id);
  const auto stats = log.waitFor(MediaEventKind::kStats);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->stats.b.latched_source, "127.0.0.1:" + std::to_string(phoneB.port()));
  EXPECT_EQ(stats->stats.b.foreign_dropped, 202u);  // 101 on the RTP port, 101 on RTCP
  EXPECT_EQ(stats->stats.a.foreign_dropped, 202u);
  EXPECT_EQ(stats->stats.b.last_foreign_source, "127.0.0.2:" + std::to_string(attacker.port()));
}

TEST_F(RelaySocketTest, AttackerFirstLosesToThePhoneAtTheSdpAddress) {
  Peer attacker(0, INADDR_LOOPBACK + 1);                 // 127.0.0.2: another host
  attacker.sendTo(created.b.rtp, rtp(1, kSsrcB, 0x00));  // before B's phone speaks
  ASSERT_TRUE(log.waitFor(MediaEventKind::kLatched));
  // Known limit of comedia with a private-looking SDP address: until the
  // phone speaks, the stranger's first packets are relayed to A (this one).
  ASSERT_EQ(phoneA.drain().size(), 1u);
  clock.advance(200ms);
  ASSERT_EQ(flowBtoA(1, 3).size(), 3u);  // B's phone, from its SDP address: wins
  ASSERT_EQ(flowAtoB(1, 3).size(), 3u);  // A speaks too
  auto latched = log.waitFor(MediaEventKind::kLatched);
  ASSERT_TRUE(latched);
  EXPECT_EQ(latched->text, "RTP 127.0.0.1:" + std::to_string(phoneB.port()));
  clock.advance(3s);
  spray(attacker, 10, 20);
  const auto atB = flowAtoB(4, 10);
  EXPECT_EQ(atB.size(), 10u);
  EXPECT_TRUE(attacker.drain(300ms).empty());
}

TEST_F(RelaySocketTest, LatchingFixesAnUnreachableSdpAddress) {
  // B advertises an address where nobody listens (a private address seen
  // from here); its real socket is elsewhere and sends first.
  Peer unreachable;
  const std::uint16_t dead_port = unreachable.port();
  RemoteMedia b = at(phoneB);
  b.rtp_port = dead_port;
  b.rtcp_port = dead_port;
  relay.setRemote(created.id, Leg::kB, b);
  ASSERT_EQ(flowBtoA(1, 3).size(), 3u);
  const auto atB = flowAtoB(1, 5);
  EXPECT_EQ(atB.size(), 5u);  // to where B really sends from
  EXPECT_TRUE(unreachable.drain(100ms).empty());
}

TEST_F(RelaySocketTest, ReInviteToNewPortRelatches) {
  ASSERT_EQ(flowBtoA(1, 3).size(), 3u);
  ASSERT_EQ(flowAtoB(1, 3).size(), 3u);
  clock.advance(30s);
  ASSERT_EQ(phoneA.receive()->bytes.size(), 12u);  // the keep-alives of 15 s silence
  ASSERT_EQ(phoneB.receive()->bytes.size(), 12u);
  Peer moved;
  relay.setRemote(created.id, Leg::kB, at(moved));  // re-INVITE: B's media moves
  for (int i = 0; i < 3; ++i) moved.sendTo(created.b.rtp, rtp(100 + i, kSsrcB, 0x55));
  EXPECT_EQ(phoneA.drain().size(), 3u);
  for (int i = 0; i < 5; ++i) phoneA.sendTo(created.a.rtp, rtp(10 + i, kSsrcA));
  EXPECT_EQ(moved.drain().size(), 5u);
  EXPECT_TRUE(phoneB.drain(100ms).empty());
}

TEST_F(RelaySocketTest, MalformedAndOversizedPacketsAreDroppedNotForwarded) {
  phoneA.sendTo(created.a.rtp, {});                                     // empty
  phoneA.sendTo(created.a.rtp, {0x80, 0x00, 0x01});                     // short
  phoneA.sendTo(created.a.rtp, std::vector<std::uint8_t>(200, 0));      // version 0
  phoneA.sendTo(created.a.rtp, std::vector<std::uint8_t>(4000, 0x80));  // oversized
  phoneA.sendTo(created.a.rtcp, rtp(1, kSsrcA));                        // RTP on the RTCP port
  EXPECT_TRUE(phoneB.drain(200ms).empty());
  EXPECT_EQ(flowAtoB(1, 2).size(), 2u);  // the relay still works
}

TEST_F(RelaySocketTest, MixedBurstIsCountedPacketByPacket) {
  // One burst that the relay drains with few recvmmsg() calls: the phone's
  // packets interleaved with a stranger's and with malformed ones. Each kind
  // is counted where a user looks (per-leg stats, relay counters), and only
  // the phone's packets reach B, in order.
  ASSERT_EQ(flowAtoB(1, 1).size(), 1u);   // A latched to its SDP address
  Peer stranger(0, INADDR_LOOPBACK + 1);  // 127.0.0.2
  ASSERT_TRUE(stranger.ok());
  for (int i = 0; i < 30; ++i) {
    phoneA.sendTo(created.a.rtp, rtp(static_cast<std::uint16_t>(2 + i), kSsrcA));
    if (i % 3 == 0)
      stranger.sendTo(created.a.rtp, rtp(static_cast<std::uint16_t>(900 + i), kSsrcA));
    if (i % 10 == 0) phoneA.sendTo(created.a.rtp, {0x80, 0x00, 0x01});  // too short: not RTP
  }
  const auto atB = phoneB.drain();
  ASSERT_EQ(atB.size(), 30u);
  for (int i = 0; i < 30; ++i) {
    EXPECT_EQ(atB[static_cast<std::size_t>(i)].bytes,
              rtp(static_cast<std::uint16_t>(2 + i), kSsrcA));
  }
  EXPECT_TRUE(stranger.drain(50ms).empty());
  relay.requestStats(created.id);
  const auto stats = log.waitFor(MediaEventKind::kStats);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->stats.a.rtp_packets_in, 31u);
  EXPECT_EQ(stats->stats.a.foreign_dropped, 10u);
  EXPECT_EQ(stats->stats.a.non_rtp_packets_in, 3u);
  EXPECT_EQ(stats->stats.a.last_foreign_source.rfind("127.0.0.2:", 0), 0u);
  EXPECT_EQ(stats->stats.b.rtp_packets_out, 31u);
  EXPECT_EQ(stats->stats.b.rtp_bytes_out, 31u * 172u);
  EXPECT_EQ(stats->stats.a.packets_lost, 0);
  EXPECT_EQ(relay.counters().packets_relayed.load(), 31u);
  EXPECT_EQ(relay.counters().packets_dropped_foreign.load(), 10u);
  EXPECT_EQ(relay.counters().packets_dropped_other.load(), 3u);
}

TEST_F(RelaySocketTest, KeepaliveReachesSilentLegFromItsAdvertisedPort) {
  clock.advance(15s);
  const auto atA = phoneA.receive(2000ms);
  ASSERT_TRUE(atA);
  EXPECT_EQ(atA->from_port, created.a.rtp);
  ASSERT_EQ(atA->bytes.size(), 12u);
  EXPECT_EQ(atA->bytes[0], 0x80);
  EXPECT_EQ(atA->bytes[1], 13);  // comfort noise, no payload
  EXPECT_TRUE(phoneB.receive(2000ms));
}

TEST_F(RelaySocketTest, OneWayAndTimeoutEventsCarryDiagnosisAndStats) {
  relay.answered(created.id);
  ASSERT_EQ(flowAtoB(1, 5).size(), 5u);
  clock.advance(5s);
  const auto one_way = log.waitFor(MediaEventKind::kOneWay);
  ASSERT_TRUE(one_way);
  EXPECT_EQ(one_way->leg, Leg::kB);
  EXPECT_NE(one_way->text.find("leg B sent none"), std::string::npos) << one_way->text;
  EXPECT_EQ(one_way->stats.a.rtp_packets_in, 5u);
  clock.advance(60s);
  const auto timeout = log.waitFor(MediaEventKind::kTimeout);
  ASSERT_TRUE(timeout);
  EXPECT_NE(timeout->text.find("media timeout"), std::string::npos);
}

TEST_F(RelaySocketTest, ReleaseReturnsPortsAndReportsFinalStats) {
  const std::size_t free_before = relay.freePortPairs();
  ASSERT_EQ(flowAtoB(1, 7).size(), 7u);
  relay.releaseSession(created.id);
  const auto final_stats = log.waitFor(MediaEventKind::kFinalStats);
  ASSERT_TRUE(final_stats);
  EXPECT_EQ(final_stats->session, created.id);
  EXPECT_EQ(final_stats->stats.a.rtp_packets_in, 7u);
  EXPECT_EQ(final_stats->stats.b.rtp_packets_out, 7u);
  EXPECT_EQ(relay.freePortPairs(), free_before + 2);
  // The sockets are closed: the ports can be bound again.
  Peer rebind(created.a.rtp);
  EXPECT_TRUE(rebind.ok());
  EXPECT_EQ(relay.counters().sessions_active.load(), 0u);
}

TEST(RelayPool, ExhaustionGivesAReasonAndReleaseRecovers) {
  RelayConfig c;
  c.bind_address = "127.0.0.1";
  c.port_min = static_cast<std::uint16_t>(60000 + (::getpid() % 100) * 40);
  c.port_max = static_cast<std::uint16_t>(c.port_min + 3);  // two pairs = one session
  EventLog log;
  MediaRelay relay(c, [&log](const MediaEvent& e) { log.push(e); });
  relay.start();
  const CreateResult first = relay.createSession();
  ASSERT_TRUE(first) << first.error;
  const CreateResult second = relay.createSession();
  EXPECT_FALSE(second);
  EXPECT_EQ(second.error, "no free RTP port pair in " + std::to_string(c.port_min) + "-" +
                              std::to_string(c.port_max));
  EXPECT_EQ(relay.freePortPairs(), 0u);  // the half-allocated pair went back... to nobody
  relay.releaseSession(first.id);
  ASSERT_TRUE(log.waitFor(MediaEventKind::kFinalStats));
  EXPECT_TRUE(relay.createSession());
}

TEST(RelayPool, PortHeldByAnotherProcessIsSkipped) {
  RelayConfig c;
  c.bind_address = "127.0.0.1";
  c.port_min = static_cast<std::uint16_t>(56000 + (::getpid() % 100) * 40);
  c.port_max = static_cast<std::uint16_t>(c.port_min + 7);
  Peer squatter(static_cast<std::uint16_t>(c.port_min + 1));  // the first pair's RTCP port
  ASSERT_TRUE(squatter.ok());
  MediaRelay relay(c);
  const CreateResult created = relay.createSession();
  ASSERT_TRUE(created) << created.error;
  EXPECT_NE(created.a.rtp, c.port_min);
  EXPECT_NE(created.b.rtp, c.port_min);
}

// An RTP range changed by the admin while a call is up: the call keeps its
// ports and its media flows, new sessions come from the new range, and when
// the old call ends its ports are closed and not handed out again.
TEST(RelayPool, RangeChangeAppliesToNewSessionsOnly) {
  RelayConfig c;
  c.bind_address = "127.0.0.1";
  c.port_min = static_cast<std::uint16_t>(48000 + (::getpid() % 100) * 40);
  c.port_max = static_cast<std::uint16_t>(c.port_min + 7);  // 4 pairs
  EventLog log;
  MediaRelay relay(c, [&log](const MediaEvent& e) { log.push(e); });
  relay.start();
  const CreateResult old_call = relay.createSession();
  ASSERT_TRUE(old_call) << old_call.error;
  const auto new_min = static_cast<std::uint16_t>(c.port_min + 20);
  const auto new_max = static_cast<std::uint16_t>(c.port_min + 23);  // 2 pairs = one session
  EXPECT_EQ(relay.setPortRange(new_min, new_max), "");
  EXPECT_EQ(relay.portRange(), (std::pair<std::uint16_t, std::uint16_t>{new_min, new_max}));
  EXPECT_EQ(relay.setPortRange(30001, 30001),
            "media port range 30001-30001 holds no even/odd RTP/RTCP port pair");
  const CreateResult new_call = relay.createSession();
  ASSERT_TRUE(new_call) << new_call.error;
  for (LegPorts p : {new_call.a, new_call.b}) {
    EXPECT_GE(p.rtp, new_min);
    EXPECT_LE(p.rtcp, new_max);
  }
  // The old call's media still flows through its old ports.
  Peer phoneA, phoneB;
  relay.setRemote(old_call.id, Leg::kA, at(phoneA));
  relay.setRemote(old_call.id, Leg::kB, at(phoneB));
  relay.requestStats(old_call.id);
  ASSERT_TRUE(log.waitFor(MediaEventKind::kStats));
  phoneA.sendTo(old_call.a.rtp, rtp(1, 0xA1));
  EXPECT_EQ(phoneB.drain().size(), 1u);
  EXPECT_EQ(relay.portPairsInUse(), 4u);
  // Full: the new range has no pair left, the old range's are not offered.
  const CreateResult third = relay.createSession();
  EXPECT_FALSE(third);
  EXPECT_EQ(third.error,
            "no free RTP port pair in " + std::to_string(new_min) + "-" + std::to_string(new_max));
  relay.releaseSession(old_call.id);
  ASSERT_TRUE(log.waitFor(MediaEventKind::kFinalStats));
  EXPECT_EQ(relay.portPairsInUse(), 2u);
  EXPECT_EQ(relay.freePortPairs(), 0u);  // the old pairs left the pool
  Peer rebind(old_call.a.rtp);           // and their sockets are closed
  EXPECT_TRUE(rebind.ok());
  EXPECT_FALSE(relay.createSession());
}

TEST(RelayPool, StopReturnsEveryPortAndCountsNoSession) {
  RelayConfig c;
  c.bind_address = "127.0.0.1";
  c.port_min = static_cast<std::uint16_t>(52000 + (::getpid() % 100) * 40);
  c.port_max = static_cast<std::uint16_t>(c.port_min + 39);  // 20 pairs
  MediaRelay relay(c);
  ASSERT_TRUE(relay.createSession());  // queued before start: never applied
  relay.start();
  ASSERT_TRUE(relay.createSession());
  ASSERT_TRUE(relay.createSession());
  EXPECT_EQ(relay.freePortPairs(), 14u);
  EXPECT_EQ(relay.counters().sessions_active.load(), 3u);
  relay.stop();
  EXPECT_EQ(relay.freePortPairs(), 20u);
  EXPECT_EQ(relay.counters().sessions_active.load(), 0u);
  relay.stop();  // twice is fine
}

TEST(RelayConfigCheck, BadRangeOrAddressThrowsAtStartUp) {
  RelayConfig c;
  c.port_min = 10001;
  c.port_max = 10001;
  EXPECT_THROW(MediaRelay{c}, std::invalid_argument);
  c = RelayConfig{};
  c.bind_address = "pbx.example.com";
  EXPECT_THROW(MediaRelay{c}, std::invalid_argument);
}

TEST(RelayConfigCheck, UnbindableAddressIsACreateError) {
  RelayConfig c;
  c.bind_address = "192.0.2.123";  // TEST-NET: not on this machine
  c.port_min = 30000;
  c.port_max = 30009;
  MediaRelay relay(c);
  const CreateResult created = relay.createSession();
  EXPECT_FALSE(created);
  EXPECT_NE(created.error.find("cannot bind RTP socket on 192.0.2.123:"), std::string::npos)
      << created.error;
  EXPECT_EQ(relay.freePortPairs(), 5u);  // nothing leaked
}

}  // namespace
}  // namespace duplex::media
