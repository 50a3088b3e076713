#include "media/diagnosis.h"

namespace duplex::media {
namespace {

std::string who(const SilentLegFacts& f) {
  std::string text = "the phone on leg ";
  text += toString(f.leg);
  if (f.signal.isSet()) {
    text += " (SIP from " + f.signal.ip() + ")";
  } else if (f.sdp.isSet() && !f.sdp.isNull()) {
    text += " (" + f.sdp.ip() + ")";
  }
  return text;
}

std::string heard(const SilentLegFacts& f) {
  return "one-way audio: leg " + std::string(toString(otherLeg(f.leg))) + " sent " +
         std::to_string(f.other_leg_packets) + " RTP packets, leg " + toString(f.leg) +
         " sent none; ";
}

std::string advertisedText(const SilentLegFacts& f) {
  return f.advertised.isSet() ? f.advertised.toString() : std::string("its relay port");
}

}  // namespace

Diagnosis diagnoseSilentLeg(const SilentLegFacts& f) {
  Diagnosis d;
  const std::string start = heard(f) + who(f);
  if (!f.sdp.isSet() || f.sdp.isNull()) {
    d.rule = DiagnosisRule::kNoSdpAddress;
    d.text = start + " gave no media address in its SDP (" +
             (f.sdp.isSet() ? f.sdp.toString() : std::string("none")) +
             ") and sent no media, so the relay has nowhere to learn it from";
  } else if (f.foreign_dropped > 0) {
    d.rule = DiagnosisRule::kForeignOnly;
    d.text = start + " sent no RTP from its latched address " +
             (f.latched_source.empty() ? std::string("(none)") : f.latched_source) + "; " +
             std::to_string(f.foreign_dropped) + " packets from " + f.foreign_source +
             " were dropped as not belonging to the call (its NAT may have changed the "
             "source port after the learning window, or they are someone else's packets)";
  } else if (f.non_rtp_in > 0) {
    d.rule = DiagnosisRule::kNonRtpOnly;
    d.text = start + " sent only " + std::to_string(f.non_rtp_in) +
             " packets that are not RTP (keep-alives or STUN) and no audio: its media did "
             "not start (codec or audio device problem on the phone)";
  } else if (f.rtcp_in > 0) {
    d.rule = DiagnosisRule::kRtcpOnly;
    d.text = start + " sent " + std::to_string(f.rtcp_in) +
             " RTCP reports but no RTP audio: the phone is muted or has no audio source";
  } else if (f.advertised.isSet() && f.advertised.isPrivate() && !f.sdp.isPrivate()) {
    d.rule = DiagnosisRule::kPbxAddressPrivate;
    d.text = start + " is on the Internet (" + f.sdp.ip() +
             ") but the PBX advertised its private address " + f.advertised.toString() +
             " to it, which it cannot reach: set main_address to the PBX's public address";
  } else if (f.sdp.isPrivate() && f.signal.isSet() && !f.signal.isPrivate()) {
    d.rule = DiagnosisRule::kPrivateBehindNat;
    d.text = start + " advertised the private address " + f.sdp.toString() +
             " and never sent media: it is behind NAT, its RTP ports are not reachable, "
             "and it does not send first so the relay cannot latch (enable symmetric "
             "RTP, or check that its router lets UDP out to " +
             advertisedText(f) + ")";
  } else if (f.sdp.isPrivate()) {
    d.rule = DiagnosisRule::kLanSilent;
    d.text = start + " on the local network (" + f.sdp.toString() + ") never sent media to " +
             advertisedText(f) +
             ": a firewall on the PBX blocks the RTP port range, or the phone is muted or "
             "failed to start audio";
  } else {
    d.rule = DiagnosisRule::kPublicSilent;
    d.text = start + " at " + f.sdp.toString() + " never sent media to " + advertisedText(f) +
             ": a firewall or router in front of the PBX does not forward the RTP port range, "
             "or the phone cannot reach that address";
  }
  if (f.other_latched.isSet() && f.other_sdp.isSet() && !(f.other_latched == f.other_sdp)) {
    d.text += "; leg " + std::string(toString(otherLeg(f.leg))) + "'s media comes from " +
              f.other_latched.toString() + ", not from its SDP address " + f.other_sdp.toString() +
              " (behind NAT; the relay latched to it)";
  }
  if (f.send_errors > 0) {
    d.text += "; " + std::to_string(f.send_errors) + " packets toward leg " + toString(f.leg) +
              " could not be sent (the kernel refused them)";
  }
  return d;
}

}  // namespace duplex::media
