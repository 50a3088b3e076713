// SDP (RFC 4566 / RFC 8866) as phones and trunks use it in offer/answer
// (RFC 3264): parse a body into a SessionDescription, rewrite the connection
// address and port of each media line toward a leg, read the direction (hold
// detection), and serialize it back. Nothing is transcoded: formats, rtpmap,
// fmtp, ptime and every attribute the PBX does not know are kept verbatim and
// in order, so a parse -> serialize round trip changes only line endings
// (always CRLF on output) and what the rewrite helpers touch.
//
// For: pbx/call (the B2BUA rewrites every offer and answer toward the other
// leg and feeds the remote media address to the relay, media/relay.h).
// Thread: plain values and free functions; any thread. Nothing here throws.
//
// Errors: parseSdp() returns a precise reason fit for a 488 reason phrase,
// e.g. "line 5: c=: 'IN IP4' has no address" or "m= line 1: port 'abc' is not
// a number". Rejected: no v=0 first line, missing o=/s=/t= (s= and t= are
// required by RFC 4566 5 but tolerated when absent, as many phones omit t=),
// a line that is not "<letter>=<value>", a session-level line after the first
// m=, an m= line with a bad port, port count or no format, a c= line that is
// not "IN IP4|IP6 <address>", an rtpmap/rtcp/ptime attribute whose value does
// not parse, a media line without any connection address (none at session or
// media level), more than kMaxMediaLines m= lines, bodies over kMaxSdpSize.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::media {

inline constexpr std::size_t kMaxSdpSize = std::size_t{16} * 1024;
inline constexpr std::size_t kMaxMediaLines = 16;

// RFC 3264 5.1 / 6.1 media direction attributes.
enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view toString(Direction direction);  // "sendrecv", ...

// a=<name>[:<value>], kept verbatim and in order.
struct SdpAttribute {
  std::string name;
  std::string value;  // "" with has_value == false for a flag attribute
  bool has_value = false;
  bool operator==(const SdpAttribute&) const = default;
};

// c=<nettype> <addrtype> <address>[/ttl[/count]] (RFC 4566 5.7).
struct SdpConnection {
  std::string net_type = "IN";
  std::string addr_type = "IP4";  // "IP4" or "IP6"
  std::string address;            // without /ttl
  std::string suffix;             // "/127" or "/127/3" as written (multicast), usually ""
  bool operator==(const SdpConnection&) const = default;
};

// o=<username> <sess-id> <sess-version> <nettype> <addrtype> <address>.
struct SdpOrigin {
  std::string username = "-";
  std::string session_id = "0";
  std::string session_version = "0";
  std::string net_type = "IN";
  std::string addr_type = "IP4";
  std::string address = "0.0.0.0";
  bool operator==(const SdpOrigin&) const = default;
};

// a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>].
struct RtpMap {
  int payload_type = 0;
  std::string encoding;  // "PCMU", "opus", "telephone-event"
  int clock_rate = 0;
  std::string parameters;  // channels, "" when absent
};

// One m= section.
struct SdpMedia {
  std::string media = "audio";  // audio, video, application, ...
  std::uint16_t port = 0;
  int port_count = 0;  // the "/2" of "m=audio 4000/2 ..."; 0 when absent
  std::string proto = "RTP/AVP";
  std::vector<std::string> formats;  // payload types as written ("0", "8", "101")
  std::optional<std::string> title;  // i=
  std::optional<SdpConnection> connection;
  std::vector<std::string> bandwidths;  // b= values as written
  std::optional<std::string> key;       // k=
  std::vector<SdpAttribute> attributes;

