// In-memory MediaSessions (pbx/call/media_sessions.h) for call-control tests:
// rewrites the c= line to the advertised address and the m= port to a fixed
// relay port per side (40000 toward the caller, 40002 toward the callee),
// records every call, and reports facts at once on release(). An SDP body
// without "m=" is refused with 488 "SDP: no media line". Single-threaded.
#pragma once

#include <string>
#include <vector>

#include "pbx/call/media_sessions.h"

namespace duplex::fakes {

class FakeMediaSessions final : public call::MediaSessions {
 public:
  struct Rewrite {
    SessionId session;
    call::CallSide from;
    std::string sdp;
    std::string signalIp;
    std::string advertised;
  };
  static constexpr int kPortTowardCaller = 40000;
  static constexpr int kPortTowardCallee = 40002;

  SessionId create(std::string_view) override {
    if (exhausted) return 0;
    ++created;
    return ++next_;
  }
  call::SdpRewrite rewrite(SessionId session, call::CallSide from, std::string_view sdp,
                           std::string_view signal_ip, std::string_view advertise) override {
    rewrites.push_back(
        {session, from, std::string(sdp), std::string(signal_ip), std::string(advertise)});
    if (sdp.find("m=") == std::string_view::npos) return {{}, 488, "SDP: no media line"};
    const int port = from == call::CallSide::kCaller ? kPortTowardCallee : kPortTowardCaller;
    std::string out;
    std::size_t pos = 0;
    while (pos < sdp.size()) {
      std::size_t eol = sdp.find('\n', pos);
      if (eol == std::string_view::npos) eol = sdp.size();
      std::string line(sdp.substr(pos, eol - pos));
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.rfind("c=", 0) == 0) {
        line = "c=IN IP4 " + std::string(advertise);
      } else if (line.rfind("m=audio ", 0) == 0) {
        std::size_t sp = line.find(' ', 8);
        line = "m=audio " + std::to_string(port) + line.substr(sp);
      }
      out += line;
      out += "\r\n";
      pos = eol + 1;
    }
    return {out, 0, {}};
  }
  void answered(SessionId session) override { answeredSessions.push_back(session); }
  void release(SessionId session, std::function<void(Facts)> done) override {
    released.push_back(session);
    Facts f;
    f.json = "{\"session\":" + std::to_string(session) + "}";
    f.diagnosis = diagnosis;
    if (done) done(f);
  }

  bool exhausted = false;
  int created = 0;
  std::optional<std::string> diagnosis;
  std::vector<Rewrite> rewrites;
  std::vector<SessionId> answeredSessions;
  std::vector<SessionId> released;

 private:
  SessionId next_ = 0;
};

}  // namespace duplex::fakes
