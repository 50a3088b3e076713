// The relay engine behind MediaRelay (media internal): one session's sockets
// and logic (RelaySlot), the commands the SIP thread queues, and the Engine
// that owns the relay thread. relay_engine.cpp sets up sockets and sessions
// on the caller's thread; relay.cpp is the relay thread's loop.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
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

 private:
  enum class BindResult { kOk, kInUse, kFatal };
  BindResult bindPair(std::uint16_t port, std::array<int, 2>& fds, std::string& error) const;
  int bindOne(std::uint16_t port, std::string& error, bool& in_use) const;

  void run();
  void processCommands(Clock::TimePoint now);
  void apply(Command& command, Clock::TimePoint now);
  void onReadable(RelaySlot& slot, Leg leg, Channel channel, Clock::TimePoint now);
  void tickAll(Clock::TimePoint now);
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
  std::vector<Command> draining_;  // relay thread

  // Relay thread: sessions by slot index (the epoll tag) and by id.
  std::vector<std::unique_ptr<RelaySlot>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::unordered_map<SessionId, std::uint32_t> index_;

  // Batch buffers, allocated once.
  struct Buffers {
    std::array<mmsghdr, kBatch> rx{};
    std::array<iovec, kBatch> rx_iov{};
    std::array<sockaddr_in6, kBatch> names{};
    std::array<mmsghdr, kBatch> tx{};
    std::array<iovec, kBatch> tx_iov{};
    std::array<UdpAddress, kBatch> dests;
    std::array<std::array<std::uint8_t, kMaxPacket>, kBatch> data{};
  };
  std::unique_ptr<Buffers> buffers_;
};

}  // namespace duplex::media
