// The relay engine behind MediaRelay (media internal): one session's sockets
// and logic (RelaySlot), the commands the SIP thread queues, and the Engine
// that owns the relay thread. relay_engine.cpp sets up sockets and sessions
// on the caller's thread; relay.cpp is the relay thread's loop.
#pragma once

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "media/clock.h"
#include "media/port_pool.h"
#include "media/realtime.h"
#include "media/relay.h"
#include "media/relay_session.h"

namespace duplex::media {
namespace relay_detail {
constexpr std::size_t kBatch = 64;
constexpr std::size_t kMaxPacket = 2048;  // larger datagrams are truncated and dropped
constexpr int kMaxEvents = 256;
constexpr auto kTickInterval = std::chrono::milliseconds(200);
constexpr std::uint64_t kWakeTag = ~std::uint64_t{0};

inline std::system_error systemError(const char* what) {
  return std::system_error(errno, std::generic_category(), what);
}

inline void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// The relay thread's three per-packet system calls, made with syscall(2)
// rather than through glibc's wrappers: in a multi-threaded process those
// wrappers are cancellation points that switch asynchronous cancellation on
// and off around every call (~80 instructions per forwarded packet under
// callgrind, tests/bench/media.md). The relay thread is never cancelled (it
// stops on stop_), so the switch is pure cost. Same results and errno.
// epoll_pwait with no signal mask is epoll_wait (the only form on some
// architectures); the size is the kernel's sigset_t (8 bytes), as glibc passes it.
inline int relayEpollWait(int epfd, epoll_event* events, int max, int timeout_ms) {
  return static_cast<int>(
      ::syscall(SYS_epoll_pwait, epfd, events, max, timeout_ms, nullptr, _NSIG / 8));
}
inline int relayRecvmmsg(int fd, mmsghdr* messages, unsigned count, int flags) {
  return static_cast<int>(::syscall(SYS_recvmmsg, fd, messages, count, flags, nullptr));
}
inline int relaySendmmsg(int fd, mmsghdr* messages, unsigned count, int flags) {
  return static_cast<int>(::syscall(SYS_sendmmsg, fd, messages, count, flags));
}

}  // namespace relay_detail

using relay_detail::closeFd;
using relay_detail::kBatch;
using relay_detail::kMaxPacket;

// One session's sockets, ports and logic; owned by the relay thread once added.
struct RelaySlot {
  RelaySlot(SessionId session, const RelayTimings& timings, Clock::TimePoint now, PortPool& p)
      : id(session), logic(timings, now), pool(&p) {}
  ~RelaySlot() {
    for (auto& leg : fds) {
      for (int& fd : leg) closeFd(fd);
    }
    for (std::uint16_t port : rtp_port) {
      if (port != 0) pool->release(port);
    }
  }
  RelaySlot(const RelaySlot&) = delete;
  RelaySlot& operator=(const RelaySlot&) = delete;

  SessionId id;
  std::array<std::array<int, 2>, 2> fds{{{-1, -1}, {-1, -1}}};  // [leg][channel]
  std::array<std::uint16_t, 2> rtp_port{};
  RelaySession logic;
  PortPool* pool;
  std::array<std::uint16_t, 2> keepalive_seq{};
  std::uint32_t keepalive_ssrc = 0;
};

struct AddCommand {
  std::unique_ptr<RelaySlot> slot;
};
struct RemoteCommand {
  SessionId id;
  Leg leg;
  RemoteMedia remote;
};
struct HoldCommand {
  SessionId id;
  Leg leg;
  bool hold;
};
struct SimpleCommand {
  enum Kind { kAnswered, kStats, kRelease } kind;
  SessionId id;
};
struct AdvertisedCommand {
  SessionId id;
  Leg leg;
  std::string advertised;
};
using Command =
    std::variant<AddCommand, RemoteCommand, HoldCommand, AdvertisedCommand, SimpleCommand>;

class MediaRelay::Engine {
 public:
  Engine(RelayConfig config, EventHandler on_event, const Clock* clock);
  ~Engine();

  void start();
  void stop();
  CreateResult create();
  void post(Command command);
  void setPreference(std::function<bool(std::uint16_t)> f) { pool_.setPreference(std::move(f)); }

  RelayConfig config_;
  RelayCounters counters_;
  PortPool pool_;
  std::string realtime_error_;  // written by start(), before it returns

 private:
  enum class BindResult { kOk, kInUse, kFatal };
  BindResult bindPair(std::uint16_t port, std::array<int, 2>& fds, std::string& error) const;
  int bindOne(std::uint16_t port, std::string& error, bool& in_use) const;

  void run();
  void processCommands(Clock::TimePoint now);
  void apply(Command& command, Clock::TimePoint now);
  void onReadable(RelaySlot& slot, Leg leg, Channel channel, Clock::TimePoint now);
  void flushRoundCounters();
  void tickAll(Clock::TimePoint now);
  void guardPriority();
  void emitRelayWide(MediaEventKind kind, std::string text);
  void sendKeepalive(RelaySlot& slot, Leg leg, Clock::TimePoint now);
  void emit(MediaEventKind kind, const RelaySlot& slot, Leg leg, std::string text,
            Clock::TimePoint now);
  void removeSlot(SessionId id, Clock::TimePoint now, bool final_stats);
  RelaySlot* find(SessionId id);

  EventHandler on_event_;
  SystemClock system_clock_;
  const Clock* clock_;
  RelayTimings timings_;
  UdpAddress bind_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<SessionId> next_id_{1};

  std::mutex commands_mutex_;
  std::vector<Command> commands_;  // guarded by commands_mutex_
  // commands_ is not empty; set and cleared under commands_mutex_, read
  // without it by the relay thread so that a round without commands takes no lock.
  std::atomic<bool> commands_pending_{false};
  std::vector<Command> draining_;  // relay thread

  // Relay thread: packet counts of the current epoll round, added to
  // counters_ once per round (one atomic add per counter, not per socket).
  std::uint64_t round_relayed_ = 0;
  std::uint64_t round_foreign_ = 0;
  std::uint64_t round_other_ = 0;
  TickActions tick_actions_;  // reused by every tick (its text keeps its buffer)

  // Relay thread: real-time priority and its overload guard. The CPU share
  // is measured from the thread's CPU clock between two ticks.
  bool realtime_ = false;
  PriorityGuard guard_;
  std::chrono::steady_clock::time_point guard_wall_{};
  std::chrono::nanoseconds guard_cpu_{0};

  // Relay thread: sessions by slot index (the epoll tag) and by id.
  std::vector<std::unique_ptr<RelaySlot>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<SessionId, std::uint32_t> index_;

  // Batch buffers, allocated once.
  struct Buffers {
    std::array<mmsghdr, kBatch> rx{};
    std::array<iovec, kBatch> rx_iov{};
    std::array<UdpAddress, kBatch> names;  // recvmmsg() writes the sources here
    // rx entries whose msg_namelen the kernel overwrote in the last recvmmsg():
    // only those need resetting before the next one.
    std::size_t rx_used = kBatch;
    std::array<mmsghdr, kBatch> tx{};
    std::array<iovec, kBatch> tx_iov{};
    std::array<UdpAddress, kBatch> dests;
    std::array<std::array<std::uint8_t, kMaxPacket>, kBatch> data{};
  };
  std::unique_ptr<Buffers> buffers_;
};

}  // namespace duplex::media
