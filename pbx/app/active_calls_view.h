// admin::ActiveCallsView for the daemon: the calls in progress with their
// legs and live media facts, for GET /api/v1/status "active_calls" and the
// web page's Calls panel.
//
// How it crosses threads without blocking the SIP loop: the admin worker
// posts a request to the SIP loop (SipSubsystem::postToCallControl), which
// takes the B2BUA's snapshot (B2bua::activeCalls) and asks the relay thread
// for each call's statistics (RelayMediaSessions::collectStats); once the
// relay answered, the SIP loop hands the plain values over through a shared
// slot and the admin worker renders the JSON. The admin worker waits at most
// `timeout` (1 s): a busy loop costs the status page a "not available"
// answer, never the SIP loop a wait on the admin thread. An answer is reused
// for 250 ms, so admin load cannot flood the SIP loop with snapshot tasks.
//
// JSON: an array, oldest call first, each
//   {"id", "state" ("ringing"|"answered"), "direction" ("internal"|
//    "outbound"|"inbound"), "trunk" ("" = internal), "caller", "dialled", "callee",
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
#include <mutex>
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

// What call control answers: the calls and their live media facts;
// `callControl` false when the SIP loop runs without call control.
struct ActiveCallsAnswer {
  bool callControl = true;
  std::vector<call::CallSnapshot> calls;
  call::RelayMediaSessions::LiveFactsBySession media;
};

class SipActiveCallsView final : public admin::ActiveCallsView {
 public:
  // Asks for an answer, delivered later on another thread (the SIP loop);
  // false when the loop is not running. callControlSource() makes one from
  // SipSubsystem::postToCallControl; tests pass their own.
  using Source = std::function<bool(std::function<void(ActiveCallsAnswer)>)>;
  // An answer is reused for `maxAge` (250 ms): however many admin requests
  // come (a dashboard per admin, a benchmark), the SIP loop gets at most a
  // few snapshot tasks a second.
  explicit SipActiveCallsView(Source source,
                              std::chrono::milliseconds timeout = std::chrono::seconds(1),
                              std::chrono::milliseconds maxAge = std::chrono::milliseconds(250))
      : source_(std::move(source)), timeout_(timeout), maxAge_(maxAge) {}
  std::string activeCallsJson() override;

 private:
  std::string fetch();

  Source source_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds maxAge_;
  std::mutex cacheMutex_;
  std::string cached_;  // the last answer from call control ("" = none)
  std::chrono::steady_clock::time_point cachedAt_{};
};

// The Source on the daemon's SIP loop: `postToCallControl` runs a task there
// with call control (nullptr: none), false when the loop is not running.
SipActiveCallsView::Source callControlSource(
    std::function<bool(std::function<void(CallWiring*)>)> postToCallControl);

}  // namespace duplex::app
