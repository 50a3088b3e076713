#include "nat/nat_worker.h"

#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <charconv>

#include "nat/public_address.h"

namespace duplex::nat {
namespace {

std::string lanOf(const std::vector<LocalInterface>& interfaces) {
  AddressBookData d;
  d.interfaces = interfaces;
  return AddressBook(d).lanAddress();
}

}  // namespace

NatWorker::NatWorker(NatSettings settings, NatWorkerParts parts)
    : settings_(std::move(settings)), parts_(std::move(parts)), clock_(*parts_.clock) {
  log_ = spdlog::get("nat");
  if (!log_) log_ = spdlog::default_logger();
  if (settings_.main_address == "auto") settings_.main_address.clear();
  interfaces_ = parts_.interfaces();
  MapperSettings m;
  m.enabled = settings_.upnp;
  m.budget = settings_.upnp_budget;
  m.lease = settings_.upnp_lease;
  m.discovery_timeout = settings_.upnp_discovery_timeout;
  m.check_interval = settings_.poll_interval;
  m.sip_port = settings_.sip_port;
  m.sip_udp = settings_.sip_udp;
  m.sip_tcp = settings_.sip_tcp;
  m.rtp_min = settings_.rtp_port_min;
  m.rtp_max = settings_.rtp_port_max;
  m.product = settings_.product;
  m.lan_address = lanOf(interfaces_);
  mapper_ = std::make_unique<UpnpMapper>(*parts_.igd, clock_, m, log_);
  dyndns_ = std::make_unique<DynDnsUpdater>(*parts_.http, clock_, settings_.dyndns,
                                            settings_.product + "/" + settings_.version, log_);
  dns_name_ = settings_.dyndns.hostname;
  if (dns_name_.empty() && !settings_.main_address.empty() &&
      !IpAddress::parse(settings_.main_address)) {
    dns_name_ = settings_.main_address;
  }
  if (const auto ip = IpAddress::parse(settings_.main_address)) {
    sources_.push_back({"config", ip->toString(), "", clock_.wallNow()});
  }
}

NatWorker::~NatWorker() {
  stop();
}

void NatWorker::start() {
  publish();  // the first snapshot: interfaces and configuration, at once
  thread_ = std::thread([this] { run(); });
  if (parts_.watch_interfaces && !interface_watcher_.start([this] { refresh(); })) {
    log_->info("no rtnetlink: interface changes are noticed at the next poll");
  }
  if (parts_.watch_interfaces && settings_.upnp && !ssdp_watcher_.start([this] {
        log_->info("UPnP: a router announced itself (new boot or location); checking it now");
        refresh();
      })) {
    log_->info("no SSDP listener: a rebooted router is noticed at the next poll");
  }
}

void NatWorker::stop() {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  interface_watcher_.stop();
  ssdp_watcher_.stop();
  if (thread_.joinable()) thread_.join();
}

void NatWorker::post(std::function<void()> task) {
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    tasks_.push_back(std::move(task));
  }
  wake_.notify_all();
}

void NatWorker::requestRtpPorts(std::uint64_t session, std::vector<std::uint16_t> ports,
                                PortMapper::Done done) {
  post([this, session, ports = std::move(ports), done = std::move(done)] {
    const std::vector<PortMapping> before = mapper_->mappings();
    const RtpMappingResult result = mapper_->requestRtp(session, ports);
    // The new external ports are in the address book before `done`. Every
    // call asks (and releases): with UPnP off or the range mapped whole,
    // nothing changes and the address book is not rebuilt.
    if (mapper_->mappings() != before) publish();
    if (done) done(result);
  });
}

void NatWorker::releaseRtpPorts(std::uint64_t session) {
  post([this, session] {
    const std::vector<PortMapping> before = mapper_->mappings();
    mapper_->releaseRtp(session);
    if (mapper_->mappings() != before) publish();
  });
}

void NatWorker::setUpnp(bool on) {
  post([this, on] {
    settings_.upnp = on;  // the "upnp" address source follows
    mapper_->setEnabled(on);
    publish();
  });
}

void NatWorker::setRtpRange(std::uint16_t min, std::uint16_t max) {
  post([this, min, max] {
    settings_.rtp_port_min = min;
    settings_.rtp_port_max = max;
    mapper_->setRtpRange(min, max);
    publish();
  });
}

void NatWorker::refresh() {
  {
    const std::lock_guard lock(mutex_);
    refresh_ = true;
  }
  wake_.notify_all();
}

NatStatus NatWorker::status() const {
  const std::lock_guard lock(status_mutex_);
  return status_;
}

std::optional<stun::TransportAddress> NatWorker::stunServer(const std::string& text) const {
  std::string host = text;
  std::uint16_t port = 3478;
  if (const auto colon = text.rfind(':'); colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);
    const auto digits = std::string_view(text).substr(colon + 1);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), port).ec != std::errc()) {
      return std::nullopt;
    }
  }
  auto ip = IpAddress::parse(host);
  if (!ip) {
    const std::string resolved = parts_.resolve(host);
    ip = IpAddress::parse(resolved);
  }
  if (!ip) return std::nullopt;
  return stun::TransportAddress{*ip, port};
}

