// The SIP loop (DESIGN.md "Threads"): one thread that owns the SIP sockets,
// the transports, transactions and dialogs. epoll readiness callbacks for file
// descriptors, one-shot timers on the monotonic clock, and a task queue that
// other threads use to hand work over (STYLE.md 7).
//
// Thread safety:
//   - post(), stop() and inLoopThread() may be called from ANY thread.
//     stop() is also async-signal-safe (an atomic store and a write(2) to an
//     eventfd), so a signal handler may call it directly.
//   - Everything else (run(), runOnce(), now(), IoWatch, Timer) belongs to the
//     loop thread: the thread that calls run()/runOnce(), or the thread that
//     sets things up before the loop starts.
//
// Callbacks must not throw: an exception escapes run() and the loop stops
// (untrusted input is rejected with a status, never thrown; STYLE.md 9).
// A callback may destroy any IoWatch or Timer, its own included.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace duplex::sip {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;  // monotonic: never jumps with the wall clock
  using Duration = Clock::duration;
  using TimePoint = Clock::time_point;

  // Creates the epoll instance and the wake-up eventfd; throws
  // std::system_error when the kernel refuses (start-up path only).
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop(). Returns at once when stop() came before run(); either
  // way the stop request is consumed, so run() may be called again.
  void run();
  // One round: waits at most `max_wait` (less when a timer is due earlier)
  // for readiness, then dispatches fd callbacks, due timers and posted tasks.
  // For tests and for embedding; run() is a loop around it.
  void runOnce(Duration max_wait);

  // Any thread, async-signal-safe: makes run() return after the current round.
  void stop() noexcept;
  // Any thread: `task` runs on the loop thread in a later round, in posting
  // order. Tasks still queued when the loop is destroyed are dropped unrun.
  void post(std::function<void()> task);
  // Any thread: true on the thread that runs (or last ran, or set up) the loop.
  bool inLoopThread() const noexcept;

  // Loop thread: the monotonic time, read once per round before timers run.
  TimePoint now() const { return now_; }

 private:
  friend class IoWatch;
  friend class Timer;

  struct Watch {
    int fd = -1;
    std::uint32_t events = 0;  // EPOLLIN / EPOLLOUT interest
    std::function<void()> on_readable;
    std::function<void()> on_writable;
  };
  struct TimerEntry {
    TimePoint deadline;
    std::function<void()> callback;
  };

  std::uint64_t addWatch(int fd, std::function<void()> on_readable,
                         std::function<void()> on_writable, bool want_read, bool want_write);
  void setInterest(std::uint64_t id, bool want_read, bool want_write);
  bool wantsWrite(std::uint64_t id) const;
  void removeWatch(std::uint64_t id);
  std::uint64_t addTimer(Duration after, std::function<void()> callback);
  void cancelTimer(std::uint64_t id);
  bool timerArmed(std::uint64_t id) const { return timers_.count(id) != 0; }

  void dispatchIo(int ready_count);
  void runDueTimers();
  void runPostedTasks();
  void freeGraveyard();
  int waitMillis(Duration max_wait) const;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: post() and stop() write to it
  std::atomic<bool> stop_requested_{false};
  std::atomic<std::thread::id> loop_thread_;
  TimePoint now_;

  std::uint64_t next_id_ = 1;  // watch and timer ids; 0 means "none"
  std::unordered_map<std::uint64_t, std::unique_ptr<Watch>> watches_;
  // Watches removed while their callback may be running; freed after the round.
  std::vector<std::unique_ptr<Watch>> graveyard_;
  std::unordered_map<std::uint64_t, TimerEntry> timers_;
  std::multimap<TimePoint, std::uint64_t> deadlines_;  // ordered timer queue

  mutable std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;  // guarded by posted_mutex_
  std::atomic<bool> wake_pending_{false};      // coalesces eventfd writes
};

// Readiness callbacks for one file descriptor while the IoWatch lives
// (level-triggered). The IoWatch does not own the descriptor: the owner
// closes it after the IoWatch is gone or reset. EPOLLERR/EPOLLHUP wake the
// read callback (and the write callback when write interest is on); the owner
// finds the error through recv()/getsockopt(SO_ERROR). Loop thread only.
class IoWatch {
 public:
  IoWatch() = default;
  IoWatch(EventLoop& loop, int fd, std::function<void()> on_readable,
          std::function<void()> on_writable = {}, bool want_write = false);
  ~IoWatch() { reset(); }
  IoWatch(IoWatch&& other) noexcept;
  IoWatch& operator=(IoWatch&& other) noexcept;
  IoWatch(const IoWatch&) = delete;
  IoWatch& operator=(const IoWatch&) = delete;

  void setInterest(bool want_read, bool want_write);
  void setWantWrite(bool want_write);
  void reset();  // unregisters; safe from inside its own callback
  bool active() const { return id_ != 0; }

 private:
  EventLoop* loop_ = nullptr;
  std::uint64_t id_ = 0;
  bool want_read_ = true;
};

// A one-shot timer owned by its user (STYLE.md 8): destroying or moving over
// it cancels it. start() while armed re-arms. Loop thread only.
class Timer {
 public:
  explicit Timer(EventLoop& loop) : loop_(&loop) {}
  ~Timer() { cancel(); }
  Timer(Timer&& other) noexcept : loop_(other.loop_), id_(other.id_) { other.id_ = 0; }
  Timer& operator=(Timer&& other) noexcept;
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // `callback` runs once on the loop thread, `after` from now (0 = next round).
  void start(EventLoop::Duration after, std::function<void()> callback);
  void cancel();
  bool armed() const { return id_ != 0 && loop_->timerArmed(id_); }

 private:
  EventLoop* loop_;
  std::uint64_t id_ = 0;
};

}  // namespace duplex::sip
