// Real-time scheduling for the relay thread (media internal; relay.h
// RelayConfig::realtime_priority).
//
// Why: at normal (CFS) priority any other runnable task on the relay's core
// (a kernel housekeeping thread, a backup job, the desktop) takes the core
// for its whole time slice, milliseconds, while packets queue: that is the
// tail of the relay's added latency (tests/bench/media.md). At SCHED_FIFO the
// relay preempts them the moment a packet arrives, as FreeSWITCH (-rp) and
// Asterisk (-p) do for their media threads.
//
// The risk of real-time priority is starving the core when the relay itself
// runs flat out (an overload), including the kernel threads that deliver
// network packets. PriorityGuard watches the relay thread's CPU share per
// tick and drops it to normal priority while it is overloaded, then restores
// real-time priority once the load has receded.
#pragma once

#include <pthread.h>

#include <string>

namespace duplex::media {

// SCHED_FIFO at `priority` (1-99) for `thread`. Returns "" or why not, with
// the fix ("Operation not permitted: allow it with LimitRTPRIO=10 in the
// systemd unit or run as root").
std::string setRealtimePriority(pthread_t thread, int priority);
// Back to SCHED_OTHER (always permitted).
void setNormalPriority(pthread_t thread);

// Decides, tick by tick, from the relay thread's share of one core over the
// tick (CPU time / wall time, 0..1), when to leave and when to retake
// real-time priority. Pure logic, so its rules are unit-tested without a
// scheduler.
class PriorityGuard {
 public:
  enum class Action { kNone, kDemote, kPromote };

  static constexpr double kOverloaded = 0.90;  // share that counts as overloaded
  static constexpr double kRecovered = 0.60;   // share that counts as recovered
  static constexpr int kOverloadedTicks = 2;   // consecutive ticks before demoting
  static constexpr int kRecoveredTicks = 5;    // consecutive ticks before promoting

  // Real-time priority is held when the guard starts.
  Action onTick(double cpu_share);
  bool demoted() const { return demoted_; }

 private:
  bool demoted_ = false;
  int streak_ = 0;
};

}  // namespace duplex::media
