// Read-only views the status resource (GET /api/v1/status) shows, provided by
// the components that own the state. Each returns ready JSON text so that
// admin/ does not depend on their record types; the daemon plugs in what
// exists (pbx/app/admin_wiring.h) and a missing view is shown as
// {"available": false, "detail": "..."}.
//
// For: pbx/app (implements), admin/ (renders). Thread: called on an admin
// worker thread; an implementation that needs another thread's state posts
// there and waits with a timeout. Errors: must not throw; return
// {"available": false, "detail": why} instead.
#pragma once

#include <string>

namespace duplex::admin {

// The calls in progress: a JSON array, one object per call with "legs" (each
// with "state" and media facts) and "diagnosis" (e.g. one-way audio, plainly).
class ActiveCallsView {
 public:
  virtual ~ActiveCallsView() = default;
  virtual std::string activeCallsJson() = 0;
};

// NAT: a JSON object with the public address and its sources, address book,
// UPnP state and mappings with lease, double-NAT warning, manual forwarding
// plan, NAT-type verdict, DynDNS last result.
class NatStatusView {
 public:
  virtual ~NatStatusView() = default;
  virtual std::string natStatusJson() = 0;
};

// SIP trunks: a JSON array, one object per configured trunk with "id",
// "name", "enabled", "state" (registered, registering, failed, disabled,
// not_required), "last_error", "registered_until" and "next_attempt" (unix
// seconds or null), "contact", "behind_nat", "keepalive_status".
class TrunkStatusView {
 public:
  virtual ~TrunkStatusView() = default;
  virtual std::string trunkStatusJson() = 0;
};

struct StatusSources {
  ActiveCallsView* calls = nullptr;   // nullptr: not available yet
  NatStatusView* nat = nullptr;       // nullptr: not available yet
  TrunkStatusView* trunks = nullptr;  // nullptr: not available (no SIP loop)
};

}  // namespace duplex::admin
