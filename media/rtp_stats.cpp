#include "media/rtp_stats.h"

#include <cstdlib>

namespace duplex::media {

void RtpReceiveStats::restart(std::uint32_t ssrc, std::uint16_t seq) {
  if (started_) lost_before_ = lost();
  started_ = true;
  ssrc_ = ssrc;
  base_seq_ = seq;
  max_seq_ = seq;
  cycles_ = 0;
  received_this_ssrc_ = 0;
  have_transit_ = false;
}

void RtpReceiveStats::onPacket(const std::uint8_t* data, std::size_t length,
                               Clock::TimePoint arrival) {
  if (length < 12) return;
  const std::uint16_t seq = static_cast<std::uint16_t>(data[2] << 8 | data[3]);
  const std::uint32_t timestamp = static_cast<std::uint32_t>(data[4]) << 24 |
                                  static_cast<std::uint32_t>(data[5]) << 16 |
                                  static_cast<std::uint32_t>(data[6]) << 8 | data[7];
  const std::uint32_t ssrc = static_cast<std::uint32_t>(data[8]) << 24 |
                             static_cast<std::uint32_t>(data[9]) << 16 |
                             static_cast<std::uint32_t>(data[10]) << 8 | data[11];
  if (!started_ || ssrc != ssrc_) restart(ssrc, seq);

  // RFC 3550 A.1 update_seq, without the probation (the relay counts, it
  // does not validate sources).
  constexpr std::uint16_t kMaxDropout = 3000;
  constexpr std::uint16_t kMaxMisorder = 100;
  const std::uint16_t delta = static_cast<std::uint16_t>(seq - max_seq_);
  if (received_this_ssrc_ == 0) {
    // first packet of this SSRC: base set by restart()
  } else if (delta < kMaxDropout) {
    if (seq < max_seq_) cycles_ += 65536;
    max_seq_ = seq;
  } else if (delta <= 65535 - kMaxMisorder) {
    // A very large jump: the sender restarted its sequence; start over.
    restart(ssrc, seq);  // folds what was lost so far into lost_before_
  }
  // else: duplicate or reordered packet, counted as received
  ++received_;
  ++received_this_ssrc_;

  // RFC 3550 A.8: transit time in timestamp units; jitter += (|D| - jitter) / 16.
  // arrival in timestamp units = ns * rate / 1e9, exactly, without a 128-bit
  // division per packet: whole seconds and the remainder apart (r * rate < 2^63).
  // The relay stamps a whole batch with one time: convert it once.
  const std::int64_t ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(arrival.time_since_epoch()).count();
  if (ns != arrival_ns_ || clock_rate_ != arrival_rate_) {
    constexpr std::int64_t kNsPerSecond = 1'000'000'000;
    const std::int64_t rate = clock_rate_;
    arrival_ns_ = ns;
    arrival_rate_ = clock_rate_;
    arrival_units_ = ns / kNsPerSecond * rate + ns % kNsPerSecond * rate / kNsPerSecond;
  }
  const std::int64_t arrival_units = arrival_units_;
  const std::int64_t transit = static_cast<std::int64_t>(
      static_cast<std::uint32_t>(static_cast<std::uint32_t>(arrival_units) - timestamp));
  if (have_transit_) {
    std::int64_t d = static_cast<std::int32_t>(static_cast<std::uint32_t>(transit - last_transit_));
    d = std::llabs(d);
    jitter_ += (static_cast<double>(d) - jitter_) / 16.0;
  }
  last_transit_ = transit;
  have_transit_ = true;
}

std::int64_t RtpReceiveStats::lost() const {
  if (!started_) return lost_before_;
  const std::int64_t extended_max = static_cast<std::int64_t>(cycles_) + max_seq_;
  const std::int64_t expected = extended_max - base_seq_ + 1;
  return lost_before_ + expected - static_cast<std::int64_t>(received_this_ssrc_);
}

double RtpReceiveStats::jitterMs() const {
  return jitter_ * 1000.0 / clock_rate_;
}

}  // namespace duplex::media
