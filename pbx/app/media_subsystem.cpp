#include "pbx/app/media_subsystem.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "media/address.h"
#include "pbx/app/exit_codes.h"
#include "pbx/app/startup_error.h"
#include "pbx/app/subsystems.h"

namespace duplex::app {
namespace {

// media.bind must be an address of this machine: bind a throw-away socket.
void probeBind(const std::string& address) {
  auto local = media::UdpAddress::parse(address, 0);
  if (!local) {
    throw StartupError("media.bind: '" + address + "' is not an IP address", kExitConfig);
  }
  const int fd = ::socket(local->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw StartupError(std::string("media: cannot create a UDP socket: ") + std::strerror(errno),
                       kExitSoftware);
  }
  const bool ok = ::bind(fd, local->sockaddrPtr(), local->sockaddrLength()) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) {
    throw StartupError(
        "media.bind: cannot bind RTP sockets on " + address + ": " + std::strerror(error),
        kExitUnavailable);
  }
}

}  // namespace

media::RelayConfig relayConfigFrom(const Config& config) {
  media::RelayConfig relay;
  relay.bind_address = config.media.bind;
  relay.port_min = config.nat.rtp_port_min;  // one range for relay and UPnP
  relay.port_max = config.nat.rtp_port_max;
  relay.learning_window = config.media.learning_window;
  relay.keepalive_interval = config.media.keepalive_interval;
  relay.timeout = config.media.timeout;
  relay.one_way_after = config.media.one_way_after;
  relay.realtime_priority = config.media.realtime_priority;
  return relay;
}

MediaSubsystem* makeMediaSubsystem(const Config& config) {
  return new MediaSubsystem(relayConfigFrom(config));
}

MediaSubsystem::MediaSubsystem(media::RelayConfig config)
    : ComponentSubsystem("media"), config_(std::move(config)) {}

MediaSubsystem::~MediaSubsystem() = default;

void MediaSubsystem::start() {
  probeBind(config_.bind_address);
  try {
    relay_ = std::make_unique<media::MediaRelay>(
        config_, [this](const media::MediaEvent& event) { onEvent(event); });
    relay_->start();
  } catch (const std::invalid_argument& e) {
    relay_.reset();
    throw StartupError(std::string("media: ") + e.what(), kExitConfig);
  } catch (const std::system_error& e) {
    relay_.reset();
    throw StartupError(std::string("media: cannot start the relay: ") + e.what(), kExitSoftware);
  }
  log().info("media relay on {} ports {}-{} ({} RTP/RTCP pairs){}", config_.bind_address,
             config_.port_min, config_.port_max, relay_->freePortPairs(),
             config_.realtime_priority > 0 && relay_->realtimeError().empty()
                 ? ", real-time priority " + std::to_string(config_.realtime_priority)
                 : std::string());
  if (!relay_->realtimeError().empty()) {
    log().warn(
        "{}: media may be delayed by milliseconds whenever another task takes this "
        "core",
        relay_->realtimeError());
  }
}

void MediaSubsystem::stop() {
  if (!relay_) return;
  relay_->stop();
  relay_.reset();
}

void MediaSubsystem::onEvent(const media::MediaEvent& event) {
  switch (event.kind) {
    case media::MediaEventKind::kOneWay:
      log().warn("session {}: {}", event.session, event.text);
      break;
    case media::MediaEventKind::kTimeout:
      log().info("session {}: {}", event.session, event.text);
      break;
    case media::MediaEventKind::kLatched:
      log().debug("session {} leg {}: latched {}", event.session, media::toString(event.leg),
                  event.text);
      break;
    case media::MediaEventKind::kPriority:
      log().warn("{}", event.text);
      break;
    case media::MediaEventKind::kStats:
    case media::MediaEventKind::kFinalStats:
      break;
  }
  if (handler_) handler_(event);
}

}  // namespace duplex::app
