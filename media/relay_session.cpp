#include "media/relay_session.h"

#include "media/diagnosis.h"

namespace duplex::media {
namespace {

std::int64_t millisBetween(Clock::TimePoint from, Clock::TimePoint to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

}  // namespace

RelaySession::RelaySession(const RelayTimings& timings, TimePoint now)
    : timings_(timings), created_(now), last_rtp_(now) {
  for (auto& leg : legs_) {
    leg.latch = {Latch(timings.learning_window), Latch(timings.learning_window)};
    leg.last_sent = now;
  }
}

void RelaySession::setRemote(Leg which, const RemoteMedia& remote, int socket_family,
                             TimePoint now) {
  LegState& leg = legs_[index(which)];
  UdpAddress rtp;
  if (auto parsed = UdpAddress::parse(remote.address, remote.rtp_port)) rtp = *parsed;
  UdpAddress rtcp = rtp;
  if (rtcp.isSet()) {
    std::uint16_t port = remote.rtcp_port;
    if (port == 0) {
      port = remote.rtcp_mux ? remote.rtp_port : static_cast<std::uint16_t>(remote.rtp_port + 1);
    }
    rtcp.setPort(port);
  }
  leg.sdp = rtp;
  leg.signal = UdpAddress::parse(remote.signal_ip, 0).value_or(UdpAddress());
  leg.stats.sdp_address =
      rtp.isSet() ? rtp.toString() : remote.address + ":" + std::to_string(remote.rtp_port);
  if (!remote.advertised.empty()) setAdvertised(which, remote.advertised);
  const UdpAddress signal = leg.signal.mappedTo(socket_family);
  leg.latch[0].reset(rtp.mappedTo(socket_family), signal);
  leg.latch[1].reset(rtcp.mappedTo(socket_family), signal);
  leg.hold = remote.hold;
  leg.rtp.setClockRate(remote.clock_rate);
  if (!leg.have_remote) {
    leg.remote_at = now;
    leg.last_sent = now;
  }
  leg.have_remote = true;
  if (answered_) armOneWayCheck(now);  // a re-INVITE after answer: check again
}

void RelaySession::setHold(Leg which, bool hold) {
  legs_[index(which)].hold = hold;
}

void RelaySession::setAdvertised(Leg which, const std::string& advertised) {
  auto& leg = legs_[index(which)];
  leg.stats.advertised = advertised;
  leg.advertised = UdpAddress::parseHostPort(advertised).value_or(UdpAddress());
}

void RelaySession::answered(TimePoint now) {
  if (answered_) return;
  answered_ = true;
  last_rtp_ = now;
  armOneWayCheck(now);
}

void RelaySession::armOneWayCheck(TimePoint now) {
  one_way_armed_ = true;
  one_way_due_ = now + timings_.one_way_after;
  for (auto& leg : legs_) {
    leg.rtp_in_at_check = leg.stats.rtp_packets_in;
    leg.rtcp_in_at_check = leg.stats.rtcp_packets_in;
    leg.non_rtp_at_check = leg.stats.non_rtp_packets_in;
    leg.foreign_at_check = leg.stats.foreign_dropped;
  }
}

void RelaySession::recordFirstPacket(LegState& leg, const UdpAddress& source, TimePoint now) {
  leg.stats.first_source = source.toString();
  leg.stats.first_packet_ms = millisBetween(leg.have_remote ? leg.remote_at : created_, now);
}

void RelaySession::recordLatch(LegState& leg, Channel channel, const UdpAddress& source) {
  if (channel == Channel::kRtp) leg.stats.latched_source = source.toString();
}

void RelaySession::onSent(Leg to, Channel channel, std::size_t bytes, bool ok, TimePoint now) {
  LegState& leg = legs_[index(to)];
  if (!ok) {
    ++leg.stats.send_errors;
    return;
  }
  if (channel == Channel::kRtp) {
    ++leg.stats.rtp_packets_out;
    leg.stats.rtp_bytes_out += bytes;
    leg.last_sent = now;
  } else {
    ++leg.stats.rtcp_packets_out;
  }
}

void RelaySession::onKeepaliveSent(Leg to, TimePoint now) {
  LegState& leg = legs_[index(to)];
  ++leg.stats.keepalives_sent;
  leg.last_sent = now;
}

const UdpAddress& RelaySession::destination(Leg to, Channel channel) const {
  return legs_[index(to)].latch[static_cast<std::size_t>(channel)].destination();
}

const UdpAddress& RelaySession::latched(Leg leg, Channel channel) const {
  return legs_[index(leg)].latch[static_cast<std::size_t>(channel)].latched();
}

void RelaySession::tick(TimePoint now, TickActions& actions) {
  // Field by field: the engine reuses one TickActions for every session.
  actions.keepalive = {};
  actions.timed_out = false;
  actions.one_way = false;
  actions.one_way_leg = Leg::kA;
  actions.text.clear();
  for (std::size_t i = 0; i < legs_.size(); ++i) {
    const LegState& leg = legs_[i];
    const UdpAddress& to = leg.latch[0].destination();
    if (leg.have_remote && to.isSet() && !to.isNull() &&
        now - leg.last_sent >= timings_.keepalive_interval) {
      actions.keepalive[i] = true;
    }
  }
  if (answered_ && !timed_out_ && !anyHold() && now - last_rtp_ >= timings_.timeout) {
    timed_out_ = true;
    actions.timed_out = true;
    actions.text =
        "media timeout: no RTP from either phone for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timings_.timeout).count()) +
        " s";
  }
  if (one_way_armed_ && now >= one_way_due_) {
    one_way_armed_ = false;
    checkOneWay(actions);
  }
}

void RelaySession::checkOneWay(TickActions& actions) {
  if (anyHold()) return;  // RFC 3264 8.4: one side is meant to be silent
  const std::uint64_t a = legs_[0].stats.rtp_packets_in - legs_[0].rtp_in_at_check;
  const std::uint64_t b = legs_[1].stats.rtp_packets_in - legs_[1].rtp_in_at_check;
  if ((a == 0) == (b == 0)) return;  // both flowing, or nothing at all (the timeout's case)
  const Leg silent = a == 0 ? Leg::kA : Leg::kB;
  const LegState& leg = legs_[index(silent)];
  SilentLegFacts facts;
  facts.leg = silent;
  facts.sdp = leg.sdp;
  facts.signal = leg.signal;
  facts.advertised = leg.advertised;
  facts.rtcp_in = leg.stats.rtcp_packets_in - leg.rtcp_in_at_check;
  facts.non_rtp_in = leg.stats.non_rtp_packets_in - leg.non_rtp_at_check;
  facts.foreign_dropped = leg.stats.foreign_dropped - leg.foreign_at_check;
  facts.foreign_source = leg.last_foreign.toString();
  facts.latched_source = leg.latch[0].latched().toString();
  facts.other_leg_packets = a == 0 ? b : a;
  const LegState& talker = legs_[index(otherLeg(silent))];
  facts.other_sdp = talker.sdp;
  facts.other_latched = talker.latch[0].latched();
  facts.send_errors = leg.stats.send_errors;
  actions.one_way = true;
  actions.one_way_leg = silent;
  actions.text = diagnoseSilentLeg(facts).text;
}

SessionStats RelaySession::stats(TimePoint now) const {
  SessionStats out;
  for (std::size_t i = 0; i < legs_.size(); ++i) {
    const LegState& leg = legs_[i];
    LegStats& s = out.leg(static_cast<Leg>(i));
    s = leg.stats;
    s.hold = leg.hold;
    s.packets_lost = leg.rtp.lost();
    s.jitter_ms = leg.rtp.jitterMs();
    s.last_foreign_source = leg.last_foreign.toString();
  }
  out.duration_ms = millisBetween(created_, now);
  return out;
}

}  // namespace duplex::media
