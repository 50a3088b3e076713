#include "nat/public_address.h"

#include <algorithm>

namespace duplex::nat {
namespace {

const AddressSource* find(const std::vector<AddressSource>& sources, std::string_view name) {
  for (const auto& s : sources) {
    if (s.source == name && !s.address.empty()) return &s;
  }
  return nullptr;
}

bool usable(const AddressSource* s) {
  if (!s) return false;
  const auto ip = IpAddress::parse(s->address);
  return ip && !isPrivateOrCarrierGrade(*ip) && !isLoopbackOrLinkLocal(*ip);
}

}  // namespace

PublicAddressDecision decidePublicAddress(const std::vector<AddressSource>& sources,
                                          const std::string& dyndns_name) {
  PublicAddressDecision d;
  const AddressSource* config = find(sources, "config");
  const AddressSource* stun = find(sources, "stun");
  const AddressSource* upnp = find(sources, "upnp");
  const AddressSource* dns = find(sources, "dyndns-dns");
  const AddressSource* chosen = nullptr;
  if (config && IpAddress::parse(config->address)) {
    chosen = config;
  } else if (stun) {
    chosen = stun;
  } else if (usable(upnp)) {
    chosen = upnp;
  } else if (dns) {
    chosen = dns;
  }
  if (!chosen) return d;
  d.address = chosen->address;
  d.source = chosen->source;

  std::vector<std::string> notes;
  if (chosen == config && stun && stun->address != config->address) {
    notes.push_back("the configured main address " + config->address + " differs from " +
                    stun->address + " that STUN sees");
  }
  if (upnp && upnp->address != d.address) {
    const auto ip = IpAddress::parse(upnp->address);
    if (ip && isPrivateOrCarrierGrade(*ip)) {
      notes.push_back("the router's own address " + upnp->address +
                      " is private: it is behind another NAT (double NAT)");
    } else {
      notes.push_back("the router reports " + upnp->address + " but " + d.source + " says " +
                      d.address + " (another NAT in between?)");
    }
  }
  if (dns && dns->address != d.address) {
    notes.push_back("the DynDNS name " +
                    (dyndns_name.empty() ? std::string("") : dyndns_name + " ") +
                    "still points to the old address " + dns->address + ", not " + d.address);
  }
  for (const auto& n : notes) {
    if (!d.disagreement.empty()) d.disagreement += "; ";
    d.disagreement += n;
  }
  return d;
}

}  // namespace duplex::nat
