#include "nat/upnp_mapper.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace duplex::nat {
namespace {

constexpr int kMaxConflicts = 8;
constexpr int kMaxStaleScan = 1024;

std::uint16_t nextCandidate(std::uint16_t port) {
  return port >= 65535 ? 1024 : static_cast<std::uint16_t>(port + 1);
}

std::string describe(const IgdResult& r) {
  if (r.code == kUpnpNoAnswer) return "the router did not answer (" + r.text + ")";
  return std::to_string(r.code) + " " + r.text;
}

}  // namespace

std::chrono::seconds upnpBackoff(int failures) {
  std::chrono::seconds delay{30};
  for (int i = 1; i < failures && delay < std::chrono::minutes(15); ++i) delay *= 2;
  return std::min<std::chrono::seconds>(delay, std::chrono::minutes(15));
}

std::string forwardingPlanText(const std::vector<ForwardingRule>& rules) {
  std::string text;
  for (const auto& r : rules) {
    if (!text.empty()) text += " ";
    const bool range = r.external_first != r.external_last;
    text +=
        "Forward " + std::string(protocolName(r.protocol)) + " " +
        (range ? "ports " + std::to_string(r.external_first) + "-" + std::to_string(r.external_last)
               : "port " + std::to_string(r.external_first)) +
        " to " + (r.internal_ip.empty() ? "this PC" : r.internal_ip) + " " +
        (range ? "ports " + std::to_string(r.internal_first) + "-" + std::to_string(r.internal_last)
               : "port " + std::to_string(r.internal_first)) +
        " (" + r.purpose + ").";
  }
  return text;
}

UpnpMapper::UpnpMapper(Igd& igd, const Clock& clock, MapperSettings settings,
                       std::shared_ptr<spdlog::logger> log)
    : igd_(igd), clock_(clock), settings_(std::move(settings)), log_(std::move(log)) {
  if (!log_) log_ = spdlog::get("nat");
  if (!log_) log_ = spdlog::default_logger();
  lan_ = settings_.lan_address;
  decideRtpOnDemand();
  next_due_ = Clock::TimePoint::max();
}

void UpnpMapper::decideRtpOnDemand() {
  const int sip = (settings_.sip_udp ? 1 : 0) + (settings_.sip_tcp ? 1 : 0);
  const int rtp = settings_.rtp_min == 0 ? 0 : settings_.rtp_max - settings_.rtp_min + 1;
  rtp_on_demand_ = rtp > 0 && sip + rtp > settings_.budget;
}

void UpnpMapper::setEnabled(bool on) {
  if (on == settings_.enabled) return;
  settings_.enabled = on;
  failures_ = 0;
  retry_at_ = {};
  if (!on) {
    stop();
    setState(UpnpState::kOff, "UPnP is off (nat.upnp = off): forward the ports by hand");
    return;
  }
  log_->info("UPnP turned on: looking for the router");
  start();
}

void UpnpMapper::setRtpRange(std::uint16_t min, std::uint16_t max) {
  if (min == settings_.rtp_min && max == settings_.rtp_max) return;
  settings_.rtp_min = min;
  settings_.rtp_max = max;
  decideRtpOnDemand();
  int removed = 0;
  for (auto m = mappings_.begin(); m != mappings_.end();) {
    const bool unwanted = m->rtp && !m->on_demand &&
                          (rtp_on_demand_ || m->internal_port < min || m->internal_port > max);
    if (!unwanted) {
      ++m;
      continue;
    }
    igd_.deleteMapping(m->protocol, m->external_port);
    m = mappings_.erase(m);
    ++removed;
  }
  log_->info("UPnP: RTP range now {}-{}{}; {} mapping(s) of the old range removed", min, max,
             rtp_on_demand_ ? " (mapped per call)" : "", removed);
  if (settings_.enabled && state_ == UpnpState::kMapped) mapWanted();
  scheduleNext();
}

std::string UpnpMapper::description(const char* purpose) const {
  return settings_.product + " " + lan_ + " " + purpose;
}

