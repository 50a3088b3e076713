// Real-time priority of the relay thread (media/realtime.h): the thread runs
// at the configured SCHED_FIFO priority, a refusal says why and how to allow
// it, and the overload guard leaves and retakes real-time priority by the
// rules it documents.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "media/realtime.h"
#include "media/relay.h"

namespace duplex::media {
namespace {

using testing::HasSubstr;
using Action = PriorityGuard::Action;

// (policy, rt_priority) of each thread of this process, as `chrt -p` shows
// them (proc(5) stat fields 41 and 40; policy 1 = SCHED_FIFO).
std::vector<std::pair<int, int>> threadPolicies() {
  std::vector<std::pair<int, int>> policies;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::vector<std::string> f{std::istream_iterator<std::string>(fields),
                               std::istream_iterator<std::string>()};
    if (f.size() > 38) policies.emplace_back(std::stoi(f[38]), std::stoi(f[37]));
  }
  return policies;
}

bool mayUseRealtime() {
  rlimit limit{};
  ::getrlimit(RLIMIT_RTPRIO, &limit);
  return ::geteuid() == 0 || limit.rlim_cur >= 10;
}

RelayConfig config(int priority) {
  RelayConfig c;
  c.bind_address = "127.0.0.1";
  c.port_min = 47100;
  c.port_max = 47199;
  c.realtime_priority = priority;
  return c;
}

TEST(RelayRealtime, RelayThreadRunsAtTheConfiguredPriority) {
  if (!mayUseRealtime()) GTEST_SKIP() << "needs root or RLIMIT_RTPRIO >= 10";
  const std::pair<int, int> fifo10{SCHED_FIFO, 10};
  ASSERT_THAT(threadPolicies(), testing::Not(testing::Contains(fifo10)));
  MediaRelay relay(config(10));
  relay.start();
  EXPECT_EQ(relay.realtimeError(), "");
  EXPECT_THAT(threadPolicies(), testing::Contains(fifo10));
  relay.stop();
  EXPECT_THAT(threadPolicies(), testing::Not(testing::Contains(fifo10)));
}

TEST(RelayRealtime, ZeroMeansNormalScheduling) {
  MediaRelay relay(config(0));
  relay.start();
  EXPECT_EQ(relay.realtimeError(), "");
  // No real-time thread (the test itself may run at SCHED_OTHER, _BATCH or _IDLE).
  for (auto [policy, priority] : threadPolicies()) {
    EXPECT_NE(policy, SCHED_FIFO);
    EXPECT_NE(policy, SCHED_RR);
    EXPECT_EQ(priority, 0);
  }
}

TEST(RelayRealtime, ARefusalNamesTheCauseAndTheFix) {
  // A child without the privilege (RLIMIT_RTPRIO 0, and no longer root) asks
  // for priority 10; the relay still starts and relays at normal priority.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    rlimit none{0, 0};
    ::setrlimit(RLIMIT_RTPRIO, &none);
    if (::geteuid() == 0 && ::setuid(65534) != 0) ::_exit(3);
    MediaRelay relay(config(10));
    relay.start();
    const std::string& error = relay.realtimeError();
    const bool named = error.find(
                           "cannot run the media relay at real-time priority 10: "
                           "Operation not permitted") == 0 &&
                       error.find("LimitRTPRIO=10") != std::string::npos &&
                       error.find("media.realtime_priority = 0") != std::string::npos;
    relay.stop();
    ::_exit(named ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(RelayRealtime, AnImpossiblePriorityNamesTheRange) {
  EXPECT_THAT(setRealtimePriority(::pthread_self(), 100),
              HasSubstr("media.realtime_priority must be 1-99"));
}

TEST(PriorityGuard, DemotesAfterTwoOverloadedTicksInARow) {
  PriorityGuard guard;
  EXPECT_EQ(guard.onTick(0.95), Action::kNone);
  EXPECT_EQ(guard.onTick(0.50), Action::kNone);  // the streak breaks
  EXPECT_EQ(guard.onTick(0.90), Action::kNone);
  EXPECT_EQ(guard.onTick(1.00), Action::kDemote);
  EXPECT_TRUE(guard.demoted());
  EXPECT_EQ(guard.onTick(1.00), Action::kNone);  // already demoted
}

TEST(PriorityGuard, HighButSustainableLoadKeepsRealtime) {
  PriorityGuard guard;
  for (int tick = 0; tick < 100; ++tick) EXPECT_EQ(guard.onTick(0.85), Action::kNone);
  EXPECT_FALSE(guard.demoted());
}

TEST(PriorityGuard, PromotesAfterFiveCalmTicksInARow) {
  PriorityGuard guard;
  guard.onTick(1.0);
  ASSERT_EQ(guard.onTick(1.0), Action::kDemote);
  for (int tick = 0; tick < 4; ++tick) EXPECT_EQ(guard.onTick(0.30), Action::kNone);
  EXPECT_EQ(guard.onTick(0.70), Action::kNone);  // not calm enough: the count restarts
  for (int tick = 0; tick < 4; ++tick) EXPECT_EQ(guard.onTick(0.59), Action::kNone);
  EXPECT_EQ(guard.onTick(0.10), Action::kPromote);
  EXPECT_FALSE(guard.demoted());
  EXPECT_EQ(guard.onTick(0.95), Action::kNone);  // a fresh streak is needed to demote again
  EXPECT_EQ(guard.onTick(0.95), Action::kDemote);
}

}  // namespace
}  // namespace duplex::media
