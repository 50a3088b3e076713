// SIP over TCP; see tcp_transport.h.
#include "pbx/sip/tcp_transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace duplex::sip {

using transport_detail::SocketAddress;
using transport_detail::UniqueFd;
using SteadyClock = EventLoop::Clock;

namespace {

constexpr std::size_t kReadChunk = std::size_t{64} * 1024;
constexpr int kMaxReadsPerWakeup = 4;  // fairness between busy connections
constexpr int kMaxAcceptsPerWakeup = 64;
constexpr std::size_t kCompactAfter =
    std::size_t{64} * 1024;  // sent bytes kept before erasing them
constexpr auto kAcceptPause = std::chrono::milliseconds(100);

std::string peerKey(const Endpoint& peer) {
  return peer.ip + "|" + std::to_string(peer.port);
}

bool wouldBlock(int error) {
  return error == EAGAIN || error == EWOULDBLOCK;
}

}  // namespace

std::string_view closeReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kPeerClosed:
      return "peer closed";
    case CloseReason::kError:
      return "socket error";
    case CloseReason::kConnectFailed:
      return "connect failed";
    case CloseReason::kIdle:
      return "idle";
    case CloseReason::kFramingError:
      return "framing error";
    case CloseReason::kOverloaded:
      return "write queue full";
    case CloseReason::kLocal:
      return "closed locally";
  }
  return "?";
}

struct TcpTransport::Connection {
  enum class State : std::uint8_t { kConnecting, kOpen, kLingering };

  explicit Connection(EventLoop& loop) : timer(loop) {}

  std::uint64_t id = 0;
  bool inbound = false;
  State state = State::kOpen;
  CloseReason linger_reason = CloseReason::kLocal;
  bool shut_down = false;  // FIN sent (lingering close)
  Endpoint local;
  Endpoint peer;
  std::string in;   // received bytes not framed yet
  std::string out;  // queued bytes from out_offset on
  std::size_t out_offset = 0;
  bool pending_cr = false;  // RFC 5626 4.4.1 ping detection across reads
  int crlf_pairs = 0;
  SteadyClock::time_point state_since;
  SteadyClock::time_point last_activity;
  SteadyClock::time_point incomplete_since;
  SteadyClock::time_point timer_deadline;
  UniqueFd fd;  // declared before watch: the watch goes first
  IoWatch watch;
  Timer timer;

  std::size_t queued() const { return out.size() - out_offset; }
};

TcpTransport::TcpTransport(EventLoop& loop, TcpConfig config, TransportHandlers handlers)
    : loop_(loop),
      config_(std::move(config)),
      handlers_(std::move(handlers)),
      accept_pause_(loop),
      notify_timer_(loop) {
  listen_fd_ = transport_detail::openBoundSocket(Transport::kTcp, config_.bind, SOCK_STREAM);
  if (::listen(listen_fd_.get(), config_.listen_backlog) != 0) {
    transport_detail::throwListenError(Transport::kTcp, config_.bind, errno);
  }
  SocketAddress bound;
  transport_detail::toSocketAddress(config_.bind, bound);
  bind_specific_ = !bound.isAny();
  local_ = transport_detail::localEndpointOf(listen_fd_.get());
  read_buffer_.resize(kReadChunk);
  listen_watch_ = IoWatch(loop_, listen_fd_.get(), [this] { onAcceptable(); });
}

TcpTransport::~TcpTransport() = default;

// --- accepting and connecting ---

