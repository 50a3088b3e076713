#include "media/realtime.h"

#include <sched.h>

#include <cstring>

namespace duplex::media {

std::string setRealtimePriority(pthread_t thread, int priority) {
  sched_param param{};
  param.sched_priority = priority;
  const int error = ::pthread_setschedparam(thread, SCHED_FIFO, &param);
  if (error == 0) return {};
  std::string reason = "cannot run the media relay at real-time priority " +
                       std::to_string(priority) + ": " + std::strerror(error);
  if (error == EPERM) {
    reason += " (allow it with LimitRTPRIO=" + std::to_string(priority) +
              " in the systemd unit, `ulimit -r " + std::to_string(priority) +
              "`, or run as root; media.realtime_priority = 0 turns it off)";
  } else if (error == EINVAL) {
    reason += " (media.realtime_priority must be 1-" +
              std::to_string(::sched_get_priority_max(SCHED_FIFO)) + ")";
  }
  return reason;
}

void setNormalPriority(pthread_t thread) {
  sched_param param{};
  param.sched_priority = 0;
  ::pthread_setschedparam(thread, SCHED_OTHER, &param);
}

PriorityGuard::Action PriorityGuard::onTick(double cpu_share) {
  const bool toward_change = demoted_ ? cpu_share < kRecovered : cpu_share >= kOverloaded;
  streak_ = toward_change ? streak_ + 1 : 0;
  if (streak_ < (demoted_ ? kRecoveredTicks : kOverloadedTicks)) return Action::kNone;
  streak_ = 0;
  demoted_ = !demoted_;
  return demoted_ ? Action::kDemote : Action::kPromote;
}

}  // namespace duplex::media