std::vector<UpnpMapper::Wanted> UpnpMapper::wanted() const {
  std::vector<Wanted> out;
  if (settings_.sip_udp) out.push_back({Protocol::kUdp, settings_.sip_port, false});
  if (settings_.sip_tcp) out.push_back({Protocol::kTcp, settings_.sip_port, false});
  if (settings_.rtp_min != 0 && !rtp_on_demand_) {
    for (unsigned p = settings_.rtp_min; p <= settings_.rtp_max; ++p) {
      out.push_back({Protocol::kUdp, static_cast<std::uint16_t>(p), true});
    }
  }
  return out;
}

void UpnpMapper::setState(UpnpState state, std::string text) {
  if (state == state_ && text == state_text_) return;
  const auto level =
      state == UpnpState::kMapped || state == UpnpState::kOff || state == UpnpState::kDiscovering
          ? spdlog::level::info
          : spdlog::level::warn;
  if (state != UpnpState::kDiscovering) log_->log(level, "UPnP {}: {}", upnpStateName(state), text);
  state_ = state;
  state_text_ = std::move(text);
}

void UpnpMapper::fail(UpnpState state, const std::string& text) {
  setState(state, text);
  ++failures_;
  retry_at_ = clock_.now() + upnpBackoff(failures_);
}

void UpnpMapper::start() {
  if (!settings_.enabled) {
    setState(UpnpState::kOff, "UPnP is off (nat.upnp = off): forward the ports by hand");
    return;
  }
  discover();
  scheduleNext();
}

void UpnpMapper::discover() {
  setState(UpnpState::kDiscovering, "looking for a UPnP router on the LAN");
  std::string error;
  const auto info = igd_.discover(settings_.discovery_timeout, error);
  if (!info) {
    fail(UpnpState::kNoIgd, "no UPnP router (IGD) answered on the LAN" +
                                (error.empty() ? std::string() : " (" + error + ")") +
                                "; forward the ports by hand");
    return;
  }
  location_ = info->location;
  if (!info->lan_address.empty()) lan_ = info->lan_address;
  igd_connected_ = info->connected;
  std::string ip;
  const IgdResult r = igd_.externalIp(ip);
  const auto parsed = IpAddress::parse(ip);
  if (r.ok() && parsed) {
    if (ip != external_ip_ && !external_ip_.empty()) {
      log_->info("UPnP: the router's external address changed from {} to {}", external_ip_, ip);
    }
    external_ip_ = ip;
    external_ip_error_.clear();
    double_nat_ = isPrivateOrCarrierGrade(*parsed);
  } else if (r.code == kUpnpNoAnswer) {
    fail(UpnpState::kFailing, "the router at " + location_ + " stopped answering: " + describe(r));
    return;
  } else {
    external_ip_error_ = "the router did not give its external address: " + describe(r);
  }
  if (mappings_.empty()) removeStale();
  mapWanted();
  next_check_ = clock_.now() + settings_.check_interval;
}

void UpnpMapper::removeStale() {
  const std::string prefix = settings_.product + " " + lan_ + " ";
  std::vector<IgdMappingEntry> stale;
  for (int i = 0; i < kMaxStaleScan; ++i) {
    IgdMappingEntry e;
    if (!igd_.getMappingByIndex(i, e).ok()) break;  // 713 at the end of the table
    if (e.internal_client == lan_ && e.description.rfind(prefix, 0) == 0) stale.push_back(e);
  }
  for (const auto& e : stale) igd_.deleteMapping(e.protocol, e.external_port);
  if (!stale.empty()) {
    log_->info("UPnP: removed {} stale mapping(s) left by an earlier run of this PBX",
               stale.size());
  }
}

