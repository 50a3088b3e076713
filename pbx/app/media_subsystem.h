// The media relay in the daemon (DESIGN.md "Media loop"): builds a
// media::MediaRelay from the media.* keys, starts its thread at start-up and
// stops it (closing every session and returning its ports) at shutdown.
// Call control reaches the relay through relay(); the NAT wiring sets the
// UPnP port preference through relay()->setPortPreference().
//
// Events (latched, one-way audio, media timeout, final stats) run on the
// relay thread: one-way diagnoses are logged at warn and timeouts at info
// here, then passed to the handler set with setEventHandler() (call control
// posts them to the SIP loop).
//
// Failures at start: media.bind not an address of this machine ->
// kExitUnavailable; an RTP port range without an even/odd pair -> kExitConfig;
// epoll or the thread cannot be created -> kExitSoftware.
// Thread: the main thread (Poco's initialize/uninitialize), except relay(),
// whose MediaRelay is thread-safe (media/relay.h).
#pragma once

#include <memory>

#include "media/relay.h"
#include "pbx/app/component_subsystem.h"
#include "pbx/app/config.h"

namespace duplex::app {

// The relay's configuration from Config::media (the media.* keys) and the RTP
// port range media.rtp_port_min/max (NatConfig: the UPnP mapper maps the same range).
media::RelayConfig relayConfigFrom(const Config& config);

class MediaSubsystem final : public ComponentSubsystem {
 public:
  explicit MediaSubsystem(media::RelayConfig config);
  ~MediaSubsystem() override;

  // Null before start() and after stop().
  media::MediaRelay* relay() const { return relay_.get(); }
  // Before start (main thread): where the relay's events go after logging.
  void setEventHandler(media::EventHandler handler) { handler_ = std::move(handler); }
  const media::RelayConfig& relayConfig() const { return config_; }

 private:
  void start() override;
  void stop() override;
  void onEvent(const media::MediaEvent& event);

  media::RelayConfig config_;
  media::EventHandler handler_;
  std::unique_ptr<media::MediaRelay> relay_;
};

}  // namespace duplex::app
