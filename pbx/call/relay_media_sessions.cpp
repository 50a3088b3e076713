// MediaSessions on media/relay.h; see relay_media_sessions.h.
#include "pbx/call/relay_media_sessions.h"

#include <spdlog/spdlog.h>

#include "media/sdp.h"
#include "pbx/call/concat.h"

namespace duplex::call {
namespace {

media::Leg legOf(CallSide side) {
  return side == CallSide::kCaller ? media::Leg::kA : media::Leg::kB;
}

std::shared_ptr<spdlog::logger> logger() {
  auto log = spdlog::get("media");
  return log ? log : spdlog::default_logger();
}

}  // namespace

RelayMediaSessions::RelayMediaSessions(media::MediaRelay& relay,
                                       std::function<void(const MediaEvent&)> on_event)
    : relay_(relay), on_event_(std::move(on_event)) {}

RelayMediaSessions::~RelayMediaSessions() {
  for (auto& [id, session] : sessions_) {
    relay_.releaseSession(id);
    if (session.mapped) mapper_->releaseRtpPorts(id);
  }
}

MediaSessions::SessionId RelayMediaSessions::create(std::string_view call_id) {
  media::CreateResult created = relay_.createSession();
  if (!created) {
    logger()->warn("call {}: no media session: {}", call_id, created.error);
    return 0;
  }
  Session& s = sessions_[created.id];
  s.ports[0] = created.a;
  s.ports[1] = created.b;
  if (mapper_ != nullptr) {
    // Asynchronous (NAT worker); a port already mapped whole is a no-op there.
    mapper_->requestRtpPorts(created.id,
                             {created.a.rtp, created.a.rtcp, created.b.rtp, created.b.rtcp}, {});
    s.mapped = true;
  }
  return created.id;
}

SdpRewrite RelayMediaSessions::rewrite(SessionId session, CallSide from, std::string_view sdp,
                                       std::string_view from_signal_ip,
                                       std::string_view advertise_to_other) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return {{}, 500, "No media session"};
  media::SdpParseResult parsed = media::parseSdp(sdp);
  if (!parsed) return {{}, 488, concat("SDP: ", parsed.error)};
  media::SessionDescription& d = *parsed.description;
  std::optional<std::size_t> audio;
  for (std::size_t i = 0; i < d.media.size(); ++i) {
    if (d.media[i].port != 0) {
      audio = i;
      break;
    }
  }
  if (!audio) return {{}, 488, "SDP: no active media line"};
  auto target = media::mediaTarget(d, *audio);
  if (!target) return {{}, 488, "SDP: media line without address"};
  const media::Leg leg = legOf(from);
  const media::Leg other = media::otherLeg(leg);
  Session& s = it->second;
  const media::LegPorts& toward = s.ports[static_cast<int>(other)];

  media::RemoteMedia remote;
  remote.address = target->address;
  remote.rtp_port = target->rtp_port;
  remote.rtcp_port = target->rtcp_port;
  remote.rtcp_mux = target->rtcp_mux;
  remote.hold = media::isHold(d, *audio);
  remote.clock_rate = target->clock_rate;
  remote.signal_ip = std::string(from_signal_ip);
  // What `leg` itself was told is in the SDP sent to it (the other side's
  // rewritten offer or answer): known from an earlier rewrite, or set by a
  // later one through setAdvertised().
  remote.advertised = s.advertised[static_cast<int>(leg)];
  relay_.setRemote(session, leg, std::move(remote));
  std::string& told = s.advertised[static_cast<int>(other)];
  told = concat(advertise_to_other, ":", std::to_string(toward.rtp));
  relay_.setAdvertised(session, other, told);

  for (std::size_t i = 0; i < d.media.size(); ++i) {
    if (i == *audio) {
      media::rewriteMedia(d, i, advertise_to_other, toward.rtp, toward.rtcp);
    } else {
      d.media[i].port = 0;  // RFC 3264 6: declined toward the other side
    }
  }
  media::SdpOrigin origin;
  origin.username = "duplex";
  origin.session_id = std::to_string(session);
  origin.session_version = std::to_string(++s.version[static_cast<int>(other)]);
  origin.addr_type = advertise_to_other.find(':') != std::string_view::npos ? "IP6" : "IP4";
  origin.address = std::string(advertise_to_other);
  media::setOrigin(d, origin);
  return {media::serializeSdp(d), 0, {}};
}

void RelayMediaSessions::answered(SessionId session) {
  if (sessions_.count(session) != 0) relay_.answered(session);
}

void RelayMediaSessions::release(SessionId session, std::function<void(Facts)> done) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) {
    if (done) done(Facts{});
    return;
  }
  it->second.done = std::move(done);
  relay_.releaseSession(session);  // kFinalStats follows on the relay thread
  if (it->second.mapped) {
    mapper_->releaseRtpPorts(session);
    it->second.mapped = false;
  }
}

void RelayMediaSessions::onEvent(const media::MediaEvent& event) {
  auto it = sessions_.find(event.session);
  if (it == sessions_.end()) return;
  Session& s = it->second;
  switch (event.kind) {
    case media::MediaEventKind::kOneWay:
      s.diagnosis = event.text;
      logger()->warn("media session {}: one-way audio: {}", event.session, event.text);
      if (on_event_) on_event_(MediaEvent{event.session, MediaEvent::Kind::kOneWay, event.text});
      break;
    case media::MediaEventKind::kTimeout:
      if (on_event_) on_event_(MediaEvent{event.session, MediaEvent::Kind::kTimeout, event.text});
      break;
    case media::MediaEventKind::kStats:
      collected(event.session, event.stats, s.diagnosis);
      break;
    case media::MediaEventKind::kFinalStats: {
      collected(event.session, event.stats, s.diagnosis);
      Facts facts;
      facts.json = media::mediaFactsJson(event.stats, s.diagnosis);
      if (!s.diagnosis.empty()) facts.diagnosis = s.diagnosis;
      auto done = std::move(s.done);
      sessions_.erase(it);
      if (done) done(std::move(facts));
      break;
    }
    default:
      break;
  }
}

void RelayMediaSessions::collectStats(const std::vector<SessionId>& sessions,
                                      std::function<void(LiveFactsBySession)> done) {
  Collection c;
  c.done = std::move(done);
  for (SessionId id : sessions) {
    if (sessions_.count(id) != 0) c.waiting.insert(id);
  }
  if (c.waiting.empty()) {
    if (c.done) c.done({});
    return;
  }
  if (collections_.size() >= kMaxCollections) {
    Collection oldest = std::move(collections_.front());
    collections_.erase(collections_.begin());
    if (oldest.done) oldest.done(std::move(oldest.got));
  }
  // After release() the relay ignores the request, but the session's final
  // statistics are still to come and answer it (onEvent).
  for (SessionId id : c.waiting) relay_.requestStats(id);
  collections_.push_back(std::move(c));
}

void RelayMediaSessions::collected(SessionId session, const media::SessionStats& stats,
                                   const std::string& diagnosis) {
  std::vector<Collection> complete;
  for (auto it = collections_.begin(); it != collections_.end();) {
    if (it->waiting.erase(session) != 0) it->got[session] = LiveFacts{stats, diagnosis};
    if (it->waiting.empty()) {
      complete.push_back(std::move(*it));
      it = collections_.erase(it);
    } else {
      ++it;
    }
  }
  // After the bookkeeping: a `done` may start another collection.
  for (auto& c : complete) {
    if (c.done) c.done(std::move(c.got));
  }
}

}  // namespace duplex::call
