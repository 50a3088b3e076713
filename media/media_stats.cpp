#include "media/media_stats.h"

#include <cmath>
#include <cstdio>

namespace duplex::media {
namespace {

void appendString(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", u);
      out += buffer;
    } else {
      out += c;
    }
  }
  out += '"';
}

void field(std::string& out, const char* name) {
  if (out.back() != '{') out += ',';
  appendString(out, name);
  out += ':';
}

void stringField(std::string& out, const char* name, const std::string& value) {
  field(out, name);
  appendString(out, value);
}

void numberField(std::string& out, const char* name, std::int64_t value) {
  field(out, name);
  out += std::to_string(value);
}

void appendLeg(std::string& out, const LegStats& s) {
  out += '{';
  stringField(out, "sdp_address", s.sdp_address);
  stringField(out, "advertised", s.advertised);
  stringField(out, "first_source", s.first_source);
  stringField(out, "latched_source", s.latched_source);
  field(out, "first_packet_ms");
  out += s.first_packet_ms ? std::to_string(*s.first_packet_ms) : "null";
  field(out, "hold");
  out += s.hold ? "true" : "false";
  numberField(out, "rtp_packets_in", static_cast<std::int64_t>(s.rtp_packets_in));
  numberField(out, "rtp_bytes_in", static_cast<std::int64_t>(s.rtp_bytes_in));
  numberField(out, "rtp_packets_out", static_cast<std::int64_t>(s.rtp_packets_out));
  numberField(out, "rtp_bytes_out", static_cast<std::int64_t>(s.rtp_bytes_out));
  numberField(out, "rtcp_packets_in", static_cast<std::int64_t>(s.rtcp_packets_in));
  numberField(out, "rtcp_packets_out", static_cast<std::int64_t>(s.rtcp_packets_out));
  numberField(out, "non_rtp_packets_in", static_cast<std::int64_t>(s.non_rtp_packets_in));
  numberField(out, "foreign_dropped", static_cast<std::int64_t>(s.foreign_dropped));
  stringField(out, "last_foreign_source", s.last_foreign_source);
  numberField(out, "keepalives_sent", static_cast<std::int64_t>(s.keepalives_sent));
  numberField(out, "send_errors", static_cast<std::int64_t>(s.send_errors));
  numberField(out, "packets_lost", s.packets_lost);
  field(out, "jitter_ms");
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", std::isfinite(s.jitter_ms) ? s.jitter_ms : 0.0);
  out += buffer;
  out += '}';
}

}  // namespace

std::string mediaFactsJson(const SessionStats& stats, const std::string& diagnosis) {
  std::string out = "{";
  field(out, "a");
  appendLeg(out, stats.a);
  field(out, "b");
  appendLeg(out, stats.b);
  numberField(out, "duration_ms", stats.duration_ms);
  if (!diagnosis.empty()) stringField(out, "diagnosis", diagnosis);
  out += '}';
  return out;
}

}  // namespace duplex::media
