// SDP model accessors, serialization (RFC 4566 5 field order) and the
// rewrite helpers of the B2BUA.
#include <initializer_list>
#include <string>

#include "media/sdp.h"
#include "media/sdp_internal.h"

namespace duplex::media {
namespace {

const SdpAttribute* findAttribute(const std::vector<SdpAttribute>& attributes,
                                  std::string_view name) {
  for (const auto& a : attributes) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

std::optional<Direction> directionOf(const std::vector<SdpAttribute>& attributes) {
  for (const auto& a : attributes) {
    if (a.has_value) continue;
    if (a.name == "sendrecv") return Direction::kSendRecv;
    if (a.name == "sendonly") return Direction::kSendOnly;
    if (a.name == "recvonly") return Direction::kRecvOnly;
    if (a.name == "inactive") return Direction::kInactive;
  }
  return std::nullopt;
}

bool isDirectionName(std::string_view name) {
  return name == "sendrecv" || name == "sendonly" || name == "recvonly" || name == "inactive";
}

// RFC 3551 table 4 (audio) and 5 (video): RTP clock rates of static types.
int staticClockRate(int payload_type) {
  switch (payload_type) {
    case 6:
      return 16000;
    case 10:
    case 11:
      return 44100;
    case 16:
      return 11025;
    case 17:
      return 22050;
    case 14:
    case 25:
    case 26:
    case 28:
    case 31:
    case 32:
    case 33:
    case 34:
      return 90000;
    default:
      return 8000;
  }
}

// Appends the parts (no temporaries: GCC 12 warns falsely on chained
// operator+ of string literals and strings).
void put(std::string& out, std::initializer_list<std::string_view> parts) {
  for (std::string_view part : parts) out.append(part);
}

void appendConnection(std::string& out, const SdpConnection& c) {
  put(out, {"c=", c.net_type, " ", c.addr_type, " ", c.address, c.suffix, "\r\n"});
}

void appendAttributes(std::string& out, const std::vector<SdpAttribute>& attributes) {
  for (const auto& a : attributes) {
    put(out, {"a=", a.name});
    if (a.has_value) put(out, {":", a.value});
    out += "\r\n";
  }
}

std::string addrTypeOf(std::string_view address) {
  return address.find(':') != std::string_view::npos ? "IP6" : "IP4";
}

}  // namespace

std::string_view toString(Direction direction) {
  switch (direction) {
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
    case Direction::kSendRecv:
      break;
  }
  return "sendrecv";
}

const SdpAttribute* SdpMedia::attribute(std::string_view name) const {
  return findAttribute(attributes, name);
}

const SdpAttribute* SessionDescription::attribute(std::string_view name) const {
  return findAttribute(attributes, name);
}

std::vector<RtpMap> SdpMedia::rtpMaps() const {
  std::vector<RtpMap> maps;
  for (const auto& a : attributes) {
    if (a.name != "rtpmap") continue;
    if (auto map = sdp_detail::parseRtpMap(a.value)) maps.push_back(std::move(*map));
  }
  return maps;
}

std::optional<std::string> SdpMedia::fmtp(int payload_type) const {
  const std::string prefix = std::to_string(payload_type);
  for (const auto& a : attributes) {
    if (a.name != "fmtp") continue;
    const std::string_view v = a.value;
    if (v.size() > prefix.size() && v.substr(0, prefix.size()) == prefix &&
        v[prefix.size()] == ' ') {
      return std::string(v.substr(prefix.size() + 1));
    }
  }
  return std::nullopt;
}

std::optional<int> SdpMedia::ptime() const {
  const SdpAttribute* a = attribute("ptime");
  if (a == nullptr) return std::nullopt;
  return sdp_detail::parseUnsigned(a->value, 1, 10000);
}

std::optional<std::uint16_t> SdpMedia::rtcpPort() const {
  const SdpAttribute* a = attribute("rtcp");
  if (a == nullptr) return std::nullopt;
  auto rtcp = sdp_detail::parseRtcp(a->value);
  if (!rtcp) return std::nullopt;
  return rtcp->port;
}

std::optional<std::string> SdpMedia::rtcpAddress() const {
  const SdpAttribute* a = attribute("rtcp");
  if (a == nullptr) return std::nullopt;
  auto rtcp = sdp_detail::parseRtcp(a->value);
  if (!rtcp) return std::nullopt;
  return rtcp->address;
}

int SdpMedia::firstFormatClockRate() const {
  if (formats.empty()) return 8000;
  auto pt = sdp_detail::parseUnsigned(formats.front(), 0, 127);
  if (!pt) return 8000;
  for (const auto& map : rtpMaps()) {
    if (map.payload_type == *pt) return map.clock_rate;
  }
  return staticClockRate(*pt);
}

std::string serializeSdp(const SessionDescription& sdp) {
  std::string out;
  out.reserve(512);
  const std::string version_text = std::to_string(sdp.version);
  put(out, {"v=", version_text, "\r\n"});
  const SdpOrigin& o = sdp.origin;
  put(out, {"o=", o.username, " ", o.session_id, " ", o.session_version, " ", o.net_type, " ",
            o.addr_type, " ", o.address, "\r\n"});
  put(out, {"s=", sdp.session_name, "\r\n"});
  if (sdp.info) put(out, {"i=", *sdp.info, "\r\n"});
  if (sdp.uri) put(out, {"u=", *sdp.uri, "\r\n"});
  for (const auto& e : sdp.emails) put(out, {"e=", e, "\r\n"});
  for (const auto& p : sdp.phones) put(out, {"p=", p, "\r\n"});
  if (sdp.connection) appendConnection(out, *sdp.connection);
  for (const auto& b : sdp.bandwidths) put(out, {"b=", b, "\r\n"});
  for (const auto& t : sdp.times) {
    if (t.size() >= 2 && (t[0] == 'r' || t[0] == 'z') && t[1] == '=') {
      put(out, {t, "\r\n"});
    } else {
      put(out, {"t=", t, "\r\n"});
    }
  }
  if (sdp.key) put(out, {"k=", *sdp.key, "\r\n"});
  appendAttributes(out, sdp.attributes);
  for (const auto& m : sdp.media) {
    const std::string port_text = std::to_string(m.port);
    const std::string count_text = std::to_string(m.port_count);
    put(out, {"m=", m.media, " ", port_text});
    if (m.port_count > 0) put(out, {"/", count_text});
    put(out, {" ", m.proto});
    for (const auto& f : m.formats) put(out, {" ", f});
    out += "\r\n";
    if (m.title) put(out, {"i=", *m.title, "\r\n"});
    if (m.connection) appendConnection(out, *m.connection);
    for (const auto& b : m.bandwidths) put(out, {"b=", b, "\r\n"});
    if (m.key) put(out, {"k=", *m.key, "\r\n"});
    appendAttributes(out, m.attributes);
  }
  return out;
}

const SdpConnection* effectiveConnection(const SessionDescription& sdp, std::size_t index) {
  if (index >= sdp.media.size()) return nullptr;
  if (sdp.media[index].connection) return &*sdp.media[index].connection;
  if (sdp.connection) return &*sdp.connection;
  return nullptr;
}

Direction effectiveDirection(const SessionDescription& sdp, std::size_t index) {
  if (index < sdp.media.size()) {
    if (auto d = directionOf(sdp.media[index].attributes)) return *d;
  }
  return directionOf(sdp.attributes).value_or(Direction::kSendRecv);
}

bool isHold(const SessionDescription& sdp, std::size_t index) {
  if (index >= sdp.media.size() || sdp.media[index].port == 0) return false;
  const Direction d = effectiveDirection(sdp, index);
  if (d == Direction::kSendOnly || d == Direction::kInactive) return true;
  const SdpConnection* c = effectiveConnection(sdp, index);
  return c != nullptr && (c->address == "0.0.0.0" || c->address == "::");
}

std::optional<MediaTarget> mediaTarget(const SessionDescription& sdp, std::size_t index) {
  const SdpConnection* c = effectiveConnection(sdp, index);
  if (c == nullptr) return std::nullopt;
  const SdpMedia& m = sdp.media[index];
  MediaTarget target;
  target.address = c->address;
  target.rtp_port = m.port;
  target.rtcp_mux = m.rtcpMux();
  if (auto port = m.rtcpPort()) {
    target.rtcp_port = *port;
  } else if (target.rtcp_mux) {
    target.rtcp_port = m.port;
  } else {
    target.rtcp_port = m.port == 0 || m.port == 65535 ? 0 : static_cast<std::uint16_t>(m.port + 1);
  }
  target.clock_rate = m.firstFormatClockRate();
  return target;
}

bool rewriteMedia(SessionDescription& sdp, std::size_t index, std::string_view address,
                  std::uint16_t rtp_port, std::uint16_t rtcp_port) {
  if (index >= sdp.media.size()) return false;
  SdpMedia& m = sdp.media[index];
  SdpConnection c;
  c.addr_type = addrTypeOf(address);
  c.address = std::string(address);
  m.connection = c;
  if (m.port != 0) {
    m.port = rtp_port;
    for (auto& a : m.attributes) {
      if (a.name != "rtcp") continue;
      auto rtcp = sdp_detail::parseRtcp(a.value);
      a.value = std::to_string(rtcp_port);
      if (rtcp && rtcp->address) a.value += " IN " + c.addr_type + " " + c.address;
      a.has_value = true;
    }
  }
  if (sdp.connection) {
    bool all_own = true;
    for (const auto& other : sdp.media) {
      if (!other.connection && other.port != 0) all_own = false;
    }
    if (all_own) sdp.connection = c;
  }
  return true;
}

void setOrigin(SessionDescription& sdp, const SdpOrigin& origin) {
  sdp.origin = origin;
}

void setDirection(SessionDescription& sdp, std::size_t index, Direction direction) {
  if (index >= sdp.media.size()) return;
  auto& attributes = sdp.media[index].attributes;
  bool replaced = false;
  for (auto it = attributes.begin(); it != attributes.end();) {
    if (!it->has_value && isDirectionName(it->name)) {
      if (replaced) {
        it = attributes.erase(it);
        continue;
      }
      it->name = std::string(toString(direction));
      replaced = true;
    }
    ++it;
  }
  if (!replaced) attributes.push_back(SdpAttribute{std::string(toString(direction)), "", false});
}

}  // namespace duplex::media
