// The logic of one relay session (two legs, RTP and RTCP each): latching,
// statistics, keep-alive and media-timeout schedules and the one-way check.
// Socket-free and clock-free (STYLE.md 4): the engine (relay.cpp) passes each
// received packet and the time in and does what the answers say; tests drive
// it with a ManualClock. No allocation per packet.
//
// For: media/relay.cpp, tests. Thread: the relay thread (a plain value).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "media/address.h"
#include "media/clock.h"
#include "media/latch.h"
#include "media/media_stats.h"
#include "media/relay.h"
#include "media/rtp_stats.h"

namespace duplex::media {

enum class Channel : std::uint8_t { kRtp = 0, kRtcp = 1 };

struct RelayTimings {
  Clock::TimePoint::duration learning_window = std::chrono::seconds(2);
  Clock::TimePoint::duration keepalive_interval = std::chrono::seconds(15);
  Clock::TimePoint::duration timeout = std::chrono::seconds(60);
  Clock::TimePoint::duration one_way_after = std::chrono::seconds(5);
};

// What tick() asks the engine to do.
struct TickActions {
  std::array<bool, 2> keepalive{};  // send a keep-alive toward leg A / B (RTP socket)
  bool timed_out = false;           // emit kTimeout with `text`
  bool one_way = false;             // emit kOneWay for `one_way_leg` with `text`
  Leg one_way_leg = Leg::kA;
  std::string text;
};

class RelaySession {
 public:
  using TimePoint = Clock::TimePoint;

  RelaySession(const RelayTimings& timings, TimePoint now);

  // An offer/answer for `leg` (RemoteMedia as in relay.h). `socket_family`
  // is the relay sockets' family: IPv4 SDP addresses are mapped for IPv6
  // sockets. Reopens learning on both channels of the leg.
  void setRemote(Leg leg, const RemoteMedia& remote, int socket_family, TimePoint now);
  void setHold(Leg leg, bool hold);
  void setAdvertised(Leg leg, const std::string& advertised);
  void answered(TimePoint now);
  bool hold(Leg leg) const { return legs_[index(leg)].hold; }

  // A packet arrived on `from`'s `channel` socket from `source`. Returns the
  // address to send it to (out of the other leg's socket of the same channel),
  // or nullptr to drop it. `latched` is set when this packet (re)latched the
  // leg's channel.
  // Inline (below): the relay calls it for every packet; the rare steps
  // (first packet of a leg, a new latch) are out of line.
  const UdpAddress* onPacket(Leg from, Channel channel, const UdpAddress& source,
                             const std::uint8_t* data, std::size_t length, TimePoint now,
                             bool& latched);
  // The engine sent (ok) or failed to send a packet toward `to`.
  void onSent(Leg to, Channel channel, std::size_t bytes, bool ok, TimePoint now);
  // The engine sent `packets` packets of `bytes` bytes in all toward `to` (one sendmmsg()).
  void onSentBatch(Leg to, Channel channel, std::uint64_t packets, std::uint64_t bytes,
                   TimePoint now) {
    LegState& leg = legs_[index(to)];
    if (channel == Channel::kRtp) {
      leg.stats.rtp_packets_out += packets;
      leg.stats.rtp_bytes_out += bytes;
      leg.last_sent = now;
    } else {
      leg.stats.rtcp_packets_out += packets;
    }
  }
  void onKeepaliveSent(Leg to, TimePoint now);

  // Where a keep-alive toward `to` goes (unset: nowhere yet).
  const UdpAddress& destination(Leg to, Channel channel) const;
  const UdpAddress& latched(Leg leg, Channel channel) const;

  // Timers; call at least every few hundred ms.
  void tick(TimePoint now, TickActions& actions);

  SessionStats stats(TimePoint now) const;
  // Cheap per-batch reads for the engine's counters.
  std::uint64_t foreignDropped(Leg leg) const { return legs_[index(leg)].stats.foreign_dropped; }

 private:
  struct LegState {
    std::array<Latch, 2> latch;  // per channel
    UdpAddress sdp;              // RTP address of the SDP as written (not IPv6-mapped)
    UdpAddress signal;
    UdpAddress advertised;
    bool hold = false;
    bool have_remote = false;
    TimePoint remote_at{};
    RtpReceiveStats rtp;
    LegStats stats;
    TimePoint last_sent{};              // last packet sent toward this leg on RTP (keep-alive)
    std::uint64_t rtp_in_at_check = 0;  // baseline of the one-way check
    std::uint64_t rtcp_in_at_check = 0;
    std::uint64_t non_rtp_at_check = 0;
    std::uint64_t foreign_at_check = 0;
    UdpAddress last_foreign;
  };
  static std::size_t index(Leg leg) { return static_cast<std::size_t>(leg); }
  bool anyHold() const { return legs_[0].hold || legs_[1].hold; }
  void armOneWayCheck(TimePoint now);
  void recordFirstPacket(LegState& leg, const UdpAddress& source, TimePoint now);
  static void recordLatch(LegState& leg, Channel channel, const UdpAddress& source);
  void checkOneWay(TickActions& actions);

  RelayTimings timings_;
  TimePoint created_;
  std::array<LegState, 2> legs_;
  bool answered_ = false;
  bool timed_out_ = false;
  bool one_way_armed_ = false;
  TimePoint one_way_due_{};
  TimePoint last_rtp_{};  // last RTP received from either leg (timeout)
};

inline const UdpAddress* RelaySession::onPacket(Leg from, Channel channel, const UdpAddress& source,
                                                const std::uint8_t* data, std::size_t length,
                                                TimePoint now, bool& latched) {
  latched = false;
  LegState& leg = legs_[index(from)];
  const auto ch = static_cast<std::size_t>(channel);
  if (channel == Channel::kRtp && leg.stats.first_source.empty()) {
    recordFirstPacket(leg, source, now);  // once per leg
  }
  const UdpAddress* companion = channel == Channel::kRtcp ? &leg.latch[0].latched() : nullptr;
  switch (leg.latch[ch].onPacket(source, now, companion)) {
    case Latch::Verdict::kDrop:
      ++leg.stats.foreign_dropped;
      leg.last_foreign = source;
      return nullptr;
    case Latch::Verdict::kLatched:
      latched = true;
      recordLatch(leg, channel, source);
      break;
    case Latch::Verdict::kAccept:
      break;
  }
  switch (classifyPacket(data, length)) {
    case PacketKind::kRtp:
      if (channel == Channel::kRtp) {
        ++leg.stats.rtp_packets_in;
        leg.stats.rtp_bytes_in += length;
        leg.rtp.onPacket(data, length, now);
        last_rtp_ = now;
      } else {
        ++leg.stats.non_rtp_packets_in;  // RTP on the RTCP port: not forwarded
        return nullptr;
      }
      break;
    case PacketKind::kRtcp:
      ++leg.stats.rtcp_packets_in;
      break;
    case PacketKind::kOther:
      ++leg.stats.non_rtp_packets_in;  // keep-alives, STUN: latch, never forwarded
      return nullptr;
  }
  const UdpAddress& to = legs_[index(otherLeg(from))].latch[ch].destination();
  return to.isSet() && !to.isNull() ? &to : nullptr;
}

}  // namespace duplex::media
