// admin::ActiveCallsView for the daemon: the calls in progress with their
// legs and live media facts, for GET /api/v1/status "active_calls" and the
// web page's Calls panel.
//
// How it crosses threads without blocking the SIP loop: the admin worker
// posts a request to the SIP loop (SipSubsystem::postToCallControl), which takes
// the B2BUA's snapshot (B2bua::activeCalls) and asks the relay thread for
// each call's statistics (RelayMediaSessions::collectStats); the SIP loop
// renders the JSON when the relay answered and hands it over through a
// shared slot. The admin worker waits for it at most `timeout` (1 s): a busy
// loop costs the status page a "not available" answer, never the SIP loop a
// wait on the admin thread.
//
// JSON: an array, oldest call first, each
//   {"id", "state" ("ringing"|"answered"), "caller", "dialled", "callee",
//    "started_at", "answered_at" (unix s or null), "duration_s",
//    "legs": [{"side", "state", "extension", "call_id", "peer", "transport",
//              "advertised", "status", "reason", "media": {LegStats} or null}],
//    "audio": "both_ways"|"caller_only"|"callee_only"|"none"|"unknown",
//    "diagnosis": the relay's one-way-audio diagnosis in plain words, or null}
// "media" is media_stats.h's per-leg object (leg A = the caller's leg, leg B
// = every callee leg: the relay has one callee side for all forks).
//
// For: AdminSubsystem (subsystems.cpp). Thread: activeCallsJson() on admin
// workers; activeCallsToJson() is pure (tests). Errors: never throws; a loop
// that is not running or does not answer gives {"available": false, ...}.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "admin/status_sources.h"
#include "pbx/call/call_snapshot.h"
#include "pbx/call/relay_media_sessions.h"

namespace duplex::app {

class CallWiring;

std::string activeCallsToJson(const std::vector<call::CallSnapshot>& calls,
                              const call::RelayMediaSessions::LiveFactsBySession& media,
                              std::int64_t nowUnix);

class SipActiveCallsView final : public admin::ActiveCallsView {
 public:
  // Runs a task on the SIP loop with call control (nullptr: none); false
  // when the loop is not running (SipSubsystem::postToCallControl).
  using Poster = std::function<bool(std::function<void(CallWiring*)>)>;
  explicit SipActiveCallsView(Poster post,
                              std::chrono::milliseconds timeout = std::chrono::seconds(1))
      : post_(std::move(post)), timeout_(timeout) {}
  std::string activeCallsJson() override;

 private:
  Poster post_;
  std::chrono::milliseconds timeout_;
};

}  // namespace duplex::app
