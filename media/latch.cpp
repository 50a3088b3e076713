#include "media/latch.h"

namespace duplex::media {

void Latch::reset(const UdpAddress& sdp, const UdpAddress& signal) {
  const bool sdp_changed = !(sdp == sdp_);
  if (latched_.isSet()) {
    // Only a latch that matched the call (rank 2 or 3) is remembered: a
    // stranger that sprayed the port before an answer earns nothing by it.
    previous_ = latched_rank_ >= 2 ? latched_ : UdpAddress();
  }
  // A re-offer with the same address, or one without any (hold with
  // 0.0.0.0), keeps sending where media really went until packets say more.
  prefer_previous_ = previous_.isSet() && (!sdp_changed || sdp.isNull());
  sdp_ = sdp;
  sdp_usable_ = sdp_.isSet() && !sdp_.isNull();
  signal_ = signal;
  latched_ = UdpAddress();
  latched_rank_ = 0;
  window_start_.reset();
}

int Latch::rank(const UdpAddress& source, const UdpAddress* companion) const {
  if (sdp_usable_ && source == sdp_) return 3;
  if (sdp_usable_ && source.sameIp(sdp_)) return 2;
  if (signal_.isSet() && source.sameIp(signal_)) return 2;
  if (previous_.isSet() && source.sameIp(previous_)) return 2;
  if (companion != nullptr && companion->isSet() && source.sameIp(*companion)) return 2;
  return 1;
}

bool Latch::learning(TimePoint now) const {
  return !window_start_ || now < *window_start_ + window_;
}

Latch::Verdict Latch::onOtherSource(const UdpAddress& source, TimePoint now,
                                    const UdpAddress* companion) {
  const int r = rank(source, companion);
  if (r == 1) {
    // A stranger: never when the SDP gave a public address the phone should
    // send from, and never for RTCP once RTP has shown where the phone is.
    if (sdp_usable_ && !sdp_.isPrivate()) return Verdict::kDrop;
    if (companion != nullptr && companion->isSet()) return Verdict::kDrop;
  }
  if (!window_start_) window_start_ = now;
  if (!learning(now)) {
    // Locked after the window. A stranger's latch (rank 1) is no lock: a
    // spray that reached the port before the phone spoke (ringing, a late
    // first packet) opened the window; the phone's own packets, from its
    // SDP or signalling address, still take the leg over.
    if (latched_.isSet() && latched_rank_ == 1 && r > 1) {
      latched_ = source;
      latched_rank_ = r;
      return Verdict::kLatched;
    }
    return Verdict::kDrop;
  }
  if (!latched_.isSet() || r > latched_rank_) {
    latched_ = source;
    latched_rank_ = r;
    return Verdict::kLatched;
  }
  return Verdict::kDrop;
}

}  // namespace duplex::media
