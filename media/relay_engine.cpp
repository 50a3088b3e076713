// MediaRelay::Engine on the caller's threads: construction, start/stop, and
// createSession() (port pool + binding), post() of commands.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <cstring>
#include <future>
#include <random>
#include <stdexcept>

#include "media/relay_engine.h"

namespace duplex::media {

using relay_detail::kWakeTag;
using relay_detail::systemError;

MediaRelay::Engine::Engine(RelayConfig config, EventHandler on_event, const Clock* clock)
    : config_(std::move(config)),
      pool_(config_.port_min, config_.port_max),
      on_event_(std::move(on_event)),
      clock_(clock != nullptr ? clock : &system_clock_) {
  if (config_.port_min > config_.port_max || pool_.capacity() == 0) {
    throw std::invalid_argument("media port range " + std::to_string(config_.port_min) + "-" +
                                std::to_string(config_.port_max) +
                                " holds no even/odd RTP/RTCP port pair");
  }
  auto bind = UdpAddress::parse(config_.bind_address, 0);
  if (!bind) {
    throw std::invalid_argument("media bind address '" + config_.bind_address +
                                "' is not an IP address");
  }
  bind_ = *bind;
  timings_.learning_window = config_.learning_window;
  timings_.keepalive_interval = config_.keepalive_interval;
  timings_.timeout = config_.timeout;
  timings_.one_way_after = config_.one_way_after;
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw systemError("epoll_create1");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    closeFd(epoll_fd_);
    throw systemError("eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  buffers_ = std::make_unique<Buffers>();  // value-initialized: zeroed headers
  for (std::size_t j = 0; j < kBatch; ++j) {
    buffers_->rx_iov[j] = iovec{buffers_->data[j].data(), kMaxPacket};
    buffers_->rx[j].msg_hdr.msg_iov = &buffers_->rx_iov[j];
    buffers_->rx[j].msg_hdr.msg_iovlen = 1;
    buffers_->rx[j].msg_hdr.msg_name = buffers_->names[j].receiveBuffer();
    buffers_->tx[j].msg_hdr.msg_iov = &buffers_->tx_iov[j];
    buffers_->tx[j].msg_hdr.msg_iovlen = 1;
  }
}

MediaRelay::Engine::~Engine() {
  stop();
  closeFd(wake_fd_);
  closeFd(epoll_fd_);
}

void MediaRelay::Engine::start() {
  if (thread_.joinable()) return;
  stop_ = false;
  realtime_error_.clear();
  realtime_ = false;
  // The priority is set before the thread runs its loop (run() waits for
  // the go-ahead), so realtime_ needs no synchronisation beyond the handoff.
  std::promise<void> go;
  std::shared_future<void> ready = go.get_future().share();
  thread_ = std::thread([this, ready] {
    ready.wait();
    run();
  });
  if (config_.realtime_priority > 0) {
    realtime_error_ = setRealtimePriority(thread_.native_handle(), config_.realtime_priority);
    realtime_ = realtime_error_.empty();
  }
  go.set_value();
}

void MediaRelay::Engine::stop() {
  if (thread_.joinable()) {
    stop_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
  }
  std::vector<Command> pending;
  {
    std::lock_guard lock(commands_mutex_);
    pending.swap(commands_);
    commands_pending_.store(false, std::memory_order_relaxed);
  }
  for (const Command& command : pending) {
    if (std::holds_alternative<AddCommand>(command)) {
      counters_.sessions_active.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  pending.clear();  // queued slots close their sockets and return their ports
  for (auto& slot : slots_) {
    if (slot) counters_.sessions_active.fetch_sub(1, std::memory_order_relaxed);
  }
  slots_.clear();
  free_slots_.clear();
  index_.clear();
}

int MediaRelay::Engine::bindOne(std::uint16_t port, std::string& error, bool& in_use) const {
  const int family = bind_.family();
  int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = std::string("cannot create an RTP socket: ") + std::strerror(errno);
    return -1;
  }
  if (family == AF_INET6) {
    int v6only = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
  }
  const int size = config_.socket_buffer_bytes;
  if (size > 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }
  UdpAddress local = bind_;
  local.setPort(port);
  if (::bind(fd, local.sockaddrPtr(), local.sockaddrLength()) != 0) {
    in_use = errno == EADDRINUSE;
    error = "cannot bind RTP socket on " + local.toString() + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

MediaRelay::Engine::BindResult MediaRelay::Engine::bindPair(std::uint16_t port,
                                                            std::array<int, 2>& fds,
                                                            std::string& error) const {
  bool in_use = false;
  fds[0] = bindOne(port, error, in_use);
  if (fds[0] < 0) return in_use ? BindResult::kInUse : BindResult::kFatal;
  fds[1] = bindOne(static_cast<std::uint16_t>(port + 1), error, in_use);
  if (fds[1] < 0) {
    closeFd(fds[0]);
    return in_use ? BindResult::kInUse : BindResult::kFatal;
  }
  return BindResult::kOk;
}

CreateResult MediaRelay::Engine::create() {
  CreateResult result;
  const SessionId id = next_id_.fetch_add(1, std::memory_order_relaxed);
  auto slot = std::make_unique<RelaySlot>(id, timings_, clock_->now(), pool_);
  std::vector<std::uint16_t> busy;  // held by another process: back to the pool afterwards
  for (std::size_t leg = 0; leg < 2 && result.error.empty(); ++leg) {
    for (;;) {
      auto port = pool_.acquire();
      if (!port) {
        const auto [min, max] = pool_.range();
        result.error =
            "no free RTP port pair in " + std::to_string(min) + "-" + std::to_string(max);
        break;
      }
      const BindResult bound = bindPair(*port, slot->fds[leg], result.error);
      if (bound == BindResult::kOk) {
        slot->rtp_port[leg] = *port;
        result.error.clear();
        break;
      }
      if (bound == BindResult::kFatal) {
        pool_.release(*port);
        break;
      }
      busy.push_back(*port);
      result.error.clear();
    }
  }
  for (std::uint16_t port : busy) pool_.release(port);
  if (!result.error.empty()) {
    counters_.create_failures.fetch_add(1, std::memory_order_relaxed);
    return result;  // the slot's destructor closes what was bound and returns its ports
  }
  std::random_device random;
  slot->keepalive_ssrc = random();
  result.id = id;
  result.a = LegPorts{slot->rtp_port[0], static_cast<std::uint16_t>(slot->rtp_port[0] + 1)};
  result.b = LegPorts{slot->rtp_port[1], static_cast<std::uint16_t>(slot->rtp_port[1] + 1)};
  counters_.sessions_created.fetch_add(1, std::memory_order_relaxed);
  counters_.sessions_active.fetch_add(1, std::memory_order_relaxed);
  post(AddCommand{std::move(slot)});
  return result;
}

void MediaRelay::Engine::post(Command command) {
  {
    std::lock_guard lock(commands_mutex_);
    commands_.push_back(std::move(command));
    commands_pending_.store(true, std::memory_order_release);
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto written = ::write(wake_fd_, &one, sizeof one);
}

}  // namespace duplex::media
