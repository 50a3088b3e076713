// The SIP loop: epoll + eventfd + an ordered timer queue. See event_loop.h.
#include "pbx/sip/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <limits>
#include <system_error>
#include <utility>

namespace duplex::sip {
namespace {

constexpr std::uint64_t kWakeId = 0;  // epoll data of the eventfd; watch ids start at 1
constexpr int kMaxEventsPerRound = 128;

[[noreturn]] void throwErrno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

EventLoop::EventLoop() : loop_thread_(std::this_thread::get_id()), now_(Clock::now()) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throwErrno("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    ::close(epoll_fd_);
    throwErrno("eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) != 0) {
    ::close(wake_fd_);
    ::close(epoll_fd_);
    throwErrno("epoll_ctl(eventfd)");
  }
}

EventLoop::~EventLoop() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::run() {
  loop_thread_.store(std::this_thread::get_id());
  while (!stop_requested_.load(std::memory_order_acquire)) {
    runOnce(std::chrono::hours(1));
  }
  stop_requested_.store(false, std::memory_order_release);
}

void EventLoop::runOnce(Duration max_wait) {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  std::array<epoll_event, kMaxEventsPerRound> events;
  now_ = Clock::now();
  const int n = ::epoll_wait(epoll_fd_, events.data(), kMaxEventsPerRound, waitMillis(max_wait));
  now_ = Clock::now();
  if (n > 0) {
    // A callback may add or remove watches: ids are looked up again for each
    // event, and removed watches wait in the graveyard until the round ends.
    for (int i = 0; i < n; ++i) {
      const std::uint64_t id = events[static_cast<std::size_t>(i)].data.u64;
      const std::uint32_t got = events[static_cast<std::size_t>(i)].events;
      if (id == kWakeId) {
        std::uint64_t counter = 0;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &counter, sizeof counter);
        continue;
      }
      const bool error = (got & (EPOLLERR | EPOLLHUP)) != 0;
      if ((got & EPOLLIN) != 0 || error) {
        auto it = watches_.find(id);
        if (it != watches_.end() && (it->second->events & EPOLLIN) != 0 &&
            it->second->on_readable) {
          Watch* w = it->second.get();  // stays alive this round (graveyard)
          w->on_readable();
        }
      }
      if ((got & EPOLLOUT) != 0 || error) {
        auto it = watches_.find(id);
        if (it != watches_.end() && (it->second->events & EPOLLOUT) != 0 &&
            it->second->on_writable) {
          Watch* w = it->second.get();
          w->on_writable();
        }
      }
    }
  }
  freeGraveyard();
  runDueTimers();
  runPostedTasks();
  freeGraveyard();
}

int EventLoop::waitMillis(Duration max_wait) const {
  {
    std::lock_guard lock(posted_mutex_);
    if (!posted_.empty()) return 0;
  }
  if (stop_requested_.load(std::memory_order_acquire)) return 0;
  Duration wait = max_wait;
  if (!deadlines_.empty()) {
    const Duration until_timer = deadlines_.begin()->first - Clock::now();
    if (until_timer < wait) wait = until_timer;
  }
  if (wait <= Duration::zero()) return 0;
  // Round up so that a timer never fires early and the loop does not spin.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(wait).count();
  if (ms > std::numeric_limits<int>::max()) ms = std::numeric_limits<int>::max();
  return static_cast<int>(ms);
}

void EventLoop::stop() noexcept {
  // Async-signal-safe: a lock-free atomic and write(2); errno is kept for
  // the code the signal interrupted.
  static_assert(std::atomic<bool>::is_always_lock_free);
  const int saved_errno = errno;
  stop_requested_.store(true, std::memory_order_release);
  const std::uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
  errno = saved_errno;
}

void EventLoop::post(std::function<void()> task) {
  {
    std::lock_guard lock(posted_mutex_);
    posted_.push_back(std::move(task));
  }
  // One eventfd write per batch of posts: the loop clears wake_pending_
  // before it takes the queue, so a later post always wakes it again.
  if (!wake_pending_.exchange(true, std::memory_order_acq_rel)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
  }
}

bool EventLoop::inLoopThread() const noexcept {
  return loop_thread_.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

void EventLoop::runPostedTasks() {
  wake_pending_.store(false, std::memory_order_release);
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  // Tasks posted by these tasks run next round, so the loop keeps polling.
  for (auto& task : tasks) task();
}

void EventLoop::runDueTimers() {
  // Take the due ids first: a timer armed by a callback (even with a zero
  // delay) waits for the next round instead of making this one spin.
  std::vector<std::uint64_t> due;
  for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= now_; ++d) {
    due.push_back(d->second);
  }
  for (std::uint64_t id : due) {
    auto it = timers_.find(id);
    if (it == timers_.end()) continue;  // cancelled by an earlier callback
    std::function<void()> callback = std::move(it->second.callback);
    cancelTimer(id);  // one-shot: armed() is false inside the callback
    callback();
  }
}

void EventLoop::freeGraveyard() {
  // Destroying a callback may release objects that remove further watches.
  while (!graveyard_.empty()) {
    std::vector<std::unique_ptr<Watch>> dead;
    dead.swap(graveyard_);
  }
}

std::uint64_t EventLoop::addWatch(int fd, std::function<void()> on_readable,
                                  std::function<void()> on_writable, bool want_read,
                                  bool want_write) {
  const std::uint64_t id = next_id_++;
  auto watch = std::make_unique<Watch>();
  watch->fd = fd;
  watch->events = (want_read ? EPOLLIN : 0u) | (want_write ? EPOLLOUT : 0u);
  watch->on_readable = std::move(on_readable);
  watch->on_writable = std::move(on_writable);
  epoll_event ev{};
  ev.events = watch->events;
  ev.data.u64 = id;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) throwErrno("epoll_ctl(ADD)");
  watches_.emplace(id, std::move(watch));
  return id;
}

