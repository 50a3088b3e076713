// RTP classification and the RFC 3550 receive statistics (loss, jitter).
#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "media/rtp_stats.h"

namespace duplex::media {
namespace {

using namespace std::chrono_literals;

std::array<std::uint8_t, 172> rtp(std::uint16_t seq, std::uint32_t ts, std::uint32_t ssrc = 7) {
  std::array<std::uint8_t, 172> p{};
  p[0] = 0x80;
  p[1] = 0;
  p[2] = static_cast<std::uint8_t>(seq >> 8);
  p[3] = static_cast<std::uint8_t>(seq);
  p[4] = static_cast<std::uint8_t>(ts >> 24);
  p[5] = static_cast<std::uint8_t>(ts >> 16);
  p[6] = static_cast<std::uint8_t>(ts >> 8);
  p[7] = static_cast<std::uint8_t>(ts);
  p[8] = static_cast<std::uint8_t>(ssrc >> 24);
  p[11] = static_cast<std::uint8_t>(ssrc);
  return p;
}

TEST(ClassifyPacket, RtpRtcpAndOther) {
  auto p = rtp(1, 160);
  EXPECT_EQ(classifyPacket(p.data(), p.size()), PacketKind::kRtp);
  p[1] = 200;  // RTCP SR (RFC 5761 4)
  EXPECT_EQ(classifyPacket(p.data(), 28), PacketKind::kRtcp);
  p[1] = 0x80 | 13;  // marker + CN is still RTP
  EXPECT_EQ(classifyPacket(p.data(), p.size()), PacketKind::kRtp);
  p[0] = 0x40;  // version 1
  EXPECT_EQ(classifyPacket(p.data(), p.size()), PacketKind::kOther);
  const std::uint8_t stun[20] = {0x00, 0x01};
  EXPECT_EQ(classifyPacket(stun, sizeof stun), PacketKind::kOther);
  EXPECT_EQ(classifyPacket(p.data(), 0), PacketKind::kOther);
  p[0] = 0x80;
  p[1] = 0;
  EXPECT_EQ(classifyPacket(p.data(), 11), PacketKind::kOther);  // shorter than an RTP header
}

TEST(RtpReceiveStats, CountsLossFromSequenceGapsAcrossWrap) {
  RtpReceiveStats stats;
  ManualClock clock;
  std::uint16_t seq = 65500;
  std::uint32_t ts = 0;
  int sent = 0;
  for (int i = 0; i < 100; ++i, ++seq, ts += 160) {
    if (i % 10 == 3) continue;  // every tenth packet lost
    auto p = rtp(seq, ts);
    stats.onPacket(p.data(), p.size(), clock.now());
    clock.advance(20ms);
    ++sent;
  }
  EXPECT_EQ(stats.received(), static_cast<std::uint64_t>(sent));
  EXPECT_EQ(stats.lost(), 10);
}

TEST(RtpReceiveStats, NoLossAndNoJitterForPerfectPacing) {
  RtpReceiveStats stats;
  ManualClock clock;
  for (std::uint16_t i = 0; i < 50; ++i) {
    auto p = rtp(i, 1000u + i * 160u);
    stats.onPacket(p.data(), p.size(), clock.now());
    clock.advance(20ms);
  }
  EXPECT_EQ(stats.lost(), 0);
  EXPECT_NEAR(stats.jitterMs(), 0.0, 0.2);
}

TEST(RtpReceiveStats, JitterConvergesToTheDelayVariation) {
  // Arrival gaps alternate 30 ms and 10 ms for a 20 ms timestamp step: |D| =
  // 10 ms for every packet, so J tends to 10 ms (RFC 3550 A.8 J += (|D| - J)/16).
  RtpReceiveStats stats;
  ManualClock clock;
  for (std::uint16_t i = 0; i < 400; ++i) {
    auto p = rtp(i, i * 160u);
    stats.onPacket(p.data(), p.size(), clock.now());
    clock.advance(i % 2 == 0 ? 30ms : 10ms);
  }
  EXPECT_NEAR(stats.jitterMs(), 10.0, 0.5);
}

TEST(RtpReceiveStats, JitterIsExactAtOtherClockRatesAndLateTimes) {
  // 48 kHz (Opus), 20 ms = 960 units, arrivals ~3 years after the clock's
  // epoch (ns * rate overflows 64 bits): the same 10 ms |D| as at 8 kHz.
  RtpReceiveStats stats;
  stats.setClockRate(48000);
  ManualClock clock;
  clock.advance(std::chrono::hours(24 * 365 * 3));
  for (std::uint16_t i = 0; i < 400; ++i) {
    auto p = rtp(i, 5000u + i * 960u);
    stats.onPacket(p.data(), p.size(), clock.now());
    clock.advance(i % 2 == 0 ? 30ms : 10ms);
  }
  EXPECT_NEAR(stats.jitterMs(), 10.0, 0.5);
  // Perfect pacing at 90 kHz (video): no jitter at all.
  RtpReceiveStats video;
  video.setClockRate(90000);
  for (std::uint16_t i = 0; i < 100; ++i) {
    auto p = rtp(i, 77u + i * 1800u);  // 1800 units = 20 ms
    video.onPacket(p.data(), p.size(), clock.now());
    clock.advance(20ms);
  }
  EXPECT_EQ(video.jitterMs(), 0.0);
}

TEST(RtpReceiveStats, NewSsrcKeepsEarlierLoss) {
  RtpReceiveStats stats;
  ManualClock clock;
  for (std::uint16_t s : {1, 2, 5}) {  // 2 lost
    auto p = rtp(s, s * 160u, 1);
    stats.onPacket(p.data(), p.size(), clock.now());
  }
  for (std::uint16_t s : {900, 901, 903}) {  // new SSRC: 1 lost
    auto p = rtp(s, s * 160u, 2);
    stats.onPacket(p.data(), p.size(), clock.now());
  }
  EXPECT_EQ(stats.lost(), 3);
  EXPECT_EQ(stats.received(), 6u);
}

TEST(RtpReceiveStats, DuplicatesCountAsNegativeLoss) {
  RtpReceiveStats stats;
  ManualClock clock;
  for (std::uint16_t s : {10, 11, 11, 12}) {
    auto p = rtp(s, s * 160u);
    stats.onPacket(p.data(), p.size(), clock.now());
  }
  EXPECT_EQ(stats.lost(), -1);  // RFC 3550 6.4.1: duplicates make it negative
}

}  // namespace
}  // namespace duplex::media
