// The UPnP port-mapping decisions: discovery results, the mapping budget,
// leases renewed at half-life, read-back verification, 718/725 handling,
// stale-mapping cleanup, reboot detection, backoff, on-demand RTP ports, and
// the manual forwarding plan. Internal to nat/.
//
// Socket-free and clock-driven: it calls a (blocking) Igd and reads the
// injected Clock; the NAT worker calls start(), then tick() whenever
// nextDue() has passed (or poll() on an event), and stop() at shutdown.
// Tests drive it with tests/fakes/fake_igd.h and a ManualClock.
//
// Thread: the NAT worker only.
// Errors: none thrown; every failure ends up in the status (state + text),
// logged once per state change.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/logger.h>

#include "nat/clock.h"
#include "nat/igd.h"
#include "nat/nat_status.h"
#include "nat/port_mapper.h"

namespace duplex::nat {

struct MapperSettings {
  bool enabled = true;
  int budget = 24;
  std::chrono::seconds lease{3600};
  std::chrono::milliseconds discovery_timeout{2000};
  std::chrono::seconds check_interval{60};  // external IP + mappings still there
  std::uint16_t sip_port = 5060;
  bool sip_udp = true;
  bool sip_tcp = true;
  std::uint16_t rtp_min = 0;  // 0 = no RTP range
  std::uint16_t rtp_max = 0;
  std::string product = "Duplex PBX";
  std::string lan_address;  // used for the plan when no IGD tells us ours
};

class UpnpMapper {
 public:
  UpnpMapper(Igd& igd, const Clock& clock, MapperSettings settings,
             std::shared_ptr<spdlog::logger> log = nullptr);

  // Discover, remove stale mappings of an earlier run, map SIP (+ RTP range).
  void start();
  // Renewals, the periodic check, retries: everything that is due.
  void tick();
  // Check now (router re-announced itself, interfaces changed).
  void poll();
  // Remove every mapping this run made (permanent ones too).
  void stop();
  // Admin changes, applied without restart. Off: every mapping this run made
  // is removed from the router (calls in progress lose their on-demand RTP
  // mappings and rely on the NAT's outbound binding) and the status gives
  // the manual plan. On: discovery and mapping as at start (on-demand RTP
  // mappings then come with new calls).
  void setEnabled(bool on);
  // A new RTP range: whole-range RTP mappings outside it (or all of them,
  // when the range no longer fits the budget) are removed, the new ports are
  // mapped when they fit, on-demand mappings of calls in progress stay until
  // their calls end; the forwarding plan follows.
  void setRtpRange(std::uint16_t min, std::uint16_t max);
  bool enabled() const { return settings_.enabled; }
  Clock::TimePoint nextDue() const { return next_due_; }

  RtpMappingResult requestRtp(std::uint64_t session, const std::vector<std::uint16_t>& ports);
  void releaseRtp(std::uint64_t session);

  // For the address book and the status.
  std::vector<PortMapping> mappings() const;
  const std::string& externalIp() const { return external_ip_; }  // "" = unknown
  const std::string& externalIpError() const { return external_ip_error_; }
  const std::string& lanAddress() const { return lan_; }
  void fillStatus(NatStatus& status) const;
  UpnpState state() const { return state_; }
  bool rtpOnDemand() const { return rtp_on_demand_; }
  std::string description(const char* purpose) const;  // "Duplex PBX 10.0.0.5 SIP"

 private:
  struct Mapping {
    Protocol protocol = Protocol::kUdp;
    std::uint16_t internal_port = 0;
    std::uint16_t external_port = 0;
    bool rtp = false;
    bool on_demand = false;
    bool permanent = false;
    bool verified = false;
    Clock::TimePoint renew_at{};
    Clock::TimePoint expires{};
    WallTime wall_expires{};
    int refs = 0;  // on-demand: sessions using it
  };
  struct Wanted {
    Protocol protocol;
    std::uint16_t internal_port;
    bool rtp;
  };

  void discover();
  void removeStale();
  void mapWanted();
  // Adds one mapping (718: other external ports; 725: permanent); "" = done.
  std::string add(Mapping& m);
  bool renew(Mapping& m);
  void check();
  void fail(UpnpState state, const std::string& text);
  void setState(UpnpState state, std::string text);
  void scheduleNext();
  void decideRtpOnDemand();
  std::vector<Wanted> wanted() const;
  std::vector<ForwardingRule> forwardingPlan() const;

  Igd& igd_;
  const Clock& clock_;
  MapperSettings settings_;
  std::shared_ptr<spdlog::logger> log_;

  UpnpState state_ = UpnpState::kOff;
  std::string state_text_;
  std::string location_;
  std::string lan_;
  bool igd_connected_ = true;
  std::string external_ip_;
  std::string external_ip_error_;
  bool double_nat_ = false;
  bool rtp_on_demand_ = false;
  std::vector<Mapping> mappings_;
  std::map<std::uint64_t, std::vector<std::uint16_t>> sessions_;
  int failures_ = 0;  // in a row, for the backoff
  Clock::TimePoint next_check_{};
  Clock::TimePoint retry_at_{};
  Clock::TimePoint next_due_{};
};

// The retry delay after `failures` failures in a row: 30 s doubling to 15 min.
std::chrono::seconds upnpBackoff(int failures);

// "Forward UDP 5060 to 10.0.0.5 port 5060 (SIP). ..." for the status.
std::string forwardingPlanText(const std::vector<ForwardingRule>& rules);

}  // namespace duplex::nat
