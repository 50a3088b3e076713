// The NAT subsystem of DuplexApp: builds nat::NatService from the nat.*,
// dyndns.*, main_address, additional_addresses, local_networks, sip.* and
// media.rtp_port_* keys, starts its worker (never delays start-up: UPnP
// discovery, STUN and DynDNS run on the NAT worker thread) and stops it,
// which removes the router mappings.
//
// For: DuplexApp (creates it), and the wiring of call control, trunks, the
// registrar adapter and the media relay, which take service() after this
// subsystem started (it starts before them): addressBook() for advertised
// addresses, the service as nat::PortMapper for on-demand RTP mappings,
// status() for the admin API.
// Thread: the main thread (start/stop); see nat/nat_service.h for the rest.
// Errors: a bad NAT setting -> StartupError kExitConfig.
#pragma once

#include <memory>

#include "admin/status_sources.h"
#include "nat/nat_service.h"
#include "pbx/app/component_subsystem.h"
#include "pbx/app/config.h"

namespace duplex::app {

// The settings NatService gets from the configuration (tests use it too).
nat::NatSettings natSettingsFrom(const Config& config);

// nat::NatStatus as the JSON object of GET /api/v1/status ("nat").
std::string natStatusToJson(const nat::NatStatus& status);

class NatSubsystem final : public ComponentSubsystem, public admin::NatStatusView {
 public:
  explicit NatSubsystem(const Config& config);
  ~NatSubsystem() override;
  // Null before start() and after stop().
  nat::NatService* service() const { return service_.get(); }
  // admin::NatStatusView (admin worker threads): the status as JSON, or
  // {"available": false, ...} while the service is not running.
  std::string natStatusJson() override;
  // An admin change of nat.upnp (any thread): false when the service is not
  // running. With SIP on loopback only UPnP stays off (nothing to forward).
  bool setUpnp(bool on);

 private:
  void start() override;
  void stop() override;

  nat::NatSettings settings_;
  bool upnpPossible_ = true;  // false: SIP listens on loopback only
  std::unique_ptr<nat::NatService> service_;
};

}  // namespace duplex::app