void EventLoop::setInterest(std::uint64_t id, bool want_read, bool want_write) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  const std::uint32_t events = (want_read ? EPOLLIN : 0u) | (want_write ? EPOLLOUT : 0u);
  if (events == it->second->events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  // Cannot fail for a registered, still open fd; if it did, keep the old mask.
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, it->second->fd, &ev) == 0) {
    it->second->events = events;
  }
}

bool EventLoop::wantsWrite(std::uint64_t id) const {
  auto it = watches_.find(id);
  return it != watches_.end() && (it->second->events & EPOLLOUT) != 0;
}

void EventLoop::removeWatch(std::uint64_t id) {
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->second->fd, nullptr);
  // The watch's callback may be running right now: free it after the round.
  graveyard_.push_back(std::move(it->second));
  watches_.erase(it);
}

std::uint64_t EventLoop::addTimer(Duration after, std::function<void()> callback) {
  const std::uint64_t id = next_id_++;
  const TimePoint deadline = Clock::now() + after;
  timers_.emplace(id, TimerEntry{deadline, std::move(callback)});
  deadlines_.emplace(deadline, id);
  return id;
}

void EventLoop::cancelTimer(std::uint64_t id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  auto [first, last] = deadlines_.equal_range(it->second.deadline);
  for (auto d = first; d != last; ++d) {
    if (d->second == id) {
      deadlines_.erase(d);
      break;
    }
  }
  timers_.erase(it);
}

// --- IoWatch ---

IoWatch::IoWatch(EventLoop& loop, int fd, std::function<void()> on_readable,
                 std::function<void()> on_writable, bool want_write)
    : loop_(&loop),
      id_(loop.addWatch(fd, std::move(on_readable), std::move(on_writable), true, want_write)) {}

IoWatch::IoWatch(IoWatch&& other) noexcept
    : loop_(other.loop_), id_(other.id_), want_read_(other.want_read_) {
  other.id_ = 0;
}

IoWatch& IoWatch::operator=(IoWatch&& other) noexcept {
  if (this != &other) {
    reset();
    loop_ = other.loop_;
    id_ = other.id_;
    want_read_ = other.want_read_;
    other.id_ = 0;
  }
  return *this;
}

void IoWatch::setInterest(bool want_read, bool want_write) {
  if (id_ == 0) return;
  want_read_ = want_read;
  loop_->setInterest(id_, want_read, want_write);
}

void IoWatch::setWantWrite(bool want_write) {
  if (id_ == 0) return;
  loop_->setInterest(id_, want_read_, want_write);
}

void IoWatch::reset() {
  if (id_ == 0) return;
  loop_->removeWatch(id_);
  id_ = 0;
}

// --- Timer ---

Timer& Timer::operator=(Timer&& other) noexcept {
  if (this != &other) {
    cancel();
    loop_ = other.loop_;
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void Timer::start(EventLoop::Duration after, std::function<void()> callback) {
  cancel();
  id_ = loop_->addTimer(after, std::move(callback));
}

void Timer::cancel() {
  if (id_ == 0) return;
  loop_->cancelTimer(id_);
  id_ = 0;
}

}  // namespace duplex::sip
