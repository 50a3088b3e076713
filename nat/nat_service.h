// The NAT module as one service: a worker thread that discovers the router
// (UPnP IGD), maps the SIP port and RTP ports, asks STUN servers, probes the
// NAT type, watches the public address, updates DynDNS, and publishes the
// AddressBook snapshot and the NatStatus.
//
// For: pbx/app (NatSubsystem) creates, starts and stops it; call control,
// trunks and the registrar adapter read addressBook(); the media relay uses it
// as its PortMapper; the admin API reads status().
//
// Threads: construct, start() and stop() on one thread (the main thread).
// Every other member is callable from any thread and never blocks on the
// network: the worker does the blocking miniupnpc calls, STUN probes and
// DynDNS HTTP. Start-up is never delayed: start() publishes a first snapshot
// from the interfaces and the configuration and returns at once.
//
// Errors: the constructor throws NatConfigError for a bad setting (a local
// network that is not a CIDR, an RTP range upside down, a STUN server that is
// not host[:port], a DynDNS URL that is not http(s)). Nothing at run time
// throws: faults (no IGD, a STUN server that never answers, a DynDNS server
// returning garbage) are logged once per state change, retried with backoff
// and shown in status().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "nat/address_book_publisher.h"
#include "nat/nat_status.h"
#include "nat/port_mapper.h"

namespace duplex::nat {

class NatConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DynDnsSettings {
  std::string url;  // e.g. "https://members.dyndns.org/nic/update"; "" = DynDNS off
  std::string hostname;
  std::string user;
  std::string password;
  std::chrono::seconds min_interval{600};  // at most one update per interval
};

struct NatSettings {
  std::string main_address;  // hostname or IP; "" or "auto" = the discovered public IP
  std::vector<std::string> additional_addresses;
  std::vector<std::string> local_networks;  // CIDR
  bool upnp = true;
  int upnp_budget = 24;  // most mappings this PBX keeps on the router
  std::chrono::seconds upnp_lease{3600};
  std::chrono::milliseconds upnp_discovery_timeout{2000};
  std::string upnp_interface;  // LAN interface name or address for discovery; "" = default
  std::vector<std::string> stun_servers;  // "host" or "host:port" (3478)
  std::chrono::seconds poll_interval{60};
  std::uint16_t sip_port = 5060;  // the bound SIP port (after port 0 was resolved)
  bool sip_udp = true;
  bool sip_tcp = true;
  std::uint16_t rtp_port_min = 0;  // 0 = no RTP range
  std::uint16_t rtp_port_max = 0;
  DynDnsSettings dyndns;
  std::string product = "Duplex PBX";  // mapping description and DynDNS User-Agent
  std::string version = "0";
};

class NatWorker;  // nat_worker.h (internal)

class NatService final : public PortMapper {
 public:
  explicit NatService(NatSettings settings);
  ~NatService() override;  // stop()s
  NatService(const NatService&) = delete;
  NatService& operator=(const NatService&) = delete;

  // Publishes the first snapshot and starts the worker; returns at once.
  void start();
  // Removes every mapping this PBX made (bounded by the UPnP timeouts),
  // stops the worker. Idempotent.
  void stop();

  AddressBookPublisher& addressBook();
  NatStatus status() const;
  // Ask the worker to check everything now (an interface changed, a phone
  // reports one-way audio). Any thread.
  void refresh();

  // Admin changes applied without restart (any thread; the worker does the
  // router traffic). setUpnp(false) removes every mapping this PBX made from
  // the router; setUpnp(true) discovers and maps again. setRtpRange() moves
  // the RTP range the mapper maps (whole or per call) and the manual
  // forwarding plan shows. Bad values are the caller's to refuse first
  // (min > max is ignored).
  void setUpnp(bool on);
  void setRtpRange(std::uint16_t min, std::uint16_t max);

  void requestRtpPorts(std::uint64_t session, std::vector<std::uint16_t> ports, Done done) override;
  void releaseRtpPorts(std::uint64_t session) override;

 private:
  std::unique_ptr<NatWorker> worker_;
};

}  // namespace duplex::nat