void TcpTransport::onAcceptable() {
  for (int i = 0; i < kMaxAcceptsPerWakeup; ++i) {
    SocketAddress address;
    address.length = sizeof address.storage;
    UniqueFd fd(
        ::accept4(listen_fd_.get(), address.get(), &address.length, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (wouldBlock(errno)) return;
      // EMFILE/ENFILE/ENOBUFS: the backlog stays readable, so pause instead of spinning.
      ++counters_.receive_errors;
      listen_watch_.setInterest(false, false);
      accept_pause_.start(kAcceptPause, [this] { listen_watch_.setInterest(true, false); });
      return;
    }
    const Endpoint peer = transport_detail::toEndpoint(address.get());
    auto per_ip = inbound_per_ip_.find(peer.ip);
    const std::size_t from_ip = per_ip == inbound_per_ip_.end() ? 0 : per_ip->second;
    if (connections_.size() >= config_.max_connections ||
        from_ip >= config_.max_connections_per_ip) {
      ++counters_.connections_refused;  // `fd` closes here
      continue;
    }
    if (adopt(std::move(fd), true, peer) != nullptr) ++counters_.connections_accepted;
  }
}

TcpTransport::Connection* TcpTransport::adopt(UniqueFd fd, bool inbound, const Endpoint& peer,
                                              bool connecting) {
  auto owned = std::make_unique<Connection>(loop_);
  Connection& c = *owned;
  c.id = next_connection_id_++;
  c.inbound = inbound;
  c.state = connecting ? Connection::State::kConnecting : Connection::State::kOpen;
  c.peer = peer;
  c.fd = std::move(fd);
  c.local = transport_detail::localEndpointOf(c.fd.get());
  c.state_since = c.last_activity = SteadyClock::now();
  // SIP messages are written whole; Nagle would only delay responses.
  const int on = 1;
  ::setsockopt(c.fd.get(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  const std::uint64_t id = c.id;
  try {
    c.watch = IoWatch(
        loop_, c.fd.get(), [this, id] { onReadable(id); }, [this, id] { onWritable(id); },
        connecting);
  } catch (const std::system_error&) {
    ++counters_.receive_errors;  // epoll_ctl refused (ENOMEM, ENOSPC): the socket closes
    return nullptr;
  }
  by_peer_[peerKey(peer)] = id;
  if (inbound) ++inbound_per_ip_[peer.ip];
  ++counters_.connections_open;
  connections_.emplace(id, std::move(owned));
  armTimer(c);
  return &c;
}

TcpTransport::Connection* TcpTransport::connect(const SocketAddress& address,
                                                const Endpoint& peer) {
  if (connections_.size() >= config_.max_connections) return nullptr;
  UniqueFd fd(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return nullptr;
  SocketAddress source;
  if (bind_specific_ && transport_detail::toSocketAddress(Endpoint{local_.ip, 0}, source) &&
      source.family() == address.family()) {
    // Leave from the address we listen on, so the peer sees the Via host;
    // if that fails the kernel's choice still works.
    (void)::bind(fd.get(), source.get(), source.length);
  }
  const int r = ::connect(fd.get(), address.get(), address.length);
  if (r != 0 && errno != EINPROGRESS) return nullptr;
  Connection* c = adopt(std::move(fd), false, peer, r != 0);
  if (c != nullptr) ++counters_.connections_opened;
  return c;
}

// --- reading and framing ---

void TcpTransport::onReadable(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (c.state == Connection::State::kConnecting) {
    onWritable(id);  // an error while connecting; SO_ERROR tells
    return;
  }
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    const ssize_t n = ::recv(c.fd.get(), read_buffer_.data(), read_buffer_.size(), MSG_DONTWAIT);
    if (n == 0) {
      const bool lingering = c.state == Connection::State::kLingering;
      closeConnection(id, lingering ? c.linger_reason : CloseReason::kPeerClosed);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (wouldBlock(errno)) return;
      if (c.state != Connection::State::kLingering) ++counters_.receive_errors;
      closeConnection(id, CloseReason::kError);
      return;
    }
    c.last_activity = SteadyClock::now();
    if (c.state == Connection::State::kLingering) continue;  // discarded until the peer closes
    counters_.bytes_received += static_cast<std::size_t>(n);
    c.in.append(read_buffer_.data(), static_cast<std::size_t>(n));
    frame(c);
    if (!connections_.count(id) || c.state != Connection::State::kOpen) return;
    if (static_cast<std::size_t>(n) < read_buffer_.size()) return;
  }
}

void TcpTransport::frame(Connection& c) {
  const std::uint64_t id = c.id;
  std::size_t pos = 0;
  bool progress = false;
  for (;;) {
    const std::string_view rest(c.in.data() + pos, c.in.size() - pos);
    auto framed = frameStreamMessage(rest, config_.max_message_size);
    if (!framed) {
      const SipError error = framed.error();
      if (error.status == 513) {
        ++counters_.dropped_oversized;
      } else {
        ++counters_.framing_errors;
      }
      std::string_view message = rest.substr(std::min(rest.find_first_not_of("\r\n"), rest.size()));
      const std::size_t blank = message.find("\r\n\r\n");
      const bool complete = blank != std::string_view::npos;
      message = message.substr(0, complete ? blank + 4 : config_.max_message_size);
      reject(c, error, std::string(message), complete);
      return;
    }
    if (framed->skip > 0) {
      if (!answerKeepalives(c, rest.substr(0, framed->skip))) return;
      pos += framed->skip;
    }
    if (framed->length == 0) break;
    std::string message(c.in.data() + pos, framed->length);
    pos += framed->length;
    progress = true;
    c.pending_cr = false;  // CRLFs around a message are not a ping
    c.crlf_pairs = 0;
    ++counters_.messages_received;
    if (handlers_.on_message) {
      handlers_.on_message(std::move(message), Origin{Transport::kTcp, c.local, c.peer, id});
      // The handler may have closed the connection (close(), a failed send).
      if (!connections_.count(id) || c.state != Connection::State::kOpen) return;
    }
  }
  c.in.erase(0, pos);
  // RFC 4475 3.1.2.2: a Content-Length larger than what arrives must not keep
  // the connection (and its buffer) forever.
  if (c.in.empty()) {
    c.incomplete_since = {};
  } else if (progress || c.incomplete_since == SteadyClock::time_point{}) {
    c.incomplete_since = SteadyClock::now();
    armTimer(c);
  }
}

bool TcpTransport::answerKeepalives(Connection& c, std::string_view crlfs) {
  // RFC 5626 4.4.1: a double CRLF ping is answered at once with a single CRLF
  // pong; a single CRLF (a pong to our own ping) is not answered.
  for (char ch : crlfs) {
    if (ch == '\r') {
      c.pending_cr = true;
      continue;
    }
    if (!c.pending_cr) continue;  // bare LF: skipped, no pair
    c.pending_cr = false;
    ++counters_.keepalives_received;
    if (++c.crlf_pairs == 2) {
      c.crlf_pairs = 0;
      ++counters_.keepalives_answered;
      if (!write(c, "\r\n")) return false;
    }
  }
  return true;
}

void TcpTransport::reject(Connection& c, SipError error, const std::string& head,
                          bool head_complete) {
  const std::uint64_t id = c.id;
  if (handlers_.on_rejected) {
    // The handler may queue a 400/513 on this connection before it goes.
    handlers_.on_rejected(
        RejectedMessage{Origin{Transport::kTcp, c.local, c.peer, id}, error, head, head_complete});
    if (!connections_.count(id)) return;
  }
  c.state = Connection::State::kLingering;
  c.linger_reason = CloseReason::kFramingError;
  c.state_since = SteadyClock::now();
  c.in.clear();
  c.in.shrink_to_fit();
  if (c.queued() == 0) {
    c.shut_down = ::shutdown(c.fd.get(), SHUT_WR) == 0;
  } else {
    c.watch.setWantWrite(true);  // flush() sends FIN when the queue is empty
  }
  armTimer(c);
}

// --- writing ---

SendResult TcpTransport::send(std::string_view bytes, const Destination& to) {
  Connection* c = nullptr;
  if (to.connection_id != 0) {
    auto it = connections_.find(to.connection_id);
    if (it != connections_.end() && it->second->state != Connection::State::kLingering) {
      c = it->second.get();
    }
  }
  SocketAddress address;
  if (c == nullptr && to.endpoint.port != 0 &&
      transport_detail::toSocketAddress(to.endpoint, address)) {
    // RFC 3261 18.1.1 / 18.2.2: reuse a connection to the same address and
    // port, else open one.
    const Endpoint peer = transport_detail::toEndpoint(address.get());
    auto known = by_peer_.find(peerKey(peer));
    if (known != by_peer_.end()) {
      Connection& existing = *connections_.at(known->second);
      if (existing.state != Connection::State::kLingering) c = &existing;
    }
    if (c == nullptr) c = connect(address, peer);
  }
  if (c == nullptr) {
    ++counters_.send_failures;
    return {};
  }
  const std::uint64_t id = c->id;
  if (!write(*c, bytes)) {
    ++counters_.send_failures;
    return {false, id};
  }
  ++counters_.messages_sent;
  counters_.bytes_sent += bytes.size();
  return {true, id};
}

bool TcpTransport::write(Connection& c, std::string_view bytes) {
  if (c.state == Connection::State::kOpen && c.queued() == 0) {
    ssize_t n;
    do {
      n = ::send(c.fd.get(), bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0 && !wouldBlock(errno)) {
      closeConnection(c.id, CloseReason::kError);
      return false;
    }
    if (n > 0) {
      c.last_activity = SteadyClock::now();
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    if (bytes.empty()) return true;
  }
  // Backpressure: a peer that does not read must not make us buffer without end.
  if (c.queued() + bytes.size() > config_.max_queued_bytes) {
    ++counters_.connections_overloaded;
    closeConnection(c.id, CloseReason::kOverloaded);
    return false;
  }
  c.out.append(bytes);
  if (c.state == Connection::State::kOpen) c.watch.setWantWrite(true);
  return true;
}

void TcpTransport::onWritable(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (c.state == Connection::State::kConnecting) {
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(c.fd.get(), SOL_SOCKET, SO_ERROR, &error, &length) != 0) error = errno;
    if (error != 0) {
      closeConnection(id, CloseReason::kConnectFailed);
      return;
    }
    c.state = Connection::State::kOpen;
    c.state_since = c.last_activity = SteadyClock::now();
    c.local = transport_detail::localEndpointOf(c.fd.get());
  }
  flush(c);
}

bool TcpTransport::flush(Connection& c) {
  while (c.queued() > 0) {
    const ssize_t n =
        ::send(c.fd.get(), c.out.data() + c.out_offset, c.queued(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && wouldBlock(errno)) {
      if (c.out_offset >= kCompactAfter) {
        c.out.erase(0, c.out_offset);
        c.out_offset = 0;
      }
      c.watch.setWantWrite(true);
      return true;
    }
    if (n <= 0) {
      closeConnection(c.id, CloseReason::kError);
      return false;
    }
    c.out_offset += static_cast<std::size_t>(n);
    c.last_activity = SteadyClock::now();
  }
  c.out.clear();
  c.out_offset = 0;
  c.watch.setWantWrite(false);
  if (c.state == Connection::State::kLingering && !c.shut_down) {
    c.shut_down = ::shutdown(c.fd.get(), SHUT_WR) == 0;
  }
  return true;
}

// --- timers and closing ---

SteadyClock::time_point TcpTransport::deadlineOf(const Connection& c) const {
  switch (c.state) {
    case Connection::State::kConnecting:
      return c.state_since + config_.connect_timeout;
    case Connection::State::kLingering:
      return c.state_since + config_.closing_timeout;
    case Connection::State::kOpen:
      break;
  }
  SteadyClock::time_point deadline = c.last_activity + config_.idle_timeout;
  if (!c.in.empty()) {
    deadline = std::min(deadline, c.incomplete_since + config_.incomplete_message_timeout);
  }
  return deadline;
}

void TcpTransport::armTimer(Connection& c) {
  // Activity only moves the deadline later; the timer then re-arms itself
  // when it fires (onTimer), so busy connections do not touch the timer queue.
  const SteadyClock::time_point deadline = deadlineOf(c);
  if (c.timer.armed() && c.timer_deadline <= deadline) return;
  c.timer_deadline = deadline;
  const std::uint64_t id = c.id;
  c.timer.start(deadline - SteadyClock::now(), [this, id] { onTimer(id); });
}

void TcpTransport::onTimer(std::uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  if (SteadyClock::now() < deadlineOf(c)) {
    armTimer(c);
    return;
  }
  switch (c.state) {
    case Connection::State::kConnecting:
      ++counters_.connections_timed_out;
      closeConnection(id, CloseReason::kConnectFailed);
      break;
    case Connection::State::kLingering:
      closeConnection(id, c.linger_reason);
      break;
    case Connection::State::kOpen:
      ++counters_.connections_timed_out;
      closeConnection(id, CloseReason::kIdle);
      break;
  }
}

void TcpTransport::close(std::uint64_t connection_id) {
  closeConnection(connection_id, CloseReason::kLocal);
}

bool TcpTransport::isOpen(std::uint64_t connection_id) const {
  auto it = connections_.find(connection_id);
  return it != connections_.end() && it->second->state != Connection::State::kLingering;
}

std::uint64_t TcpTransport::connectionTo(const Endpoint& peer) const {
  SocketAddress address;
  if (!transport_detail::toSocketAddress(peer, address)) return 0;
  auto it = by_peer_.find(peerKey(transport_detail::toEndpoint(address.get())));
  return it == by_peer_.end() ? 0 : it->second;
}

void TcpTransport::closeConnection(std::uint64_t id, CloseReason reason) {
  auto it = connections_.find(id);
  if (it == connections_.end()) return;
  std::unique_ptr<Connection> c = std::move(it->second);
  connections_.erase(it);
  auto by_peer = by_peer_.find(peerKey(c->peer));
  if (by_peer != by_peer_.end() && by_peer->second == id) by_peer_.erase(by_peer);
  if (c->inbound) {
    auto per_ip = inbound_per_ip_.find(c->peer.ip);
    if (per_ip != inbound_per_ip_.end() && --per_ip->second == 0) inbound_per_ip_.erase(per_ip);
  }
  --counters_.connections_open;
  closed_.push_back(ConnectionClosed{id, c->peer, reason, c->queued()});
  c->watch.reset();
  c->timer.cancel();
  c->fd.reset();
  // Callers up the stack may still hold a reference: free it next round.
  dying_.push_back(std::move(c));
  if (!notify_timer_.armed()) notify_timer_.start({}, [this] { notifyClosed(); });
}

void TcpTransport::notifyClosed() {
  dying_.clear();
  std::vector<ConnectionClosed> closed;
  closed.swap(closed_);
  if (!handlers_.on_closed) return;
  for (const ConnectionClosed& event : closed) handlers_.on_closed(event);
}

}  // namespace duplex::sip
