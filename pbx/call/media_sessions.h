// What call control needs of the media relay, as a small interface of its
// own (the adapter to media/relay.h implements it; tests use
// tests/fakes/fake_media_sessions.h): one relay session per call with two
// sides, the caller's and the callee's, and each SDP body that crosses the
// PBX rewritten so that the side receiving it sends media to the relay port
// the PBX opened for it, on the address that side can reach.
//
// For: call control (B2bua). Thread: the SIP loop; implementations hand work
// to the media thread without blocking. Errors: rewrite() reports SDP it
// cannot use as {status 488, reason} (the reason goes into the 488's reason
// phrase, e.g. "SDP: missing c= line"); create() returns 0 when no session
// can be opened (port range exhausted: the call gets 503). Nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace duplex::call {

enum class CallSide : std::uint8_t { kCaller, kCallee };
inline CallSide otherSide(CallSide s) {
  return s == CallSide::kCaller ? CallSide::kCallee : CallSide::kCaller;
}

struct SdpRewrite {
  std::string body;    // the SDP to send to the other side; empty on error
  int status = 0;      // 0 = ok, else 488
  std::string reason;  // why, for the 488
  bool ok() const { return status == 0; }
};

// A report from the relay that ends or marks a call (delivered on the SIP
// loop through B2bua::onMediaEvent).
struct MediaEvent {
  enum class Kind : std::uint8_t { kTimeout, kOneWay };
  std::uint64_t session = 0;
  Kind kind = Kind::kTimeout;
  std::string reason;  // plain language, for the call record
};

class MediaSessions {
 public:
  using SessionId = std::uint64_t;
  virtual ~MediaSessions() = default;
  // A session for one call; 0 when none can be opened.
  virtual SessionId create(std::string_view call_id) = 0;
  // An SDP body (offer or answer) that `from` sent (its SIP came from
  // `from_signal_ip`). The relay learns `from`'s media address from it and
  // returns the body for the other side: same codecs, c=/m= pointing at the
  // relay port opened toward the other side, on `advertise_to_other` (the
  // address the other side can reach).
  virtual SdpRewrite rewrite(SessionId session, CallSide from, std::string_view sdp,
                             std::string_view from_signal_ip,
                             std::string_view advertise_to_other) = 0;
  // The call was answered (one-way diagnosis starts counting from here).
  virtual void answered(SessionId session) = 0;
  // Ends the session; `done` gets its facts for the call record, on the SIP
  // loop, now or later (after the relay thread's final statistics): a JSON
  // object (per side: SDP address, first/latched source, packets and bytes
  // each way, drops) and, when there was one, the one-way-audio diagnosis.
  struct Facts {
    std::string json = "{}";
    std::optional<std::string> diagnosis;
  };
  virtual void release(SessionId session, std::function<void(Facts)> done) = 0;
};

}  // namespace duplex::call
