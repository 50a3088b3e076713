// B2bua::activeCalls(): the calls in progress as plain values (call_snapshot.h)
// for the admin status. Read-only over the B2BUA's state; SIP loop.
#include <algorithm>

#include "pbx/call/b2bua_internal.h"

namespace duplex::call {
namespace {

std::string forkState(const Fork& fork) {
  if (fork.done) return "failed";
  return fork.provisional ? "ringing" : "trying";
}

}  // namespace

std::vector<CallSnapshot> B2bua::activeCalls() const {
  std::vector<CallSnapshot> out;
  out.reserve(state_->calls.size());
  for (const auto& [id, owned] : state_->calls) {
    const Call& call = *owned;
    if (call.state == CallState::kEnded) continue;  // waiting to be freed
    const bool answered = call.state == CallState::kAnswered;
    CallSnapshot s;
    s.id = call.id;
    s.state = answered ? "answered" : "ringing";
    s.caller = call.routing.caller;
    s.dialled = call.routing.dialled;
    s.callee = call.routing.target ? call.routing.target->number : std::string();
    s.direction = "internal";
    if (call.trunk) {
      s.direction = call.trunk->outbound ? "outbound" : "inbound";
      s.trunk = call.trunk->trunk.name;
      if (call.trunk->outbound) s.callee = call.trunk->plan.sendNumber;
    }
    s.startedAt = call.startAt;
    s.answeredAt = call.answerAt;
    s.mediaSession = call.media;

    LegSnapshot caller;
    caller.side = "caller";
    caller.state = answered ? "answered" : "ringing";
    caller.extension = call.routing.caller;
    caller.callId = call.caller.dialog->callId();
    caller.peer = call.caller.to.endpoint.toString();
    caller.transport = std::string(sip::transportName(call.caller.transport));
    caller.advertised = call.caller.advertised;
    s.legs.push_back(std::move(caller));

    for (std::size_t i = 0; i < call.forks.size(); ++i) {
      if (answered && call.winner && *call.winner != i) continue;
      const Fork& fork = call.forks[i];
      LegSnapshot leg;
      leg.side = "callee";
      leg.state = answered ? "answered" : forkState(fork);
      leg.extension = s.callee;
      leg.callId = call.calleeCallId;
      leg.peer = fork.to.endpoint.toString();
      leg.transport = std::string(sip::transportName(fork.to.transport));
      leg.advertised = fork.advertised;
      if (fork.done && !answered) {
        leg.status = fork.status;
        leg.reason = fork.reason;
      }
      s.legs.push_back(std::move(leg));
    }
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(),
            [](const CallSnapshot& a, const CallSnapshot& b) { return a.id < b.id; });
  return out;
}

}  // namespace duplex::call
