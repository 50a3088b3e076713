// parseSdp(): RFC 4566 5 line grammar, strict where the relay depends on a
// value (c=, m=, rtpmap, rtcp, ptime) and verbatim everywhere else.
#include <charconv>
#include <string>
#include <vector>

#include "media/sdp.h"
#include "media/sdp_internal.h"

namespace duplex::media {
namespace {

std::vector<std::string_view> splitFields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 40;
  std::string out = "'";
  out.append(text.substr(0, kShown));
  if (text.size() > kShown) out += "...";
  out += "'";
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view body) : body_(body) {}

  SdpParseResult run() {
    SdpParseResult result;
    if (body_.size() > kMaxSdpSize) {
      result.error = "SDP body of " + std::to_string(body_.size()) + " bytes exceeds " +
                     std::to_string(kMaxSdpSize);
      return result;
    }
    if (body_.empty()) {
      result.error = "empty SDP body";
      return result;
    }
    SessionDescription sdp;
    bool seen_v = false;
    bool seen_o = false;
    bool seen_s = false;
    std::size_t pos = 0;
    while (pos < body_.size() && error_.empty()) {
      std::size_t end = body_.find('\n', pos);
      if (end == std::string_view::npos) end = body_.size();
      std::string_view line = body_.substr(pos, end - pos);
      pos = end + 1;
      ++line_no_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) continue;  // tolerated: blank lines, trailing CRLF
      for (char c : line) {
        const auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && c != '\t') || u == 0x7F) {
          fail("control character in line");
          break;
        }
      }
      if (!error_.empty()) break;
      if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
        fail(quoted(line) + " is not <type>=<value>");
        break;
      }
      const char type = line[0];
      const std::string_view value = line.substr(2);
      if (!seen_v) {
        if (type != 'v' || value != "0") {
          fail("the first line must be v=0");
          break;
        }
        seen_v = true;
        continue;
      }
      if (type == 'm') {
        if (sdp.media.size() >= kMaxMediaLines) {
          fail("more than " + std::to_string(kMaxMediaLines) + " m= lines");
          break;
        }
        sdp.media.push_back(parseMediaLine(value));
        continue;
      }
      if (sdp.media.empty()) {
        sessionLine(sdp, type, value, seen_o, seen_s);
      } else {
        mediaLine(sdp.media.back(), type, value);
      }
    }
    if (error_.empty() && !seen_v) error_ = "the first line must be v=0";
    if (error_.empty() && !seen_o) error_ = "no o= line";
    if (error_.empty()) {
      for (std::size_t i = 0; i < sdp.media.size(); ++i) {
        const SdpMedia& m = sdp.media[i];
        if (!m.connection && !sdp.connection && m.port != 0) {
          error_ = "m= line " + std::to_string(i + 1) + " (" + m.media +
                   ") has no c= and there is no session c=";
          break;
        }
      }
    }
    if (!error_.empty()) {
      result.error = std::move(error_);
      return result;
    }
    result.description = std::move(sdp);
    return result;
  }

 private:
  void fail(const std::string& why) {
    if (error_.empty()) error_ = "line " + std::to_string(line_no_) + ": " + why;
  }

  void sessionLine(SessionDescription& sdp, char type, std::string_view value, bool& seen_o,
                   bool& seen_s) {
    switch (type) {
      case 'v':
        fail("second v= line");
        return;
      case 'o': {
        if (seen_o) return fail("second o= line");
        seen_o = true;
        const auto f = splitFields(value);
        if (f.size() != 6) return fail("o=: expected 6 fields, got " + std::to_string(f.size()));
        sdp.origin = SdpOrigin{std::string(f[0]), std::string(f[1]), std::string(f[2]),
                               std::string(f[3]), std::string(f[4]), std::string(f[5])};
        return;
      }
      case 's':
        if (seen_s) return fail("second s= line");
        seen_s = true;
        sdp.session_name = std::string(value);
        return;
      case 'i':
        sdp.info = std::string(value);
        return;
      case 'u':
        sdp.uri = std::string(value);
        return;
      case 'e':
        sdp.emails.emplace_back(value);
        return;
      case 'p':
        sdp.phones.emplace_back(value);
        return;
      case 'c':
        if (sdp.connection) return fail("second session-level c= line");
        sdp.connection = parseConnection(value);
        return;
      case 'b':
        sdp.bandwidths.emplace_back(value);
        return;
      case 't':
        sdp.times.emplace_back(value);
        return;
      case 'r':
      case 'z':
        sdp.times.push_back(std::string{type, '='}.append(value));
        return;
      case 'k':
        sdp.key = std::string(value);
        return;
      case 'a':
        sdp.attributes.push_back(parseAttribute(value));
        return;
      default:
        fail(std::string("unknown line type ") + std::string{'\'', type, '=', '\''});
    }
  }

  void mediaLine(SdpMedia& m, char type, std::string_view value) {
    switch (type) {
      case 'i':
        m.title = std::string(value);
        return;
      case 'c':
        if (m.connection) return fail("second c= line in a media section");
        m.connection = parseConnection(value);
        return;
      case 'b':
        m.bandwidths.emplace_back(value);
        return;
      case 'k':
        m.key = std::string(value);
        return;
      case 'a':
        m.attributes.push_back(parseAttribute(value));
        return;
      case 'v':
      case 'o':
      case 's':
      case 'u':
      case 'e':
      case 'p':
      case 't':
      case 'r':
      case 'z':
        return fail(std::string{'\'', type, '=', '\''} + " is not allowed after the first m= line");
      default:
        fail(std::string("unknown line type ") + std::string{'\'', type, '=', '\''});
    }
  }

  SdpConnection parseConnection(std::string_view value) {
    SdpConnection c;
    const auto f = splitFields(value);
    if (f.size() != 3) {
      fail("c=: " + quoted(value) + " is not '<nettype> <addrtype> <address>'");
      return c;
    }
    if (f[0] != "IN") fail("c=: network type " + quoted(f[0]) + " is not IN");
    if (f[1] != "IP4" && f[1] != "IP6")
      fail("c=: address type " + quoted(f[1]) + " is not IP4/IP6");
    c.net_type = std::string(f[0]);
    c.addr_type = std::string(f[1]);
    std::string_view address = f[2];
    const std::size_t slash = address.find('/');
    if (slash != std::string_view::npos) {
      c.suffix = std::string(address.substr(slash));
      address = address.substr(0, slash);
    }
    if (address.empty()) fail("c=: empty address");
    c.address = std::string(address);
    return c;
  }

  SdpMedia parseMediaLine(std::string_view value) {
    SdpMedia m;
    m.formats.clear();
    const auto f = splitFields(value);
    const std::string which = "m= line " + std::to_string(media_no_ + 1);
    ++media_no_;
    if (f.size() < 4) {
      fail(which + ": " + quoted(value) + " needs <media> <port> <proto> <format>...");
      return m;
    }
    m.media = std::string(f[0]);
    std::string_view port = f[1];
    const std::size_t slash = port.find('/');
    if (slash != std::string_view::npos) {
      auto count = sdp_detail::parseUnsigned(port.substr(slash + 1), 1, 65535);
      if (!count)
        fail(which + ": port count " + quoted(port.substr(slash + 1)) + " is not a number");
      m.port_count = count.value_or(0);
      port = port.substr(0, slash);
    }
    auto number = sdp_detail::parseUnsigned(port, 0, 65535);
    if (!number) fail(which + ": port " + quoted(port) + " is not a number (0-65535)");
    m.port = static_cast<std::uint16_t>(number.value_or(0));
    m.proto = std::string(f[2]);
    for (std::size_t i = 3; i < f.size(); ++i) m.formats.emplace_back(f[i]);
    return m;
  }

  SdpAttribute parseAttribute(std::string_view value) {
    SdpAttribute a;
    const std::size_t colon = value.find(':');
    if (colon == std::string_view::npos) {
      a.name = std::string(value);
    } else {
      a.name = std::string(value.substr(0, colon));
      a.value = std::string(value.substr(colon + 1));
      a.has_value = true;
    }
    if (a.name.empty()) fail("a=: empty attribute name");
    if (a.name == "rtpmap" && !sdp_detail::parseRtpMap(a.value)) {
      fail("a=rtpmap: " + quoted(a.value) + " is not '<payload type> <encoding>/<clock rate>'");
    } else if (a.name == "rtcp" && !sdp_detail::parseRtcp(a.value)) {
      fail("a=rtcp: " + quoted(a.value) + " is not '<port> [IN IP4|IP6 <address>]'");
    } else if (a.name == "ptime" && !sdp_detail::parseUnsigned(a.value, 1, 10000)) {
      fail("a=ptime: " + quoted(a.value) + " is not a number of milliseconds");
    }
    return a;
  }

  std::string_view body_;
  std::size_t line_no_ = 0;
  std::size_t media_no_ = 0;
  std::string error_;
};

}  // namespace