void UpnpMapper::mapWanted() {
  int refused = 0;
  int no_answer = 0;
  std::string last_error;
  // Mappings we had (the router came back): add them again, same ports.
  for (auto& m : mappings_) {
    if (const auto error = add(m); !error.empty()) last_error = error;
  }
  for (const auto& w : wanted()) {
    const bool have = std::any_of(mappings_.begin(), mappings_.end(), [&](const Mapping& m) {
      return m.protocol == w.protocol && m.internal_port == w.internal_port;
    });
    if (have) continue;
    if (static_cast<int>(mappings_.size()) >= settings_.budget) break;
    Mapping m;
    m.protocol = w.protocol;
    m.internal_port = w.internal_port;
    m.rtp = w.rtp;
    const std::string error = add(m);
    if (error.empty()) {
      mappings_.push_back(m);
    } else {
      (error.find("did not answer") != std::string::npos ? no_answer : refused)++;
      last_error = error;
    }
  }
  const std::string where = location_.empty() ? "the router" : location_;
  const std::string not_connected =
      igd_connected_ ? ""
                     : " (the router reports its internet link as not connected; mapped anyway)";
  if (mappings_.empty()) {
    if (no_answer > 0) {
      fail(UpnpState::kFailing, "the router at " + where + " stopped answering: " + last_error);
    } else {
      fail(UpnpState::kRefused, "the router at " + where + " refuses every port mapping (" +
                                    last_error + "); forward the ports by hand");
    }
    return;
  }
  failures_ = 0;
  std::string text = std::to_string(mappings_.size()) + " port mapping(s) on " + where;
  if (refused + no_answer > 0) {
    text += "; the router refused " + std::to_string(refused + no_answer) + " (" + last_error +
            "): forward those by hand";
  }
  setState(UpnpState::kMapped, text + not_connected);
}

std::string UpnpMapper::add(Mapping& m) {
  std::uint32_t lease = m.permanent ? 0 : static_cast<std::uint32_t>(settings_.lease.count());
  const std::string desc = description(m.rtp ? "RTP" : "SIP");
  std::uint16_t ext = m.external_port != 0 ? m.external_port : m.internal_port;
  int conflicts = 0;
  while (conflicts < kMaxConflicts) {
    const IgdResult r = igd_.addMapping(m.protocol, ext, lan_, m.internal_port, desc, lease);
    if (r.code == kUpnpOnlyPermanentLeases && lease != 0) {
      // 725: the router only keeps permanent mappings. Take one, track it,
      // remove it at shutdown (and at the next start if we crash).
      lease = 0;
      m.permanent = true;
      continue;
    }
    if (r.code == kUpnpConflict) {  // 718: someone else holds this external port
      ++conflicts;
      ext = nextCandidate(ext);
      continue;
    }
    if (!r.ok()) return describe(r);
    IgdMappingEntry e;
    const IgdResult v = igd_.getMapping(m.protocol, ext, e);
    if (v.ok() && (e.internal_client != lan_ || e.internal_port != m.internal_port)) {
      ++conflicts;  // the router kept someone else's entry: a silent conflict
      ext = nextCandidate(ext);
      continue;
    }
    if (!v.ok()) {
      log_->warn("UPnP: {} {} -> {}:{} added but not readable back ({})", protocolName(m.protocol),
                 ext, lan_, m.internal_port, describe(v));
    }
    m.external_port = ext;
    m.verified = v.ok();
    // A router that ignores the lease and keeps the entry for ever: treat it
    // as permanent (removed at shutdown) but keep refreshing it anyway.
    if (v.ok() && e.lease_seconds == 0 && lease != 0) m.permanent = true;
    const auto now = clock_.now();
    const auto asked = std::chrono::seconds(lease != 0 ? lease : settings_.lease.count());
    m.renew_at = now + asked / 2;  // half-life
    m.expires = lease != 0 ? now + asked : Clock::TimePoint::max();
    m.wall_expires = lease != 0 ? clock_.wallNow() + asked : WallTime{};
    return "";
  }
  return "no free external port after " + std::to_string(kMaxConflicts) +
         " conflicts (718 ConflictInMappingEntry)";
}

bool UpnpMapper::renew(Mapping& m) {
  const std::uint16_t before = m.external_port;
  const std::string error = add(m);
  if (!error.empty()) {
    fail(UpnpState::kFailing, "renewing " + std::string(protocolName(m.protocol)) + " " +
                                  std::to_string(m.external_port) + " failed: " + error +
                                  "; retrying");
    return false;
  }
  if (m.external_port != before) {
    log_->warn("UPnP: {} {} moved to external port {} on renewal", protocolName(m.protocol),
               m.internal_port, m.external_port);
  }
  return true;
}

