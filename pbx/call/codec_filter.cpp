// Codec filter for trunk offers; see codec_filter.h.
#include "pbx/call/codec_filter.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "media/sdp.h"
#include "pbx/sip/scanner.h"

namespace duplex::call {
namespace {

using sip::scan::iequals;

// RFC 3551 6, the static audio payload types phones still offer by number.
std::string_view staticEncoding(int pt) {
  switch (pt) {
    case 0:
      return "PCMU";
    case 3:
      return "GSM";
    case 4:
      return "G723";
    case 8:
      return "PCMA";
    case 9:
      return "G722";
    case 13:
      return "CN";
    case 15:
      return "G728";
    case 18:
      return "G729";
    default:
      return {};
  }
}

std::optional<int> payloadType(std::string_view text) {
  int pt = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pt);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return pt;
}

// The payload type an a=rtpmap or a=fmtp value is about ("101 telephone-event/8000").
std::optional<int> attributePayloadType(const media::SdpAttribute& a) {
  if (!iequals(a.name, "rtpmap") && !iequals(a.name, "fmtp")) return std::nullopt;
  return payloadType(std::string_view(a.value).substr(0, a.value.find(' ')));
}

}  // namespace

SdpRewrite filterCodecs(std::string_view sdp, const std::vector<std::string>& allowed,
                        std::string_view trunkName) {
  if (allowed.empty()) return {std::string(sdp), 0, {}};
  media::SdpParseResult parsed = media::parseSdp(sdp);
  if (!parsed) return {{}, 488, parsed.error};
  media::SessionDescription& d = *parsed.description;
  for (media::SdpMedia& m : d.media) {
    if (m.media != "audio" || m.port == 0) continue;
    const std::vector<media::RtpMap> maps = m.rtpMaps();
    auto encodingOf = [&maps](int pt) -> std::string_view {
      for (const media::RtpMap& r : maps) {
        if (r.payload_type == pt) return r.encoding;
      }
      return staticEncoding(pt);
    };
    std::vector<std::string> kept;
    std::vector<int> removed;
    std::string offered;
    bool voice = false;
    for (const std::string& f : m.formats) {
      const std::optional<int> pt = payloadType(f);
      const std::string_view enc = pt ? encodingOf(*pt) : std::string_view{};
      const bool signalling = iequals(enc, "telephone-event") || iequals(enc, "CN");
      if (!signalling) {
        if (!offered.empty()) offered += ", ";
        offered += enc.empty() ? f : std::string(enc);
      }
      const bool ok =
          signalling || std::any_of(allowed.begin(), allowed.end(), [enc](const std::string& a) {
            return !enc.empty() && iequals(a, enc);
          });
      if (ok) {
        kept.push_back(f);
        voice |= !signalling;
      } else if (pt) {
        removed.push_back(*pt);
      }
    }
    if (!voice) {
      return {{},
              488,
              "Not Acceptable Here (no codec allowed by trunk " + std::string(trunkName) +
                  ": offered " + offered + ")"};
    }
    m.formats = std::move(kept);
    std::erase_if(m.attributes, [&removed](const media::SdpAttribute& a) {
      const std::optional<int> pt = attributePayloadType(a);
      return pt && std::find(removed.begin(), removed.end(), *pt) != removed.end();
    });
  }
  return {media::serializeSdp(d), 0, {}};
}

}  // namespace duplex::call
