// A read-only picture of the calls in progress, for the admin status
// (GET /api/v1/status "active_calls"): plain values copied out of the B2BUA
// on the SIP loop (B2bua::activeCalls(), b2bua_snapshot.cpp), so another
// thread may keep and read them. Media counters are not here: the relay owns
// them (media/media_stats.h); `mediaSession` is the key to join them
// (pbx/app does, active_calls_view.h).
//
// For: pbx/app. Thread: built on the SIP loop; the values are then any
// thread's. Nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace duplex::call {

// One SIP leg of a call as the PBX sees it.
struct LegSnapshot {
  std::string side;        // "caller" or "callee"
  std::string state;       // "trying", "ringing", "answered", "failed"
  std::string extension;   // the extension on this leg (caller / dialled target)
  std::string callId;      // the leg's own Call-ID (a B2BUA: one per side)
  std::string peer;        // where its SIP comes from / goes to, "192.0.2.21:5062"
  std::string transport;   // "UDP", "TCP", ...
  std::string advertised;  // our address given to this peer (Via, Contact, SDP)
  int status = 0;          // a failed fork: its final status; else 0
  std::string reason;      // its reason phrase
};

struct CallSnapshot {
  std::uint64_t id = 0;        // the B2BUA's call number, stable while it lives
  std::string state;           // "ringing" or "answered"
  std::string direction;       // "internal", or "outbound" / "inbound" through a trunk
  std::string trunk;           // the trunk's name ("" = internal)
  std::string caller;          // authenticated extension (inbound: the caller ID)
  std::string dialled;         // what the caller dialled (inbound: the DID)
  std::string callee;          // the extension ringing / talking (after forwards);
                               // outbound: the number sent to the provider
  std::int64_t startedAt = 0;  // unix seconds
  std::optional<std::int64_t> answeredAt;
  std::uint64_t mediaSession = 0;  // the relay session (0 = none)
  std::vector<LegSnapshot> legs;   // the caller's leg first, then one per callee fork
                                   // (answered: only the fork that won)
};

}  // namespace duplex::call
