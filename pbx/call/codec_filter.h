// A trunk's allowed codecs (TrunkConfig::codecs) applied to an SDP offer
// before it goes to the provider: the payload types of each audio line whose
// encoding is not on the list are removed with their rtpmap/fmtp lines. No
// transcoding: the formats that stay are the caller's own.
//
// Decisions: names compare case-insensitively with the rtpmap encoding name
// or, for static payload types without rtpmap, the RFC 3551 table (0 PCMU,
// 3 GSM, 4 G723, 8 PCMA, 9 G722, 15 G728, 18 G729). telephone-event (DTMF,
// RFC 4733) and CN are never removed: they are not voice codecs and the list
// is about what the provider can carry. Lines other than audio are left as
// they are. An empty list allows everything.
//
// For: call control (outbound trunk calls). Thread: any; pure. Errors: an
// audio line left without a voice codec -> {488, "Not Acceptable Here (no
// codec allowed by trunk <name>: offered PCMU, G722)"}; SDP that does not
// parse -> {488, the parser's reason}. Nothing throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pbx/call/media_sessions.h"

namespace duplex::call {

SdpRewrite filterCodecs(std::string_view sdp, const std::vector<std::string>& allowed,
                        std::string_view trunkName);

}  // namespace duplex::call
