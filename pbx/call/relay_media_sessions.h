// MediaSessions (media_sessions.h) on the real relay, media/relay.h: a relay
// session per call (leg A = the caller, leg B = the callee), SDP parsed and
// rewritten with media/sdp.h, the remote media of every offer/answer handed
// to the relay (which reopens latching), and the relay's events brought back
// to the SIP loop: final statistics become the call record's media facts,
// a one-way diagnosis is kept for it, a media timeout ends the call.
//
// For: pbx/app (CallWiring). Thread: every member on the SIP loop; the
// relay's events arrive on the relay thread, and the owner brings them to
// the SIP loop (post) and passes them to onEvent() there. Errors: SDP that does not parse or has no
// usable audio line is {488, "SDP: <why>"}; create() returns 0 when the relay has no free ports
// (logged with the relay's reason). Nothing throws.
//
// Only the first media line is relayed; further m= lines are declined
// (port 0) toward the other side, which RFC 3264 6 allows.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "media/relay.h"
#include "nat/port_mapper.h"
#include "pbx/call/media_sessions.h"

namespace duplex::call {

class RelayMediaSessions final : public MediaSessions {
 public:
  // `relay` must outlive this object. `on_event` gets timeouts and one-way
  // reports (on the SIP loop).
  RelayMediaSessions(media::MediaRelay& relay, std::function<void(const MediaEvent&)> on_event);
  ~RelayMediaSessions() override;
  // Behind a router whose UPnP budget does not cover the whole RTP range:
  // each session's four ports are mapped while it lives (requested at
  // create(), released at release()). `mapper` must outlive this object.
  void mapPortsWith(nat::PortMapper* mapper) { mapper_ = mapper; }

  SessionId create(std::string_view call_id) override;
  SdpRewrite rewrite(SessionId session, CallSide from, std::string_view sdp,
                     std::string_view from_signal_ip, std::string_view advertise_to_other) override;
  void answered(SessionId session) override;
  void release(SessionId session, std::function<void(Facts)> done) override;

  // SIP loop: a relay event, brought over from the relay thread. Final
  // statistics complete release(); one-way and timeout go to `on_event`;
  // statistics answer collectStats().
  void onEvent(const media::MediaEvent& event);

  // What the relay knows of a session now (admin status): per-leg facts
  // (leg A = the caller) and the one-way diagnosis so far ("" = none).
  struct LiveFacts {
    media::SessionStats stats;
    std::string diagnosis;
  };
  using LiveFactsBySession = std::map<SessionId, LiveFacts>;
  // SIP loop: asks the relay thread for a snapshot of each of `sessions` and
  // calls `done` (on the SIP loop, never from inside this call unless there
  // is nothing to ask) once each answered or was released meanwhile; sessions
  // this object does not know are left out. At most kMaxCollections are
  // pending: a newer one completes the oldest with what it has, so an answer
  // the relay never gives (it stopped) costs nothing but that entry.
  void collectStats(const std::vector<SessionId>& sessions,
                    std::function<void(LiveFactsBySession)> done);
  static constexpr std::size_t kMaxCollections = 8;

 private:
  struct Session {
    media::LegPorts ports[2];
    unsigned version[2] = {0, 0};  // o= version toward each side
    std::string advertised[2];     // relay address:port in the last SDP sent to each side
    std::string diagnosis;
    std::function<void(Facts)> done;
    bool mapped = false;  // RTP ports requested from mapper_, not released yet
  };
  struct Collection {
    std::set<SessionId> waiting;
    LiveFactsBySession got;
    std::function<void(LiveFactsBySession)> done;
  };
  void collected(SessionId session, const media::SessionStats& stats, const std::string& diagnosis);

  media::MediaRelay& relay_;
  std::function<void(const MediaEvent&)> on_event_;
  std::vector<Collection> collections_;  // oldest first
  std::unordered_map<SessionId, Session> sessions_;
  nat::PortMapper* mapper_ = nullptr;
};

}  // namespace duplex::call
