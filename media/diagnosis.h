// One-way-audio diagnosis: turns the facts the relay saw about a silent leg
// into one plain-language reason (DESIGN.md "When something fails, say why").
// One rule per cause the relay can tell apart, tried in this order:
//   kNoSdpAddress        the SDP gave no usable address (0.0.0.0, port 0, none)
//   kForeignOnly         packets came, but only from a source other than the
//                        latched one; they were dropped
//   kNonRtpOnly          only non-RTP packets (keep-alives, STUN), no audio
//   kRtcpOnly            RTCP reports but no RTP: muted or no audio source
//   kPbxAddressPrivate   the PBX advertised a private address to a phone on
//                        the Internet (main_address not set or wrong)
//   kPrivateBehindNat    the phone advertised a private address, its SIP came
//                        from a public one (behind NAT), and it never sent
//                        media: its RTP ports are not reachable
//   kLanSilent           a LAN phone never sent media to the relay port
//   kPublicSilent        a phone with a public address never sent media:
//                        firewall in front of the PBX, or the phone cannot
//                        reach the advertised address
// Facts that do not decide the rule are appended: the talking leg sends from
// another address than its SDP said (NAT, latched), and sends toward the
// silent leg that the kernel refused.
//
// For: media/relay_session.h (relay thread); pure function, any thread.
#pragma once

#include <cstdint>
#include <string>

#include "media/address.h"
#include "media/media_stats.h"

namespace duplex::media {

enum class DiagnosisRule {
  kNoSdpAddress,
  kForeignOnly,
  kNonRtpOnly,
  kRtcpOnly,
  kPbxAddressPrivate,
  kPrivateBehindNat,
  kLanSilent,
  kPublicSilent,
};

// What the relay knows about the silent leg.
struct SilentLegFacts {
  Leg leg = Leg::kA;
  UdpAddress sdp;         // unset when the leg never gave one
  UdpAddress signal;      // SIP source (port ignored); unset if unknown
  UdpAddress advertised;  // relay address given to this leg; unset if unknown
  std::uint64_t rtcp_in = 0;
  std::uint64_t non_rtp_in = 0;
  std::uint64_t foreign_dropped = 0;
  std::string foreign_source;  // the last foreign source
  std::string latched_source;
  std::uint64_t other_leg_packets = 0;  // what the other leg sent meanwhile
  // The talking leg: when its media came from another address than its SDP
  // said, the text adds that fact (it is behind NAT; the relay latched).
  UdpAddress other_sdp;
  UdpAddress other_latched;
  std::uint64_t send_errors = 0;  // sends toward the silent leg the kernel refused
};

struct Diagnosis {
  DiagnosisRule rule = DiagnosisRule::kPublicSilent;
  std::string text;
};

Diagnosis diagnoseSilentLeg(const SilentLegFacts& facts);

}  // namespace duplex::media
