// The SIP side of the daemon: what runs on the SIP loop thread. SipSubsystem
// creates one SipStack on that thread, runs the loop, and destroys it there.
//
// It binds the transports (UDP and/or TCP on sip.bind:sip.port; with port 0
// both get the same free port), traces messages when SIP tracing is on, and
// hands everything received to the sip::SipEndpoint (parse -> stateless
// checks -> transactions -> the handler of each method). The layers above
// (registrar adapter, call control) register their handlers on endpoint().
//
// Thread: the SIP loop thread only, construction and destruction included.
// Errors: the constructor throws sip::TransportError (bind/listen failed);
// nothing throws afterwards (STYLE.md 9).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "pbx/app/config.h"
#include "pbx/sip/clock.h"
#include "pbx/sip/endpoint.h"
#include "pbx/sip/event_loop.h"
#include "pbx/sip/message.h"
#include "pbx/sip/tcp_transport.h"
#include "pbx/sip/transport.h"
#include "pbx/sip/udp_transport.h"

namespace duplex::app {

class Logging;

struct ListeningPoint {
  sip::Transport transport = sip::Transport::kUdp;
  sip::Endpoint local;  // the bound address and the real port
};

// Full SIP messages on the "sip.trace" logger while tracing is on (sip.trace,
// SIGUSR2). The check is one relaxed atomic load.
class SipTrace {
 public:
  explicit SipTrace(const Logging& logging);
  bool on() const { return flag_.load(std::memory_order_relaxed); }
  void received(std::string_view bytes, const sip::Origin& origin) const;
  void sent(std::string_view bytes, sip::Transport transport, const sip::Endpoint& to) const;

 private:
  const std::atomic<bool>& flag_;
  std::shared_ptr<spdlog::logger> log_;
};

class SipStack {
 public:
  SipStack(sip::EventLoop& loop, const SipConfig& config, const Logging& logging);
  ~SipStack();
  SipStack(const SipStack&) = delete;
  SipStack& operator=(const SipStack&) = delete;

  std::vector<ListeningPoint> listeningPoints() const;
  sip::SipEndpoint& endpoint() { return *endpoint_; }
  sip::UdpTransport* udp() const { return udp_.get(); }  // null when sip.udp is false
  sip::TcpTransport* tcp() const { return tcp_.get(); }  // null when sip.tcp is false
  // One loop timer at the transaction layer's earliest deadline; call it
  // after starting client transactions from outside a message (keep-alives).
  void rearmTimer();

 private:
  void bindTransports();
  sip::TransportHandlers handlers();
  // Everything received goes to the endpoint; the one timer follows the
  // transaction layer's next deadline.
  void onMessage(std::string bytes, const sip::Origin& origin);
  void onRejected(const sip::RejectedMessage& rejected);
  void onClosed(const sip::ConnectionClosed& closed);

  sip::EventLoop& loop_;
  const SipConfig& config_;
  SipTrace trace_;
  std::shared_ptr<spdlog::logger> log_;
  sip::SystemClock clock_;
  std::unique_ptr<sip::SipEndpoint> endpoint_;  // before the transports: they call into it
  sip::Timer timer_;
  std::optional<sip::Clock::TimePoint> armed_for_;
  std::unique_ptr<sip::UdpTransport> udp_;
  std::unique_ptr<sip::TcpTransport> tcp_;
};

}  // namespace duplex::app