  // The first a=<name> value of this media line, if present.
  const SdpAttribute* attribute(std::string_view name) const;
  // rtpmap lines in order (validated by parseSdp()).
  std::vector<RtpMap> rtpMaps() const;
  // fmtp value for a payload type ("0-16" for telephone-event), if any.
  std::optional<std::string> fmtp(int payload_type) const;
  std::optional<int> ptime() const;
  bool rtcpMux() const { return attribute("rtcp-mux") != nullptr; }
  // a=rtcp port (RFC 3605) and its optional address; nullopt when absent.
  std::optional<std::uint16_t> rtcpPort() const;
  std::optional<std::string> rtcpAddress() const;
  // The clock rate of the first format (rtpmap, or the RFC 3551 static
  // payload type table); 8000 when unknown.
  int firstFormatClockRate() const;
};

struct SessionDescription {
  int version = 0;  // v=
  SdpOrigin origin;
  std::string session_name = "-";   // s=
  std::optional<std::string> info;  // i=
  std::optional<std::string> uri;   // u=
  std::vector<std::string> emails;  // e=
  std::vector<std::string> phones;  // p=
  std::optional<SdpConnection> connection;
  std::vector<std::string> bandwidths;  // b=
  std::vector<std::string> times;       // t= values ("0 0"); r= and z= kept as "r=..."/"z=..."
  std::optional<std::string> key;       // k=
  std::vector<SdpAttribute> attributes;
  std::vector<SdpMedia> media;

  const SdpAttribute* attribute(std::string_view name) const;
};

struct SdpParseResult {
  std::optional<SessionDescription> description;
  std::string error;  // "" on success; else the 488 reason (see the header comment)
  explicit operator bool() const { return description.has_value(); }
};

// Accepts CRLF or bare LF line ends; a trailing line without an end is taken.
SdpParseResult parseSdp(std::string_view body);
// Always CRLF, field order of RFC 4566 5.
std::string serializeSdp(const SessionDescription& description);

// --- reading the media of a line (what the relay needs) ---

// The connection that applies to media line `index`: its own c=, else the
// session c= (RFC 4566 5.7). nullptr when index is out of range or none.
const SdpConnection* effectiveConnection(const SessionDescription& sdp, std::size_t index);
// RFC 3264 6.1: the media-level direction attribute, else the session-level
// one, else sendrecv.
Direction effectiveDirection(const SessionDescription& sdp, std::size_t index);
// Hold as phones signal it: sendonly or inactive (RFC 3264 8.4), or the old
// c=0.0.0.0 form (RFC 2543). A port of 0 (stream rejected) is not hold.
bool isHold(const SessionDescription& sdp, std::size_t index);

// Where a media line wants its RTP and RTCP: the effective connection address,
// the m= port, and the RTCP port (a=rtcp, else RTP port + 1, or the RTP port
// itself with a=rtcp-mux; RFC 3605, RFC 5761).
struct MediaTarget {
  std::string address;  // IP literal or hostname, as written
  std::uint16_t rtp_port = 0;
  std::uint16_t rtcp_port = 0;
  bool rtcp_mux = false;
  int clock_rate = 8000;  // of the first format, for jitter
};
std::optional<MediaTarget> mediaTarget(const SessionDescription& sdp, std::size_t index);

// --- rewriting toward a leg (the B2BUA) ---

// Points media line `index` at the relay: sets a media-level c= with
// `address` (IP4 or IP6 chosen from its form), the m= port to `rtp_port`,
// rewrites an existing a=rtcp to `rtcp_port` (and `address`), and leaves
// formats and other attributes alone. A line with port 0 (rejected stream)
// stays at 0. A session-level c= is set to `address` as well when every media
// line has been rewritten (so no line falls back to the phone's own address).
// Returns false when index is out of range.
bool rewriteMedia(SessionDescription& sdp, std::size_t index, std::string_view address,
                  std::uint16_t rtp_port, std::uint16_t rtcp_port);
// Sets o= to the PBX's own origin for a leg (RFC 3264 5: each side keeps its
// own o= and increments the version with every changed offer).
void setOrigin(SessionDescription& sdp, const SdpOrigin& origin);
// Replaces the direction attribute of media line `index` (adds one if none).
void setDirection(SessionDescription& sdp, std::size_t index, Direction direction);

}  // namespace duplex::media
