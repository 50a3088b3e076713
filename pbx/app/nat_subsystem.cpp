#include "pbx/app/nat_subsystem.h"

#include "nat/dyndns.h"
#include "pbx/app/exit_codes.h"
#include "pbx/app/startup_error.h"
#include "pbx/app/subsystems.h"

namespace duplex::app {

nat::NatSettings natSettingsFrom(const Config& config) {
  nat::NatSettings s;
  s.main_address = config.network.main_address == "auto" ? "" : config.network.main_address;
  s.additional_addresses = config.network.additional_addresses;
  for (const auto& net : config.network.local_networks) s.local_networks.push_back(net.toString());
  s.upnp = config.nat.upnp;
  s.upnp_budget = config.nat.upnp_budget;
  s.upnp_lease = config.nat.upnp_lease;
  s.upnp_interface = config.nat.upnp_interface;
  s.stun_servers = config.nat.stun_servers;
  s.poll_interval = config.nat.poll_interval;
  // sip.port = 0 (tests) has no port to map yet: only RTP is mapped then.
  s.sip_port = config.sip.port;
  s.sip_udp = config.sip.udp && config.sip.port != 0;
  s.sip_tcp = config.sip.tcp && config.sip.port != 0;
  s.rtp_port_min = config.nat.rtp_port_min;
  s.rtp_port_max = config.nat.rtp_port_max;
  s.dyndns.url = nat::dynDnsPresetUrl(config.nat.dyndns_provider);
  s.dyndns.hostname = config.nat.dyndns_hostname;
  s.dyndns.user = config.nat.dyndns_user;
  s.dyndns.password = config.nat.dyndns_password;
  s.dyndns.min_interval = config.nat.dyndns_min_interval;
  s.product = "Duplex PBX";
  s.version = DUPLEX_VERSION;
  return s;
}

NatSubsystem::NatSubsystem(const Config& config)
    : ComponentSubsystem("nat"), settings_(natSettingsFrom(config)) {}

NatSubsystem::~NatSubsystem() = default;

void NatSubsystem::start() {
  try {
    service_ = std::make_unique<nat::NatService>(settings_);
  } catch (const nat::NatConfigError& e) {
    throw StartupError(e.what(), kExitConfig);
  }
  service_->start();
  const auto book = service_->addressBook().current();
  log().info("NAT: LAN address {}, main address {}, UPnP {}, STUN {}", book->lanAddress(),
             settings_.main_address.empty() ? "auto" : settings_.main_address,
             settings_.upnp ? "on" : "off",
             settings_.stun_servers.empty()
                 ? "none"
                 : std::to_string(settings_.stun_servers.size()) + " server(s)");
}

void NatSubsystem::stop() {
  if (!service_) return;
  service_->stop();  // removes the router mappings
  service_.reset();
}

NatSubsystem* makeNatSubsystem(const Config& config) {
  return new NatSubsystem(config);
}

}  // namespace duplex::app
