#include "pbx/app/sip_stack.h"

#include <spdlog/spdlog.h>

#include "pbx/app/logging.h"

namespace duplex::app {
namespace {

// recvmmsg batch: each slot holds max_message_size bytes, allocated at start,
// so 8 x 64 KB keeps the idle footprint small; the loop drains more batches
// per wake-up when busy.
constexpr std::size_t kUdpReceiveBatch = 8;

// RFC 3261 17.1.1.2: a transaction gives up after 64*T1; an incomplete TCP
// message waits no longer than that.
std::chrono::milliseconds incompleteMessageTimeout(const SipConfig& config) {
  return 64 * config.t1;
}

}  // namespace

SipTrace::SipTrace(const Logging& logging)
    : flag_(logging.sipTraceFlag()), log_(logging.logger(kSipTraceLogger)) {}

void SipTrace::received(std::string_view bytes, const sip::Origin& origin) const {
  if (!on()) return;
  log_->info("received {} bytes from {} {} (on {}):\n{}", bytes.size(),
             sip::transportName(origin.transport), origin.source.toString(),
             origin.local.toString(), bytes);
}

void SipTrace::sent(std::string_view bytes, sip::Transport transport,
                    const sip::Endpoint& to) const {
  if (!on()) return;
  log_->info("sent {} bytes to {} {}:\n{}", bytes.size(), sip::transportName(transport),
             to.toString(), bytes);
}

static sip::EndpointOptions endpointOptions(const SipConfig& config) {
  sip::EndpointOptions options;
  options.server = config.user_agent;
  options.timers.t1 = config.t1;
  options.timers.t2 = config.t2;
  options.timers.t4 = config.t4;
  // RFC 3262: reliable provisionals are relayed (call control); an INVITE
  // with Require: 100rel is accepted, not answered 420.
  options.supported = {"100rel"};
  return options;
}

SipStack::SipStack(sip::EventLoop& loop, const SipConfig& config, const Logging& logging)
    : loop_(loop),
      config_(config),
      trace_(logging),
      log_(logging.logger("sip")),
      endpoint_(std::make_unique<sip::SipEndpoint>(clock_, endpointOptions(config))),
      timer_(loop) {
  bindTransports();
  if (udp_) endpoint_->addTransport(*udp_);
  if (tcp_) endpoint_->addTransport(*tcp_);
  endpoint_->setSendObserver([this](std::string_view wire, const sip::Destination& to) {
    trace_.sent(wire, to.transport, to.endpoint);
  });
}

SipStack::~SipStack() {
  // TCP first: it may still hold connections; both close their sockets here.
  tcp_.reset();
  udp_.reset();
  log_->debug("SIP transports closed");
}

void SipStack::bindTransports() {
  // With port 0, UDP picks a free port and TCP takes the same one; if TCP
  // finds it taken, try another pair.
  const int attempts = config_.port == 0 && config_.udp && config_.tcp ? 10 : 1;
  for (int attempt = 1;; ++attempt) {
    sip::Endpoint bind{config_.bind, config_.port};
    if (config_.udp) {
      sip::UdpConfig udp;
      udp.bind = bind;
      udp.max_message_size = config_.max_message_size;
      udp.receive_batch = kUdpReceiveBatch;
      udp_ = std::make_unique<sip::UdpTransport>(loop_, udp, handlers());
      bind.port = udp_->localEndpoint().port;
      // The kernel reports twice the usable size; below half of what was
      // asked, bursts (a office's phones re-registering after a power cut)
      // are dropped while the loop is busy.
      if (const int granted = udp_->receiveBufferBytes(); granted < udp.receive_buffer_bytes) {
        log_->warn(
            "UDP receive buffer is {} KB (asked for {} KB): raise net.core.rmem_max (the "
            "package sets it in /usr/lib/sysctl.d/60-duplex.conf) or bursts of SIP requests may "
            "be dropped",
            granted / 2048, udp.receive_buffer_bytes / 1024);
      }
    }
    if (config_.tcp) {
      sip::TcpConfig tcp;
      tcp.bind = bind;
      tcp.max_message_size = config_.max_message_size;
      tcp.idle_timeout = config_.tcp_idle_timeout;
      tcp.incomplete_message_timeout = incompleteMessageTimeout(config_);
      tcp.max_connections = static_cast<std::size_t>(config_.tcp_max_connections);
      tcp.max_connections_per_ip = static_cast<std::size_t>(config_.tcp_max_per_ip);
      try {
        tcp_ = std::make_unique<sip::TcpTransport>(loop_, tcp, handlers());
      } catch (const sip::TransportError&) {
        if (attempt >= attempts) throw;
        udp_.reset();
        continue;
      }
    }
    return;
  }
}

sip::TransportHandlers SipStack::handlers() {
  sip::TransportHandlers h;
  h.on_message = [this](std::string bytes, const sip::Origin& origin) {
    onMessage(std::move(bytes), origin);
  };
  h.on_rejected = [this](const sip::RejectedMessage& rejected) { onRejected(rejected); };
  h.on_closed = [this](const sip::ConnectionClosed& closed) { onClosed(closed); };
  return h;
}

std::vector<ListeningPoint> SipStack::listeningPoints() const {
  std::vector<ListeningPoint> points;
  if (udp_) points.push_back({sip::Transport::kUdp, udp_->localEndpoint()});
  if (tcp_) points.push_back({sip::Transport::kTcp, tcp_->localEndpoint()});
  return points;
}

// By value: Message::parse() will take the bytes over.
// NOLINTNEXTLINE(performance-unnecessary-value-param)
void SipStack::onMessage(std::string bytes, const sip::Origin& origin) {
  trace_.received(bytes, origin);
  endpoint_->onMessage(std::move(bytes), origin);
  rearmTimer();
}

// One loop timer at the transaction layer's earliest deadline; re-armed only
// when the deadline moved earlier (or the timer fired), not per message.
void SipStack::rearmTimer() {
  const auto next = endpoint_->nextDeadline();
  if (!next) return;  // an armed timer that finds nothing due just re-arms
  if (armed_for_ && timer_.armed() && *armed_for_ <= *next) return;
  armed_for_ = *next;
  const auto now = clock_.now();
  // Rounded up to whole milliseconds (epoll's resolution), so the timer
  // never fires just before the deadline and spins.
  const auto delay = *next > now ? std::chrono::ceil<std::chrono::milliseconds>(*next - now)
                                 : std::chrono::milliseconds(0);
  timer_.start(delay, [this] {
    armed_for_.reset();
    endpoint_->onTimer(clock_.now());
    rearmTimer();
  });
}

void SipStack::onRejected(const sip::RejectedMessage& rejected) {
  trace_.received(rejected.head, rejected.origin);
  endpoint_->onRejected(rejected);
  log_->debug("message from {} {} rejected: {} {}", sip::transportName(rejected.origin.transport),
              rejected.origin.source.toString(), rejected.error.status, rejected.error.reason);
}

void SipStack::onClosed(const sip::ConnectionClosed& closed) {
  endpoint_->onConnectionClosed(closed);
  rearmTimer();
  log_->debug("TCP connection {} to {} closed: {}", closed.connection_id, closed.peer.toString(),
              sip::closeReasonName(closed.reason));
}

}  // namespace duplex::app
