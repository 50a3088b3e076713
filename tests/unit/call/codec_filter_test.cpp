// A trunk's codec list applied to the offer the provider gets.
#include "pbx/call/codec_filter.h"

#include <gtest/gtest.h>

namespace duplex::call {
namespace {

const std::string kOffer =
    "v=0\r\no=- 1 1 IN IP4 192.0.2.21\r\ns=-\r\nc=IN IP4 192.0.2.21\r\nt=0 0\r\n"
    "m=audio 4000 RTP/AVP 9 0 8 101\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n"
    "a=sendrecv\r\nm=video 5000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n";

TEST(CodecFilter, KeepsAllowedCodecsAndDtmf) {
  SdpRewrite r = filterCodecs(kOffer, {"pcma", "PCMU"}, "main");
  ASSERT_TRUE(r.ok()) << r.reason;
  EXPECT_NE(r.body.find("m=audio 4000 RTP/AVP 0 8 101\r\n"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("G722"), std::string::npos);
  EXPECT_NE(r.body.find("a=fmtp:101 0-16"), std::string::npos);
  EXPECT_NE(r.body.find("m=video 5000 RTP/AVP 96"), std::string::npos);  // not audio: kept
}

TEST(CodecFilter, StaticPayloadTypesWithoutRtpmap) {
  const std::string offer =
      "v=0\r\no=- 1 1 IN IP4 192.0.2.21\r\ns=-\r\nc=IN IP4 192.0.2.21\r\nt=0 0\r\n"
      "m=audio 4000 RTP/AVP 0 8 18\r\n";
  SdpRewrite r = filterCodecs(offer, {"G729"}, "main");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r.body.find("m=audio 4000 RTP/AVP 18\r\n"), std::string::npos) << r.body;
}

TEST(CodecFilter, NothingLeftIs488NamingTheTrunkAndTheOffer) {
  SdpRewrite r = filterCodecs(kOffer, {"opus"}, "main");
  EXPECT_EQ(r.status, 488);
  EXPECT_EQ(r.reason,
            "Not Acceptable Here (no codec allowed by trunk main: offered G722, PCMU, PCMA)");
}

TEST(CodecFilter, EmptyListPassesTheOfferUnchanged) {
  SdpRewrite r = filterCodecs(kOffer, {}, "main");
  EXPECT_EQ(r.body, kOffer);
  EXPECT_EQ(filterCodecs("garbage", {"PCMA"}, "main").status, 488);
}

}  // namespace
}  // namespace duplex::call
