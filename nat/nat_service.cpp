#include "nat/nat_service.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

#include "nat/local_interfaces.h"
#include "nat/miniupnpc_igd.h"
#include "nat/nat_worker.h"

namespace duplex::nat {
namespace {

std::string resolveV4(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* list = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0 || !list) return "";
  IpAddress ip;
  std::memcpy(ip.bytes.data(), &reinterpret_cast<const sockaddr_in*>(list->ai_addr)->sin_addr, 4);
  freeaddrinfo(list);
  return ip.toString();
}

void validate(const NatSettings& s) {
  for (const auto& net : s.local_networks) {
    if (!IpNetwork::parse(net)) throw NatConfigError("nat: '" + net + "' is not a CIDR network");
  }
  if (s.rtp_port_min > s.rtp_port_max) {
    throw NatConfigError("nat: RTP port range " + std::to_string(s.rtp_port_min) + "-" +
                         std::to_string(s.rtp_port_max) + " is upside down");
  }
  if (s.upnp_budget < 1) throw NatConfigError("nat: the UPnP budget must be at least 1");
  const auto& url = s.dyndns.url;
  if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    throw NatConfigError("dyndns: '" + url + "' is not an http:// or https:// URL");
  }
}

const SystemClock kSystemClock;

}  // namespace

NatService::NatService(NatSettings settings) {
  validate(settings);
  NatWorkerParts parts;
  parts.igd = std::make_unique<MiniupnpcIgd>(settings.upnp_interface);
  parts.http = std::make_unique<PocoDynDnsHttp>();
  parts.stun_socket = [] { return std::make_unique<UdpStunTransport>(); };
  parts.interfaces = readLocalInterfaces;
  parts.resolve = resolveV4;
  parts.clock = &kSystemClock;
  worker_ = std::make_unique<NatWorker>(std::move(settings), std::move(parts));
}

NatService::~NatService() {
  stop();
}

void NatService::start() {
  worker_->start();
}

void NatService::stop() {
  worker_->stop();
}

AddressBookPublisher& NatService::addressBook() {
  return worker_->publisher();
}

NatStatus NatService::status() const {
  return worker_->status();
}

void NatService::refresh() {
  worker_->refresh();
}

void NatService::setUpnp(bool on) {
  worker_->setUpnp(on);
}

void NatService::setRtpRange(std::uint16_t min, std::uint16_t max) {
  if (min > max) return;
  worker_->setRtpRange(min, max);
}

void NatService::requestRtpPorts(std::uint64_t session, std::vector<std::uint16_t> ports,
                                 Done done) {
  worker_->requestRtpPorts(session, std::move(ports), std::move(done));
}

void NatService::releaseRtpPorts(std::uint64_t session) {
  worker_->releaseRtpPorts(session);
}

}  // namespace duplex::nat
