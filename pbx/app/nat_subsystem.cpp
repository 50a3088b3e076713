#include "pbx/app/nat_subsystem.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Stringifier.h>

#include <ctime>
#include <sstream>

#include "nat/dyndns.h"
#include "nat/ip_address.h"
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
  // SIP on loopback only (tests, a PBX behind a local proxy): nothing the
  // router could forward, so no UPnP traffic on the LAN at all.
  if (const auto bind = nat::IpAddress::parse(config.sip.bind);
      bind && nat::isLoopbackOrLinkLocal(*bind)) {
    s.upnp = false;
  }
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
    : ComponentSubsystem("nat"), settings_(natSettingsFrom(config)) {
  const auto bind = nat::IpAddress::parse(config.sip.bind);
  upnpPossible_ = !(bind && nat::isLoopbackOrLinkLocal(*bind));
}

bool NatSubsystem::setUpnp(bool on) {
  // service_ is set and reset on the main thread while the admin server
  // (started after, stopped before) is not serving.
  if (!service_) return false;
  if (on && !upnpPossible_) {
    log().info("UPnP stays off: SIP listens on loopback only (sip.bind), nothing to forward");
  }
  service_->setUpnp(on && upnpPossible_);
  return true;
}

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

namespace {

std::string isoTime(nat::WallTime t) {
  if (t == nat::WallTime{}) return "";
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Poco::JSON::Object::Ptr rule(const nat::ForwardingRule& r) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
  o->set("protocol", std::string(nat::protocolName(r.protocol)));
  o->set("external_first", r.external_first);
  o->set("external_last", r.external_last);
  o->set("internal_ip", r.internal_ip);
  o->set("internal_first", r.internal_first);
  o->set("internal_last", r.internal_last);
  o->set("purpose", r.purpose);
  return o;
}

}  // namespace

std::string natStatusToJson(const nat::NatStatus& s) {
  Poco::JSON::Object root;
  root.set("available", true);
  root.set("public_address", s.public_address);
  Poco::JSON::Array sources;
  for (const auto& src : s.sources) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("source", src.source);
    o->set("address", src.address);
    o->set("error", src.error);
    o->set("when", isoTime(src.when));
    sources.add(o);
  }
  root.set("sources", sources);
  root.set("disagreement", s.disagreement);
  Poco::JSON::Object upnp;
  upnp.set("state", std::string(nat::upnpStateName(s.upnp)));
  upnp.set("text", s.upnp_text);
  upnp.set("igd_location", s.igd_location);
  upnp.set("igd_external_ip", s.igd_external_ip);
  upnp.set("double_nat", s.double_nat);
  upnp.set("double_nat_text", s.double_nat_text);
  upnp.set("mapping_budget", s.mapping_budget);
  upnp.set("rtp_on_demand", s.rtp_on_demand);
  Poco::JSON::Array mappings;
  for (const auto& m : s.mappings) {
    Poco::JSON::Object::Ptr o = new Poco::JSON::Object;
    o->set("protocol", std::string(nat::protocolName(m.protocol)));
    o->set("external_port", m.external_port);
    o->set("internal_port", m.internal_port);
    o->set("internal_client", m.internal_client);
    o->set("purpose", m.purpose);
    o->set("permanent", m.permanent);
    o->set("verified", m.verified);
    o->set("expires", isoTime(m.expires));
    o->set("renew_at", isoTime(m.renew_at));
    mappings.add(o);
  }
  upnp.set("mappings", mappings);
  root.set("upnp", upnp);
  Poco::JSON::Array plan;
  for (const auto& r : s.manual_forwarding) plan.add(rule(r));
  root.set("manual_forwarding", plan);
  root.set("manual_forwarding_text", s.manual_forwarding_text);
  Poco::JSON::Object type;
  type.set("mapping", std::string(nat::mappingBehaviorName(s.nat_type.mapping)));
  type.set("filtering", std::string(nat::filteringBehaviorName(s.nat_type.filtering)));
  type.set("server", s.nat_type.server);
  type.set("text", s.nat_type.text);
  type.set("when", isoTime(s.nat_type.when));
  root.set("nat_type", type);
  Poco::JSON::Object dyndns;
  dyndns.set("enabled", s.dyndns.enabled);
  dyndns.set("hostname", s.dyndns.hostname);
  dyndns.set("last_result", s.dyndns.last_result);
  dyndns.set("text", s.dyndns.text);
  dyndns.set("last_address", s.dyndns.last_address);
  dyndns.set("last_attempt", isoTime(s.dyndns.last_attempt));
  dyndns.set("last_success", isoTime(s.dyndns.last_success));
  dyndns.set("stopped", s.dyndns.stopped);
  root.set("dyndns", dyndns);
  root.set("updated", isoTime(s.updated));
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(root, out);
  return out.str();
}

std::string NatSubsystem::natStatusJson() {
  try {
    // service_ is set and reset on the main thread at start/stop only, while
    // the admin server (started after, stopped before) is not serving.
    if (!service_) return R"({"available": false, "detail": "NAT not running"})";
    return natStatusToJson(service_->status());
  } catch (const std::exception&) {
    return R"({"available": false, "detail": "NAT status unavailable"})";
  }
}

NatSubsystem* makeNatSubsystem(const Config& config) {
  return new NatSubsystem(config);
}

}  // namespace duplex::app