void UpnpMapper::check() {
  next_check_ = clock_.now() + settings_.check_interval;
  std::string ip;
  const IgdResult r = igd_.externalIp(ip);
  if (r.code == kUpnpNoAnswer) {
    fail(UpnpState::kFailing, "the router at " + location_ + " stopped answering (" + describe(r) +
                                  "); looking for it again");
    return;
  }
  if (r.ok()) {
    if (const auto parsed = IpAddress::parse(ip); parsed && ip != external_ip_) {
      log_->info("UPnP: the router's external address changed from {} to {}",
                 external_ip_.empty() ? "unknown" : external_ip_, ip);
      external_ip_ = ip;
      double_nat_ = isPrivateOrCarrierGrade(*parsed);
    }
    external_ip_error_.clear();
  }
  int missing = 0;
  for (auto& m : mappings_) {
    IgdMappingEntry e;
    const IgdResult v = igd_.getMapping(m.protocol, m.external_port, e);
    const bool gone = v.code == kUpnpNoSuchEntry ||
                      (v.ok() && (e.internal_client != lan_ || e.internal_port != m.internal_port));
    if (!gone) continue;
    ++missing;
    if (const auto error = add(m); !error.empty()) {
      fail(UpnpState::kFailing, "re-mapping after the router lost our mappings failed: " + error);
      return;
    }
  }
  if (missing > 0) {
    log_->warn("UPnP: {} of {} mapping(s) were gone from the router (rebooted?); mapped again",
               missing, mappings_.size());
  }
}

void UpnpMapper::tick() {
  if (!settings_.enabled) return;
  const auto now = clock_.now();
  if (state_ != UpnpState::kMapped) {
    if (now >= retry_at_) discover();
    scheduleNext();
    return;
  }
  for (auto& m : mappings_) {
    if (m.renew_at <= now && !renew(m)) {
      scheduleNext();
      return;
    }
  }
  if (now >= next_check_) check();
  scheduleNext();
}

void UpnpMapper::poll() {
  if (!settings_.enabled) return;
  if (state_ == UpnpState::kMapped) {
    check();
  } else {
    discover();
  }
  scheduleNext();
}

void UpnpMapper::scheduleNext() {
  if (!settings_.enabled) {
    next_due_ = Clock::TimePoint::max();
    return;
  }
  if (state_ != UpnpState::kMapped) {
    next_due_ = retry_at_;
    return;
  }
  next_due_ = next_check_;
  for (const auto& m : mappings_) next_due_ = std::min(next_due_, m.renew_at);
}

void UpnpMapper::stop() {
  int removed = 0;
  for (const auto& m : mappings_) {
    if (igd_.deleteMapping(m.protocol, m.external_port).ok()) ++removed;
  }
  if (!mappings_.empty()) {
    log_->info("UPnP: removed {} of {} port mapping(s)", removed, mappings_.size());
  }
  mappings_.clear();
  sessions_.clear();
  next_due_ = Clock::TimePoint::max();
}

RtpMappingResult UpnpMapper::requestRtp(std::uint64_t session,
                                        const std::vector<std::uint16_t>& ports) {
  RtpMappingResult result;
  result.session = session;
  auto find = [&](std::uint16_t port) -> Mapping* {
    for (auto& m : mappings_) {
      if (m.protocol == Protocol::kUdp && m.rtp && m.internal_port == port) return &m;
    }
    return nullptr;
  };
  auto add_result = [&](const Mapping& m) {
    result.mapped.push_back({Protocol::kUdp, m.internal_port, m.external_port, true});
  };
  if (!settings_.enabled) {
    result.error = "UPnP off";
    return result;
  }
  if (state_ != UpnpState::kMapped) {
    result.error = "no port mapping: " + state_text_;
    return result;
  }
  for (const std::uint16_t port : ports) {
    if (Mapping* m = find(port)) {
      if (m->on_demand) {
        ++m->refs;
        sessions_[session].push_back(port);
      }
      add_result(*m);
      continue;
    }
    if (!rtp_on_demand_) {
      result.error = "port " + std::to_string(port) + " is not mapped";
      continue;
    }
    if (static_cast<int>(mappings_.size()) >= settings_.budget) {
      result.error = "mapping budget of " + std::to_string(settings_.budget) + " used up";
      continue;
    }
    Mapping m;
    m.protocol = Protocol::kUdp;
    m.internal_port = port;
    m.rtp = true;
    m.on_demand = true;
    if (const std::string error = add(m); !error.empty()) {
      result.error = "router refused: " + error;
      continue;
    }
    m.refs = 1;
    sessions_[session].push_back(port);
    mappings_.push_back(m);
    add_result(m);
  }
  return result;
}