namespace sdp_detail {

std::optional<int> parseUnsigned(std::string_view text, int min, int max) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value < min || value > max) {
    return std::nullopt;
  }
  return value;
}

std::optional<RtpMap> parseRtpMap(std::string_view value) {
  const auto f = splitFields(value);
  if (f.size() != 2) return std::nullopt;
  auto pt = parseUnsigned(f[0], 0, 127);
  if (!pt) return std::nullopt;
  std::string_view rest = f[1];
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  RtpMap map;
  map.payload_type = *pt;
  map.encoding = std::string(rest.substr(0, slash));
  rest = rest.substr(slash + 1);
  const std::size_t slash2 = rest.find('/');
  auto rate = parseUnsigned(rest.substr(0, slash2), 1, 10'000'000);
  if (!rate) return std::nullopt;
  map.clock_rate = *rate;
  if (slash2 != std::string_view::npos) {
    map.parameters = std::string(rest.substr(slash2 + 1));
    if (map.parameters.empty()) return std::nullopt;
  }
  return map;
}

std::optional<RtcpAttribute> parseRtcp(std::string_view value) {
  const auto f = splitFields(value);
  if (f.size() != 1 && f.size() != 4) return std::nullopt;
  auto port = parseUnsigned(f[0], 0, 65535);
  if (!port) return std::nullopt;
  RtcpAttribute rtcp;
  rtcp.port = static_cast<std::uint16_t>(*port);
  if (f.size() == 4) {
    if (f[1] != "IN" || (f[2] != "IP4" && f[2] != "IP6")) return std::nullopt;
    rtcp.address = std::string(f[3]);
  }
  return rtcp;
}

}  // namespace sdp_detail

SdpParseResult parseSdp(std::string_view body) {
  return Parser(body).run();
}

}  // namespace duplex::media
