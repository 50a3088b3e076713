// The NAT worker thread behind NatService: owns the UpnpMapper, the STUN
// client, the DynDnsUpdater and the public-address decision; polls on an
// interval and on events; publishes the AddressBook and the NatStatus.
// Internal to nat/.
//
// Threads: start()/stop() on the owner's thread; post(), status() and the
// publisher from any thread; everything else runs on the worker thread.
// The parts are injected so tests can run the whole worker on fakes.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/logger.h>

#include "nat/dyndns.h"
#include "nat/igd.h"
#include "nat/interface_watcher.h"
#include "nat/nat_service.h"
#include "nat/ssdp_watcher.h"
#include "nat/stun_client.h"
#include "nat/upnp_mapper.h"

namespace duplex::nat {

struct NatWorkerParts {
  std::unique_ptr<Igd> igd;
  std::unique_ptr<DynDnsHttp> http;
  std::function<std::unique_ptr<StunTransport>()> stun_socket;
  std::function<std::vector<LocalInterface>()> interfaces;
  std::function<std::string(const std::string&)> resolve;  // hostname -> IPv4 text, "" = none
  bool watch_interfaces = true;                            // rtnetlink events trigger refresh()
  const Clock* clock = nullptr;
  RetransmitSchedule stun_schedule{std::chrono::milliseconds(200), 4, 8};
};

class NatWorker {
 public:
  NatWorker(NatSettings settings, NatWorkerParts parts);
  ~NatWorker();

  void start();
  void stop();
  AddressBookPublisher& publisher() { return publisher_; }
  NatStatus status() const;
  void post(std::function<void()> task);
  void refresh();

  // PortMapper, from any thread: posted to the worker (nat/port_mapper.h).
  void requestRtpPorts(std::uint64_t session, std::vector<std::uint16_t> ports,
                       PortMapper::Done done);
  void releaseRtpPorts(std::uint64_t session);
  // Admin changes, from any thread: posted to the worker (nat_service.h).
  void setUpnp(bool on);
  void setRtpRange(std::uint16_t min, std::uint16_t max);

 private:
  void run();
  void publish();
  void pollSources(bool probe_nat_type);
  std::optional<stun::TransportAddress> stunServer(const std::string& text) const;

  NatSettings settings_;
  NatWorkerParts parts_;
  const Clock& clock_;
  std::shared_ptr<spdlog::logger> log_;
  AddressBookPublisher publisher_;
  std::unique_ptr<UpnpMapper> mapper_;
  std::unique_ptr<DynDnsUpdater> dyndns_;
  std::string dns_name_;  // resolved as the "dyndns-dns" source

  // Worker-thread state.
  std::vector<LocalInterface> interfaces_;
  std::vector<AddressSource> sources_;
  std::string public_ip_;
  std::string last_public_ip_;
  std::string disagreement_;
  NatTypeVerdict verdict_;
  bool probe_pending_ = true;
  Clock::TimePoint next_poll_{};

  mutable std::mutex status_mutex_;
  NatStatus status_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  bool refresh_ = false;
  std::thread thread_;
  InterfaceWatcher interface_watcher_;
  SsdpWatcher ssdp_watcher_;
};

}  // namespace duplex::nat