void UpnpMapper::releaseRtp(std::uint64_t session) {
  const auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  for (const std::uint16_t port : it->second) {
    for (auto m = mappings_.begin(); m != mappings_.end(); ++m) {
      if (!m->on_demand || m->internal_port != port) continue;
      if (--m->refs == 0) {
        igd_.deleteMapping(m->protocol, m->external_port);
        mappings_.erase(m);
      }
      break;
    }
  }
  sessions_.erase(it);
}

std::vector<PortMapping> UpnpMapper::mappings() const {
  std::vector<PortMapping> out;
  out.reserve(mappings_.size());
  for (const auto& m : mappings_) {
    out.push_back({m.protocol, m.internal_port, m.external_port, m.rtp});
  }
  return out;
}

std::vector<ForwardingRule> UpnpMapper::forwardingPlan() const {
  std::vector<ForwardingRule> rules;
  const std::string ip = lan_;
  auto mapped = [&](Protocol p, std::uint16_t port) {
    return state_ == UpnpState::kMapped &&
           std::any_of(mappings_.begin(), mappings_.end(), [&](const Mapping& m) {
             return m.protocol == p && m.internal_port == port;
           });
  };
  const std::uint16_t sip = settings_.sip_port;
  if (settings_.sip_udp && !mapped(Protocol::kUdp, sip)) {
    rules.push_back({Protocol::kUdp, sip, sip, ip, sip, sip, "SIP"});
  }
  if (settings_.sip_tcp && !mapped(Protocol::kTcp, sip)) {
    rules.push_back({Protocol::kTcp, sip, sip, ip, sip, sip, "SIP"});
  }
  if (settings_.rtp_min != 0) {
    bool all = state_ == UpnpState::kMapped;
    if (all && !rtp_on_demand_) {
      for (unsigned p = settings_.rtp_min; p <= settings_.rtp_max && all; ++p) {
        all = mapped(Protocol::kUdp, static_cast<std::uint16_t>(p));
      }
    }
    if (!all) {
      rules.push_back({Protocol::kUdp, settings_.rtp_min, settings_.rtp_max, ip, settings_.rtp_min,
                       settings_.rtp_max, "RTP media"});
    }
  }
  return rules;
}

void UpnpMapper::fillStatus(NatStatus& status) const {
  status.upnp = state_;
  status.upnp_text = state_text_;
  status.igd_location = location_;
  status.igd_external_ip = external_ip_;
  status.double_nat = double_nat_;
  status.double_nat_text =
      double_nat_
          ? "The router's own internet address " + external_ip_ +
                " is private or carrier-grade (10/8, 172.16/12, 192.168/16, 100.64/10): it sits "
                "behind another NAT (a second router or the provider's). Ports are mapped on "
                "this router, but callers from the internet reach the PBX only if the outer "
                "router also forwards them; ask the provider for a public address or forward "
                "the same ports on the outer router. Phones still register (keep-alives) and "
                "the PBX relays media."
          : "";
  status.mapping_budget = settings_.budget;
  status.rtp_on_demand = rtp_on_demand_;
  status.mappings.clear();
  for (const auto& m : mappings_) {
    MappingStatus s;
    s.protocol = m.protocol;
    s.external_port = m.external_port;
    s.internal_port = m.internal_port;
    s.internal_client = lan_;
    s.purpose = !m.rtp ? "SIP" : (m.on_demand ? "RTP (call)" : "RTP");
    s.permanent = m.permanent;
    s.verified = m.verified;
    s.expires = m.wall_expires;
    if (!m.permanent) {
      s.renew_at =
          clock_.wallNow() + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 m.renew_at - clock_.now());
    }
    status.mappings.push_back(s);
  }
  status.manual_forwarding = forwardingPlan();
  status.manual_forwarding_text = forwardingPlanText(status.manual_forwarding);
}

}  // namespace duplex::nat
