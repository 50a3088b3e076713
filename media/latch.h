// Latching of one relay socket (one leg, RTP or RTCP): which source the relay
// accepts packets from and where it sends packets for that leg. Socket-free
// and clock-free: the caller passes the time (STYLE.md 4).
//
// Rules (DESIGN.md "Latch safely"; issue 4 section 2):
//   - reset() (each offer/answer) sets the SDP address and reopens learning;
//     the learning window starts with the first packet after it and lasts
//     `window`.
//   - In the window the first packet latches its source; a later packet
//     switches the latch only if its source ranks higher: 3 = the exact SDP
//     address, 2 = same IP as the SDP address, the SIP signalling address or
//     the source latched before the reset (if that latch was itself of rank
//     2 or 3: a stranger's latch is forgotten at a reset), 1 = anything else. Equal rank never
//     switches, so a third party cannot take over a leg whose phone spoke first.
//   - A source of rank 1 never latches when the SDP address is a public one
//     (the phone said where it is, and a stranger is not it), nor, on the RTCP
//     socket, when the leg's RTP is latched and the source's IP differs from
//     it (`companion`): RTCP comes from where RTP comes from.
//   - After the window the latch is locked: only the latched source is
//     accepted; everything else is dropped (the caller counts it). One
//     exception: a latch of rank 1 (a stranger: a spray that arrived before
//     the phone spoke opened the window) still gives way to a source of rank
//     2 or 3 after the window, so an attacker spraying the port while the
//     call rings cannot keep the leg once the phone's own packets come.
//   - destination(): the latched source; before any latch, the SDP address,
//     except when a reset kept the SDP address unchanged or gave none
//     (0.0.0.0 hold): then the previous latch stays the destination until a
//     new packet latches.
//
// For: media/relay_session.h. Thread: the relay thread (a plain value).
#pragma once

#include <optional>

#include "media/address.h"
#include "media/clock.h"

namespace duplex::media {

class Latch {
 public:
  using TimePoint = Clock::TimePoint;
  using Duration = Clock::TimePoint::duration;

  enum class Verdict {
    kAccept,   // from the latched source: forward
    kLatched,  // newly latched or switched to this source: forward
    kDrop,     // foreign: drop and count
  };

  explicit Latch(Duration window = std::chrono::seconds(2)) : window_(window) {}

  // An offer/answer: `sdp` may be unset or null (0.0.0.0) for "no address";
  // `signal` is the SIP source (its port is ignored), unset if unknown.
  void reset(const UdpAddress& sdp, const UdpAddress& signal);
  // `companion`: for an RTCP latch, the leg's latched RTP source (may be unset).
  // Inline fast path: nearly every packet comes from the latched source.
  Verdict onPacket(const UdpAddress& source, TimePoint now, const UdpAddress* companion = nullptr) {
    if (latched_.isSet() && source == latched_) return Verdict::kAccept;
    return onOtherSource(source, now, companion);
  }

  // Where packets for this leg go; unset when there is nowhere to send yet.
  // Inline: asked for every forwarded packet.
  const UdpAddress& destination() const {
    if (latched_.isSet()) return latched_;
    if (!prefer_previous_ && sdp_usable_) return sdp_;
    return previous_;  // unset when never latched
  }
  const UdpAddress& latched() const { return latched_; }
  const UdpAddress& sdp() const { return sdp_; }
  bool learning(TimePoint now) const;

 private:
  int rank(const UdpAddress& source, const UdpAddress* companion) const;
  Verdict onOtherSource(const UdpAddress& source, TimePoint now, const UdpAddress* companion);

  Duration window_;
  UdpAddress sdp_;
  bool sdp_usable_ = false;  // sdp_ is set and not null (0.0.0.0 / port 0)
  UdpAddress signal_;
  UdpAddress latched_;
  UdpAddress previous_;  // the latch before the last reset, if it was of rank 2 or 3
  bool prefer_previous_ = false;
  int latched_rank_ = 0;
  std::optional<TimePoint> window_start_;
};

}  // namespace duplex::media
