// Per-leg media facts of a relay session (DESIGN.md: "every call keeps
// per-leg facts so one-way audio is diagnosed, not guessed"): where the leg
// said it would send from, where packets really came from, how many went each
// way, loss and jitter of what the leg sent, and what was dropped as foreign.
//
// For: pbx/call (the call record's media_facts), admin (status views).
// Thread: plain values, copied out of the relay thread in MediaEvent; any
// thread may read a copy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace duplex::media {

enum class Leg : std::uint8_t { kA = 0, kB = 1 };
inline Leg otherLeg(Leg leg) {
  return leg == Leg::kA ? Leg::kB : Leg::kA;
}
inline const char* toString(Leg leg) {
  return leg == Leg::kA ? "A" : "B";
}

struct LegStats {
  std::string sdp_address;     // "10.0.0.5:4000" from the leg's SDP; "" before any
  std::string advertised;      // the relay address given to this leg, "203.0.113.1:10000"
  std::string first_source;    // source of the first RTP packet received; "" if none
  std::string latched_source;  // the RTP source media is locked to; "" if none
  std::optional<std::int64_t> first_packet_ms;  // ms from setRemote() to the first packet
  bool hold = false;

  // "in" = received from this leg's phone; "out" = sent by the relay to it.
  std::uint64_t rtp_packets_in = 0;
  std::uint64_t rtp_bytes_in = 0;
  std::uint64_t rtp_packets_out = 0;
  std::uint64_t rtp_bytes_out = 0;
  std::uint64_t rtcp_packets_in = 0;
  std::uint64_t rtcp_packets_out = 0;
  std::uint64_t non_rtp_packets_in = 0;  // from the latched source but not RTP/RTCP
  std::uint64_t foreign_dropped = 0;     // from a source other than the latched one
  std::string last_foreign_source;       // the last such source, "" if none
  std::uint64_t keepalives_sent = 0;
  std::uint64_t send_errors = 0;  // sendmmsg refusals toward this leg

  // From the RTP sequence numbers and timestamps this leg sent (RFC 3550 A.3, A.8).
  std::int64_t packets_lost = 0;  // expected - received; may be negative with duplicates
  double jitter_ms = 0;
};

struct SessionStats {
  LegStats a;
  LegStats b;
  std::int64_t duration_ms = 0;  // from creation to the snapshot
  const LegStats& leg(Leg l) const { return l == Leg::kA ? a : b; }
  LegStats& leg(Leg l) { return l == Leg::kA ? a : b; }
};

// The call record's media_facts: one JSON object,
// {"a":{"sdp_address":...,"rtp_packets_in":...},"b":{...},"duration_ms":...}
// with every LegStats field (absent optionals as null); plus "diagnosis"
// when `diagnosis` is not empty.
std::string mediaFactsJson(const SessionStats& stats, const std::string& diagnosis = {});

}  // namespace duplex::media
