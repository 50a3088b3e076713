// One-way-audio diagnosis: one test per rule, each asserting the words a user
// reads in the call record.
#include <gtest/gtest.h>

#include "media/diagnosis.h"

namespace duplex::media {
namespace {

UdpAddress addr(const char* ip, std::uint16_t port) {
  return *UdpAddress::parse(ip, port);
}

SilentLegFacts facts(const char* sdp_ip, std::uint16_t port) {
  SilentLegFacts f;
  f.leg = Leg::kB;
  f.sdp = addr(sdp_ip, port);
  f.advertised = addr("203.0.113.1", 10002);
  f.other_leg_packets = 250;
  return f;
}

TEST(Diagnosis, PrivateAddressBehindNatNeverSent) {
  SilentLegFacts f = facts("10.0.0.5", 4000);
  f.signal = addr("198.51.100.9", 0);
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_EQ(d.rule, DiagnosisRule::kPrivateBehindNat);
  EXPECT_EQ(d.text,
            "one-way audio: leg A sent 250 RTP packets, leg B sent none; the phone on leg B (SIP "
            "from 198.51.100.9) advertised the private address 10.0.0.5:4000 and never sent "
            "media: it is behind NAT, its RTP ports are not reachable, and it does not send "
            "first so the relay cannot latch (enable symmetric RTP, or check that its router "
            "lets UDP out to 203.0.113.1:10002)");
}

TEST(Diagnosis, AddsTheTalkingLegsNatAndRefusedSends) {
  SilentLegFacts f = facts("192.0.2.10", 4000);
  f.other_sdp = addr("10.0.0.7", 5000);
  f.other_latched = addr("198.51.100.20", 40123);
  f.send_errors = 12;
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_NE(d.text.find("; leg A's media comes from 198.51.100.20:40123, not from its SDP "
                        "address 10.0.0.7:5000 (behind NAT; the relay latched to it)"),
            std::string::npos)
      << d.text;
  EXPECT_NE(d.text.find("; 12 packets toward leg B could not be sent"), std::string::npos)
      << d.text;
  f.other_latched = f.other_sdp;  // latched where it said: nothing to add
  f.send_errors = 0;
  EXPECT_EQ(diagnoseSilentLeg(f).text.find("media comes from"), std::string::npos);
}

TEST(Diagnosis, NoSdpAddress) {
  const Diagnosis d = diagnoseSilentLeg(facts("0.0.0.0", 4000));
  EXPECT_EQ(d.rule, DiagnosisRule::kNoSdpAddress);
  EXPECT_NE(d.text.find("gave no media address in its SDP (0.0.0.0:4000)"), std::string::npos)
      << d.text;
  SilentLegFacts none = facts("0.0.0.0", 4000);
  none.sdp = UdpAddress();
  EXPECT_NE(diagnoseSilentLeg(none).text.find("(none)"), std::string::npos);
}

TEST(Diagnosis, ForeignSourceOnly) {
  SilentLegFacts f = facts("192.0.2.10", 4000);
  f.foreign_dropped = 40;
  f.foreign_source = "192.0.2.10:31000";
  f.latched_source = "192.0.2.10:4000";
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_EQ(d.rule, DiagnosisRule::kForeignOnly);
  EXPECT_NE(d.text.find("40 packets from 192.0.2.10:31000 were dropped"), std::string::npos)
      << d.text;
}

TEST(Diagnosis, NonRtpOnly) {
  SilentLegFacts f = facts("192.0.2.10", 4000);
  f.non_rtp_in = 3;
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_EQ(d.rule, DiagnosisRule::kNonRtpOnly);
  EXPECT_NE(d.text.find("sent only 3 packets that are not RTP"), std::string::npos) << d.text;
}

TEST(Diagnosis, RtcpOnlyMeansMuted) {
  SilentLegFacts f = facts("192.0.2.10", 4000);
  f.rtcp_in = 2;
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_EQ(d.rule, DiagnosisRule::kRtcpOnly);
  EXPECT_NE(d.text.find("muted"), std::string::npos) << d.text;
}

TEST(Diagnosis, PbxAdvertisedPrivateAddressToInternetPhone) {
  SilentLegFacts f = facts("192.0.2.10", 4000);
  f.advertised = addr("192.168.1.2", 10002);
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_EQ(d.rule, DiagnosisRule::kPbxAddressPrivate);
  EXPECT_NE(d.text.find("set main_address"), std::string::npos) << d.text;
}

TEST(Diagnosis, LanPhoneSilent) {
  SilentLegFacts f = facts("192.168.1.50", 4000);
  f.signal = addr("192.168.1.50", 0);
  f.advertised = addr("192.168.1.2", 10002);
  const Diagnosis d = diagnoseSilentLeg(f);
  EXPECT_EQ(d.rule, DiagnosisRule::kLanSilent);
  EXPECT_NE(d.text.find("on the local network (192.168.1.50:4000)"), std::string::npos) << d.text;
}

TEST(Diagnosis, PublicPhoneSilent) {
  const Diagnosis d = diagnoseSilentLeg(facts("192.0.2.10", 4000));
  EXPECT_EQ(d.rule, DiagnosisRule::kPublicSilent);
  EXPECT_NE(d.text.find("never sent media to 203.0.113.1:10002"), std::string::npos) << d.text;
  EXPECT_NE(d.text.find("firewall"), std::string::npos) << d.text;
}

}  // namespace
}  // namespace duplex::media