void NatWorker::pollSources(bool probe_nat_type) {
  const auto now_wall = clock_.wallNow();
  auto fresh_interfaces = parts_.interfaces();
  if (fresh_interfaces != interfaces_) {
    log_->info("network interfaces changed");
    interfaces_ = std::move(fresh_interfaces);
  }
  std::vector<AddressSource> sources;
  if (const auto ip = IpAddress::parse(settings_.main_address)) {
    sources.push_back({"config", ip->toString(), "", now_wall});
  }
  if (settings_.upnp) {
    sources.push_back(
        {"upnp", mapper_->externalIp(),
         mapper_->externalIp().empty()
             ? (mapper_->externalIpError().empty() ? "no UPnP router" : mapper_->externalIpError())
             : "",
         now_wall});
  }
  std::vector<IpAddress> local_ips;
  for (const auto& i : interfaces_) {
    if (auto ip = IpAddress::parse(i.address)) local_ips.push_back(*ip);
  }
  for (const auto& text : settings_.stun_servers) {
    AddressSource s{"stun", "", "", now_wall};
    const auto server = stunServer(text);
    if (!server) {
      s.error = "cannot resolve STUN server " + text;
      sources.push_back(s);
      continue;
    }
    try {
      auto socket = parts_.stun_socket();
      StunClient client(*socket, clock_, parts_.stun_schedule);
      if (probe_nat_type) {
        auto second = parts_.stun_socket();
        StunClient filtering(*second, clock_, parts_.stun_schedule);
        auto probe =
            probeNatType(client, filtering, *server, local_ips, socket->localAddress().port);
        probe.verdict.when = now_wall;
        if (probe.mapped) {
          verdict_ = probe.verdict;
          probe_pending_ = false;
          log_->info("NAT type ({}): {}", verdict_.server, verdict_.text);
          s.address = probe.mapped->ip.toString();
        } else {
          s.error = probe.error;
        }
      } else {
        const auto r = client.binding(*server);
        if (r.mapped) {
          s.address = r.mapped->ip.toString();
        } else {
          s.error = r.error;
        }
      }
    } catch (const std::exception& e) {
      s.error = e.what();
    }
    if (!s.error.empty()) {
      // Logged once per change of the error text, not per poll.
      bool same = false;
      for (const auto& old : sources_)
        same = same || (old.source == "stun" && old.error == s.error);
      if (!same) log_->warn("STUN {}: {}", text, s.error);
    }
    sources.push_back(s);
    if (!s.address.empty()) break;  // the first server that answers is enough
  }
  if (!dns_name_.empty()) {
    const std::string ip = parts_.resolve(dns_name_);
    sources.push_back(
        {"dyndns-dns", ip, ip.empty() ? "no DNS answer for " + dns_name_ : "", now_wall});
  }
  sources_ = std::move(sources);
  const auto decision = decidePublicAddress(sources_, dns_name_);
  if (decision.disagreement != disagreement_ && !decision.disagreement.empty()) {
    log_->warn("public address sources disagree: {}", decision.disagreement);
  }
  disagreement_ = decision.disagreement;
  if (decision.address != public_ip_ && !decision.address.empty()) {
    log_->info("public address {} (from {}){}", decision.address, decision.source,
               public_ip_.empty() ? "" : ", was " + public_ip_);
    if (!public_ip_.empty()) {
      last_public_ip_ = public_ip_;
      probe_pending_ = true;  // a new address may mean a new router
    }
    public_ip_ = decision.address;
  }
  for (const auto& src : sources_) {
    if (src.source == "dyndns-dns" && !src.address.empty() && src.address == public_ip_) {
      dyndns_->alreadyPublished(public_ip_);  // a restart with DNS already right
    }
  }
  dyndns_->onPublicAddress(public_ip_);
}

void NatWorker::publish() {
  AddressBookData d;
  d.interfaces = interfaces_;
  d.local_networks = settings_.local_networks;
  d.main_address = settings_.main_address;
  d.additional_addresses = settings_.additional_addresses;
  d.public_ip = public_ip_;
  d.last_public_ip = last_public_ip_;
  d.dyndns_name = settings_.dyndns.hostname;
  d.lan_address = mapper_->lanAddress();
  d.sip_ports = {settings_.sip_port};
  d.mappings = mapper_->mappings();
  const AddressBookChange change = publisher_.publish(std::move(d));
  if (change.mappings) log_->debug("address book: mappings changed");

  NatStatus s;
  s.public_address = publisher_.current()->publicAddress();
  s.sources = sources_;
  s.disagreement = disagreement_;
  mapper_->fillStatus(s);
  s.nat_type = verdict_;
  if (s.nat_type.text.empty()) {
    s.nat_type.text = settings_.stun_servers.empty()
                          ? "not probed: no STUN server configured (nat.stun_servers)"
                          : "not probed yet";
  }
  s.dyndns = dyndns_->status();
  s.updated = clock_.wallNow();
  const std::lock_guard lock(status_mutex_);
  status_ = std::move(s);
}

void NatWorker::run() {
  mapper_->start();
  pollSources(probe_pending_);
  next_poll_ = clock_.now() + settings_.poll_interval;
  publish();
  while (true) {
    std::deque<std::function<void()>> tasks;
    bool refresh = false;
    {
      std::unique_lock lock(mutex_);
      auto wake = std::min({mapper_->nextDue(), next_poll_, dyndns_->nextDue()});
      wake = std::min(wake, clock_.now() + std::chrono::hours(1));
      wake_.wait_until(lock, wake, [&] { return stopping_ || !tasks_.empty() || refresh_; });
      if (stopping_) break;
      tasks.swap(tasks_);
      refresh = refresh_;
      refresh_ = false;
    }
    for (auto& task : tasks) task();
    const auto now = clock_.now();
    if (refresh) {
      mapper_->poll();
    } else if (now >= mapper_->nextDue()) {
      mapper_->tick();
    }
    if (refresh || now >= next_poll_) {
      pollSources(probe_pending_);
      next_poll_ = now + settings_.poll_interval;
    }
    if (now >= dyndns_->nextDue()) dyndns_->tick();
    publish();
  }
  mapper_->stop();
  publish();
}

}  // namespace duplex::nat
