// RTP header checks and the receive statistics of RFC 3550 A.1 (sequence
// numbers, extended highest sequence, expected vs received) and A.8
// (interarrival jitter) for the stream one leg sends. Socket- and clock-free:
// the arrival time is passed in. No allocation.
//
// For: media/relay_session.h. Thread: the relay thread (a plain value).
#pragma once

#include <cstddef>
#include <cstdint>

#include "media/clock.h"

namespace duplex::media {

enum class PacketKind { kRtp, kRtcp, kOther };

// RFC 3550 5.1 / 6.4 and RFC 5761 4: version 2, at least a fixed header, and
// RTCP told from RTP by the second byte (payload types 192-223 are RTCP).
// Inline: the relay classifies every packet.
inline PacketKind classifyPacket(const std::uint8_t* data, std::size_t length) {
  if (length < 8 || (data[0] >> 6) != 2) return PacketKind::kOther;
  // RFC 5761 4: RTCP packet types 200-204 (and up to 223 reserved) have the
  // marker bit set when read as RTP, so the full second byte is 192-223.
  if (data[1] >= 192 && data[1] <= 223) return PacketKind::kRtcp;
  if (length < 12) return PacketKind::kOther;
  return PacketKind::kRtp;
}

class RtpReceiveStats {
 public:
  // `clock_rate` converts arrival times to RTP timestamp units (jitter).
  void setClockRate(int clock_rate) { clock_rate_ = clock_rate > 0 ? clock_rate : 8000; }
  // One RTP packet (classifyPacket() == kRtp) received at `arrival`.
  void onPacket(const std::uint8_t* data, std::size_t length, Clock::TimePoint arrival);

  std::uint64_t received() const { return received_; }
  // Expected minus received over every SSRC seen (RFC 3550 A.3).
  std::int64_t lost() const;
  // Interarrival jitter in milliseconds (RFC 3550 A.8).
  double jitterMs() const;

 private:
  void restart(std::uint32_t ssrc, std::uint16_t seq);

  int clock_rate_ = 8000;
  bool started_ = false;
  std::uint32_t ssrc_ = 0;
  std::uint16_t max_seq_ = 0;
  std::uint32_t cycles_ = 0;
  std::uint32_t base_seq_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t received_this_ssrc_ = 0;
  std::int64_t lost_before_ = 0;  // of earlier SSRCs
  bool have_transit_ = false;
  std::int64_t last_transit_ = 0;
  double jitter_ = 0;  // in timestamp units
  // The last arrival time converted to timestamp units (at arrival_rate_).
  std::int64_t arrival_ns_ = -1;
  int arrival_rate_ = 0;
  std::int64_t arrival_units_ = 0;
};

}  // namespace duplex::media
