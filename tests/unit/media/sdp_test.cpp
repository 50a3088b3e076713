// SDP model: parse what phones send, keep what we do not know, serialize back,
// rewrite toward a leg, read direction/hold, reject malformed bodies with a
// reason a 488 can carry.
#include <gtest/gtest.h>

#include <string>

#include "media/sdp.h"

namespace duplex::media {
namespace {

// A typical desk phone offer (session-level c=, several formats, DTMF, unknown attributes).
constexpr std::string_view kPhoneOffer =
    "v=0\r\n"
    "o=- 3912 3912 IN IP4 10.0.0.5\r\n"
    "s=SIP Call\r\n"
    "c=IN IP4 10.0.0.5\r\n"
    "b=AS:84\r\n"
    "t=0 0\r\n"
    "a=X-nat:0\r\n"
    "m=audio 4000 RTP/AVP 0 8 9 101\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:20\r\n"
    "a=sendrecv\r\n"
    "a=X-vendor-thing:some value: with colons\r\n";

SessionDescription parseOk(std::string_view text) {
  auto result = parseSdp(text);
  EXPECT_TRUE(result) << result.error;
  return result.description.value_or(SessionDescription{});
}

TEST(SdpParse, DeskPhoneOfferFields) {
  const SessionDescription sdp = parseOk(kPhoneOffer);
  EXPECT_EQ(sdp.origin.session_id, "3912");
  EXPECT_EQ(sdp.origin.address, "10.0.0.5");
  EXPECT_EQ(sdp.session_name, "SIP Call");
  ASSERT_TRUE(sdp.connection);
  EXPECT_EQ(sdp.connection->address, "10.0.0.5");
  ASSERT_EQ(sdp.media.size(), 1u);
  const SdpMedia& m = sdp.media[0];
  EXPECT_EQ(m.media, "audio");
  EXPECT_EQ(m.port, 4000);
  EXPECT_EQ(m.proto, "RTP/AVP");
  EXPECT_EQ(m.formats, (std::vector<std::string>{"0", "8", "9", "101"}));
  const auto maps = m.rtpMaps();
  ASSERT_EQ(maps.size(), 4u);
  EXPECT_EQ(maps[3].payload_type, 101);
  EXPECT_EQ(maps[3].encoding, "telephone-event");
  EXPECT_EQ(maps[3].clock_rate, 8000);
  EXPECT_EQ(m.fmtp(101), "0-16");
  EXPECT_EQ(m.fmtp(0), std::nullopt);
  EXPECT_EQ(m.ptime(), 20);
  EXPECT_FALSE(m.rtcpMux());
  EXPECT_EQ(effectiveDirection(sdp, 0), Direction::kSendRecv);
  EXPECT_FALSE(isHold(sdp, 0));
  const SdpAttribute* vendor = m.attribute("X-vendor-thing");
  ASSERT_NE(vendor, nullptr);
  EXPECT_EQ(vendor->value, "some value: with colons");
}

TEST(SdpParse, RoundTripIsByteExactForCrlfInput) {
  EXPECT_EQ(serializeSdp(parseOk(kPhoneOffer)), kPhoneOffer);
}

TEST(SdpParse, BareLfAndMissingFinalNewlineAreAccepted) {
  std::string lf(kPhoneOffer);
  for (std::size_t pos; (pos = lf.find("\r\n")) != std::string::npos;) lf.erase(pos, 1);
  lf.pop_back();  // no final newline
  EXPECT_EQ(serializeSdp(parseOk(lf)), kPhoneOffer);
}

TEST(SdpParse, EveryFieldTypeSurvivesRoundTrip) {
  constexpr std::string_view kFull =
      "v=0\r\n"
      "o=alice 2890844526 2890844527 IN IP6 2001:db8::1\r\n"
      "s=Talk\r\n"
      "i=A session\r\n"
      "u=http://example.com/\r\n"
      "e=alice@example.com\r\n"
      "p=+1 555 0100\r\n"
      "c=IN IP6 2001:db8::1\r\n"
      "b=CT:128\r\n"
      "t=2873397496 2873404696\r\n"
      "r=7d 1h 0 25h\r\n"
      "z=2882844526 -1h\r\n"
      "k=prompt\r\n"
      "a=group:BUNDLE a v\r\n"
      "m=audio 49170 RTP/AVP 96\r\n"
      "i=voice\r\n"
      "c=IN IP6 2001:db8::2\r\n"
      "b=AS:64\r\n"
      "k=prompt\r\n"
      "a=rtpmap:96 opus/48000/2\r\n"
      "a=fmtp:96 useinbandfec=1\r\n"
      "a=rtcp:49171 IN IP6 2001:db8::2\r\n"
      "a=rtcp-mux\r\n"
      "a=mid:a\r\n"
      "m=video 51372/2 RTP/AVP 31 32\r\n"
      "a=recvonly\r\n"
      "m=application 0 UDP/BFCP *\r\n";
  const SessionDescription sdp = parseOk(kFull);
  EXPECT_EQ(serializeSdp(sdp), kFull);
  ASSERT_EQ(sdp.media.size(), 3u);
  EXPECT_EQ(sdp.media[0].rtpMaps()[0].parameters, "2");
  EXPECT_EQ(sdp.media[0].firstFormatClockRate(), 48000);
  EXPECT_EQ(sdp.media[0].rtcpPort(), 49171);
  EXPECT_EQ(sdp.media[0].rtcpAddress(), "2001:db8::2");
  EXPECT_TRUE(sdp.media[0].rtcpMux());
  EXPECT_EQ(sdp.media[1].port_count, 2);
  EXPECT_EQ(sdp.media[1].firstFormatClockRate(), 90000);  // static PT 31 (RFC 3551)
  EXPECT_EQ(effectiveDirection(sdp, 1), Direction::kRecvOnly);
}

TEST(SdpParse, MediaTargetUsesRtcpAttributeMuxOrNextPort) {
  SessionDescription sdp = parseOk(kPhoneOffer);
  auto target = mediaTarget(sdp, 0);
  ASSERT_TRUE(target);
  EXPECT_EQ(target->address, "10.0.0.5");
  EXPECT_EQ(target->rtp_port, 4000);
  EXPECT_EQ(target->rtcp_port, 4001);
  EXPECT_EQ(target->clock_rate, 8000);
  sdp.media[0].attributes.push_back({"rtcp-mux", "", false});
  EXPECT_EQ(mediaTarget(sdp, 0)->rtcp_port, 4000);
  sdp.media[0].attributes.push_back({"rtcp", "5555", true});
  EXPECT_EQ(mediaTarget(sdp, 0)->rtcp_port, 5555);
  EXPECT_FALSE(mediaTarget(sdp, 1));
}

TEST(SdpHold, SendonlyInactiveAndZeroAddressAreHold) {
  SessionDescription sdp = parseOk(kPhoneOffer);
  setDirection(sdp, 0, Direction::kSendOnly);
  EXPECT_TRUE(isHold(sdp, 0));
  EXPECT_NE(serializeSdp(sdp).find("a=sendonly\r\n"), std::string::npos);
  EXPECT_EQ(serializeSdp(sdp).find("a=sendrecv"), std::string::npos);
  setDirection(sdp, 0, Direction::kInactive);
  EXPECT_TRUE(isHold(sdp, 0));
  setDirection(sdp, 0, Direction::kRecvOnly);
  EXPECT_FALSE(isHold(sdp, 0));
  setDirection(sdp, 0, Direction::kSendRecv);
  sdp.connection->address = "0.0.0.0";  // RFC 2543 hold
  EXPECT_TRUE(isHold(sdp, 0));
  sdp.media[0].port = 0;  // a rejected stream is not hold
  EXPECT_FALSE(isHold(sdp, 0));
}

TEST(SdpHold, SessionLevelDirectionAppliesUnlessMediaOverrides) {
  SessionDescription sdp = parseOk(
      "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"
      "a=sendonly\r\nm=audio 4000 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 0\r\na=sendrecv\r\n");
  EXPECT_EQ(effectiveDirection(sdp, 0), Direction::kSendOnly);
  EXPECT_TRUE(isHold(sdp, 0));
  EXPECT_EQ(effectiveDirection(sdp, 1), Direction::kSendRecv);
  EXPECT_FALSE(isHold(sdp, 1));
}

TEST(SdpRewrite, PointsMediaAtRelayAndKeepsCodecs) {
  SessionDescription sdp = parseOk(kPhoneOffer);
  ASSERT_TRUE(rewriteMedia(sdp, 0, "203.0.113.7", 10000, 10001));
  setOrigin(sdp, SdpOrigin{"duplex", "77", "2", "IN", "IP4", "203.0.113.7"});
  const std::string text = serializeSdp(sdp);
  // The phone's private address is gone everywhere; codecs and attributes stay.
  EXPECT_EQ(text.find("10.0.0.5"), std::string::npos) << text;
  EXPECT_NE(text.find("o=duplex 77 2 IN IP4 203.0.113.7\r\n"), std::string::npos);
  EXPECT_NE(text.find("c=IN IP4 203.0.113.7\r\n"), std::string::npos);
  EXPECT_NE(text.find("m=audio 10000 RTP/AVP 0 8 9 101\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=fmtp:101 0-16\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=X-vendor-thing:some value: with colons\r\n"), std::string::npos);
  const SessionDescription again = parseOk(text);
  EXPECT_EQ(mediaTarget(again, 0)->address, "203.0.113.7");
  EXPECT_EQ(mediaTarget(again, 0)->rtp_port, 10000);
}

TEST(SdpRewrite, RtcpAttributeAndIpv6AndRejectedStream) {
  SessionDescription sdp = parseOk(
      "v=0\r\no=- 1 1 IN IP4 10.0.0.5\r\ns=-\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.5\r\na=rtcp:4005 IN IP4 10.0.0.5\r\n"
      "m=video 0 RTP/AVP 31\r\n");
  ASSERT_TRUE(rewriteMedia(sdp, 0, "2001:db8::7", 12000, 12001));
  ASSERT_TRUE(rewriteMedia(sdp, 1, "2001:db8::7", 12002, 12003));
  const std::string text = serializeSdp(sdp);
  EXPECT_NE(text.find("c=IN IP6 2001:db8::7\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=rtcp:12001 IN IP6 2001:db8::7\r\n"), std::string::npos);
  EXPECT_NE(text.find("m=video 0 RTP/AVP 31\r\n"), std::string::npos);  // stays rejected
  EXPECT_FALSE(rewriteMedia(sdp, 2, "192.0.2.1", 1, 2));
}

struct BadSdp {
  const char* name;
  std::string body;
  std::string reason;  // expected substring of the error
};

class SdpReject : public ::testing::TestWithParam<BadSdp> {};

TEST_P(SdpReject, GivesPreciseReason) {
  const auto result = parseSdp(GetParam().body);
  EXPECT_FALSE(result);
  EXPECT_NE(result.error.find(GetParam().reason), std::string::npos)
      << "error was: " << result.error;
}

const std::string kHead =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n";

INSTANTIATE_TEST_SUITE_P(
    Malformed, SdpReject,
    ::testing::Values(
        BadSdp{"Empty", "", "empty SDP body"},
        BadSdp{"NoVersion", "o=- 1 1 IN IP4 1.2.3.4\r\n", "line 1: the first line must be v=0"},
        BadSdp{"WrongVersion", "v=1\r\n", "the first line must be v=0"},
        BadSdp{"NotTypeValue", kHead + "hello\r\n", "line 6: 'hello' is not <type>=<value>"},
        BadSdp{"UpperType", kHead + "X=1\r\n", "is not <type>=<value>"},
        BadSdp{"NoOrigin", "v=0\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n", "no o= line"},
        BadSdp{"ShortOrigin", "v=0\r\no=- 1 1 IN IP4\r\n", "o=: expected 6 fields, got 5"},
        BadSdp{"BadConnection", kHead + "m=audio 4000 RTP/AVP 0\r\nc=IN IP4\r\n",
               "line 7: c=: 'IN IP4' is not '<nettype> <addrtype> <address>'"},
        BadSdp{"BadAddrType", kHead + "m=audio 4000 RTP/AVP 0\r\nc=IN IPX 1.2.3.4\r\n",
               "address type 'IPX' is not IP4/IP6"},
        BadSdp{"BadPort", kHead + "m=audio abc RTP/AVP 0\r\n",
               "m= line 1: port 'abc' is not a number (0-65535)"},
        BadSdp{"PortTooBig", kHead + "m=audio 70000 RTP/AVP 0\r\n", "port '70000'"},
        BadSdp{"NoFormat", kHead + "m=audio 4000 RTP/AVP\r\n", "needs <media> <port> <proto>"},
        BadSdp{"BadPortCount", kHead + "m=audio 4000/x RTP/AVP 0\r\n", "port count 'x'"},
        BadSdp{"NoConnection",
               "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
               "m= line 1 (audio) has no c= and there is no session c="},
        BadSdp{"BadRtpmap", kHead + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
               "a=rtpmap: '0 PCMU' is not"},
        BadSdp{"RtpmapPt", kHead + "m=audio 4000 RTP/AVP 0\r\na=rtpmap:300 X/8000\r\n", "a=rtpmap"},
        BadSdp{"BadRtcp", kHead + "m=audio 4000 RTP/AVP 0\r\na=rtcp:port\r\n", "a=rtcp: 'port'"},
        BadSdp{"BadPtime", kHead + "m=audio 4000 RTP/AVP 0\r\na=ptime:-5\r\n", "a=ptime: '-5'"},
        BadSdp{"SessionLineInMedia", kHead + "m=audio 4000 RTP/AVP 0\r\ns=again\r\n",
               "'s=' is not allowed after the first m= line"},
        BadSdp{"UnknownType", kHead + "y=1\r\n", "unknown line type 'y='"},
        BadSdp{"ControlChar", kHead + std::string("a=x\0y\r\n", 7), "control character"},
        BadSdp{"TooBig", kHead + std::string(20000, 'a'), "exceeds 16384"},
        BadSdp{"TwoOrigins", kHead + "o=- 1 1 IN IP4 1.2.3.4\r\n", "second o= line"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(SdpReject, TooManyMediaLines) {
  std::string body = kHead;
  for (int i = 0; i < 17; ++i) body += "m=audio 4000 RTP/AVP 0\r\n";
  const auto result = parseSdp(body);
  EXPECT_FALSE(result);
  EXPECT_NE(result.error.find("more than 16 m= lines"), std::string::npos) << result.error;
}

TEST(SdpParse, ZeroPortMediaNeedsNoConnection) {
  EXPECT_TRUE(parseSdp("v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n"));
}

}  // namespace
}  // namespace duplex::media
