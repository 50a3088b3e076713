// EventLoop, Timer, IoWatch: the SIP loop's primitives (DESIGN.md "Threads").
#include "pbx/sip/event_loop.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "transport_test_support.h"

namespace duplex::sip {
namespace {

using test::runUntil;
using namespace std::chrono_literals;

TEST(EventLoop, PostFromAnotherThreadRunsOnTheLoopThread) {
  EventLoop loop;
  std::atomic<int> ran{0};
  std::thread::id ran_on;
  bool in_loop = false;
  std::thread other([&] {
    EXPECT_FALSE(loop.inLoopThread());
    for (int i = 0; i < 100; ++i) {
      loop.post([&] {
        ran_on = std::this_thread::get_id();
        in_loop = loop.inLoopThread();
        ++ran;
      });
    }
  });
  other.join();
  ASSERT_TRUE(runUntil(loop, [&] { return ran == 100; }));
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_TRUE(in_loop);
}

TEST(EventLoop, PostedTasksRunInOrder) {
  EventLoop loop;
  std::vector<int> order;
  for (int i = 0; i < 5; ++i) loop.post([&, i] { order.push_back(i); });
  loop.runOnce(0ms);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(EventLoop, RunUntilStopFromAnotherThread) {
  EventLoop loop;
  std::atomic<bool> task_ran{false};
  std::thread other([&] {
    loop.post([&] { task_ran = true; });
    loop.stop();
  });
  loop.run();  // returns: a stop() that comes first is not lost
  other.join();
  // The task may have run before stop was seen; either way a later round runs it.
  runUntil(loop, [&] { return task_ran.load(); });
  EXPECT_TRUE(task_ran);
}

TEST(EventLoop, StopFromALoopCallbackEndsRun) {
  EventLoop loop;
  int rounds = 0;
  Timer tick(loop);
  std::function<void()> again = [&] {
    if (++rounds == 3) loop.stop();
    tick.start(0ms, again);
  };
  tick.start(0ms, again);
  loop.run();
  EXPECT_EQ(rounds, 3);
}

TEST(EventLoop, TimersFireInDeadlineOrder) {
  EventLoop loop;
  std::vector<int> fired;
  Timer late(loop), early(loop), middle(loop);
  late.start(30ms, [&] { fired.push_back(3); });
  early.start(1ms, [&] { fired.push_back(1); });
  middle.start(10ms, [&] { fired.push_back(2); });
  EXPECT_TRUE(late.armed());
  ASSERT_TRUE(runUntil(loop, [&] { return fired.size() == 3; }));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE(late.armed());
}

TEST(EventLoop, TimerDoesNotFireEarly) {
  EventLoop loop;
  const auto start = EventLoop::Clock::now();
  std::optional<EventLoop::Clock::time_point> fired_at;
  Timer timer(loop);
  timer.start(20ms, [&] { fired_at = EventLoop::Clock::now(); });
  ASSERT_TRUE(runUntil(loop, [&] { return fired_at.has_value(); }));
  EXPECT_GE(*fired_at - start, 20ms);
}

TEST(EventLoop, TimerIsCancelledWhenDestroyed) {
  EventLoop loop;
  bool fired = false;
  bool witness = false;
  {
    Timer doomed(loop);
    doomed.start(1ms, [&] { fired = true; });
  }  // out of scope: cancelled (STYLE.md 8)
  Timer later(loop);
  later.start(20ms, [&] { witness = true; });
  ASSERT_TRUE(runUntil(loop, [&] { return witness; }));
  EXPECT_FALSE(fired);
}

TEST(EventLoop, TimerCancelAndRestart) {
  EventLoop loop;
  int fired = 0;
  Timer timer(loop);
  timer.start(1ms, [&] { fired += 1; });
  timer.cancel();
  EXPECT_FALSE(timer.armed());
  timer.start(1ms, [&] { fired += 10; });
  timer.start(2ms, [&] { fired += 100; });  // re-arming replaces the callback
  ASSERT_TRUE(runUntil(loop, [&] { return fired != 0; }));
  test::spin(loop);
  EXPECT_EQ(fired, 100);
}

TEST(EventLoop, ATimerCallbackMayDestroyAnotherDueTimer) {
  EventLoop loop;
  auto victim = std::make_unique<Timer>(loop);
  bool victim_fired = false;
  bool killer_fired = false;
  Timer killer(loop);
  killer.start(0ms, [&] {
    killer_fired = true;
    victim.reset();
  });
  victim->start(0ms, [&] { victim_fired = true; });
  ASSERT_TRUE(runUntil(loop, [&] { return killer_fired; }));
  test::spin(loop);
  EXPECT_FALSE(victim_fired);
}

TEST(EventLoop, MovedTimerKeepsItsSchedule) {
  EventLoop loop;
  bool fired = false;
  Timer first(loop);
  first.start(1ms, [&] { fired = true; });
  Timer second = std::move(first);
  EXPECT_TRUE(second.armed());
  ASSERT_TRUE(runUntil(loop, [&] { return fired; }));
}

class Pipe {
 public:
  Pipe() { EXPECT_EQ(::pipe2(fds_, O_NONBLOCK | O_CLOEXEC), 0); }
  ~Pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  int reader() const { return fds_[0]; }
  int writer() const { return fds_[1]; }
  void put(char c) { ASSERT_EQ(::write(fds_[1], &c, 1), 1); }
  int take() {
    char c;
    return ::read(fds_[0], &c, 1) == 1 ? c : -1;
  }

 private:
  int fds_[2] = {-1, -1};
};

TEST(EventLoop, IoWatchReportsReadableAndWritable) {
  EventLoop loop;
  Pipe pipe;
  std::string got;
  IoWatch reader(loop, pipe.reader(), [&] {
    for (int c; (c = pipe.take()) >= 0;) got.push_back(static_cast<char>(c));
  });
  int writable = 0;
  IoWatch writer(
      loop, pipe.writer(), {}, [&] { ++writable; }, true);
  ASSERT_TRUE(runUntil(loop, [&] { return writable > 0; }));
  writer.setWantWrite(false);
  const int seen = writable;
  pipe.put('a');
  pipe.put('b');
  ASSERT_TRUE(runUntil(loop, [&] { return got == "ab"; }));
  EXPECT_EQ(writable, seen);  // no write interest, no more calls
}

TEST(EventLoop, IoWatchMayResetItselfAndOthersFromItsCallback) {
  EventLoop loop;
  Pipe first, second;
  int first_calls = 0;
  int second_calls = 0;
  IoWatch watch_b;
  IoWatch watch_a(loop, first.reader(), [&] {
    ++first_calls;
    watch_a.reset();  // its own registration, while its callback runs
    watch_b.reset();  // another one whose event may be in the same batch
  });
  watch_b = IoWatch(loop, second.reader(), [&] { ++second_calls; });
  first.put('x');
  second.put('y');
  ASSERT_TRUE(runUntil(loop, [&] { return first_calls > 0; }));
  test::spin(loop);
  EXPECT_EQ(first_calls, 1);
  EXPECT_FALSE(watch_a.active());
  EXPECT_LE(second_calls, 1);  // at most the call that came first in the batch
}

TEST(EventLoop, IoWatchStopsAtDestruction) {
  EventLoop loop;
  Pipe pipe;
  int calls = 0;
  {
    IoWatch watch(loop, pipe.reader(), [&] { ++calls; });
  }
  pipe.put('x');
  test::spin(loop);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace duplex::sip
