#include "nat/address_book.h"

#include <algorithm>
#include <cctype>

namespace duplex::nat {
namespace {

// Lower case, without a trailing dot or [brackets]; IP literals normalized.
std::string normalizeHost(std::string_view host) {
  if (const auto ip = IpAddress::parse(host)) return ip->toString();
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::string_view protocolName(Protocol protocol) {
  return protocol == Protocol::kUdp ? "UDP" : "TCP";
}

AddressBook::AddressBook(AddressBookData data, std::uint64_t version)
    : data_(std::move(data)), version_(version) {
  for (const auto& iface : data_.interfaces) {
    const auto net = IpNetwork::parse(iface.address + "/" + std::to_string(iface.prefix));
    if (net) local_nets_.push_back(*net);
  }
  for (const auto& text : data_.local_networks) {
    if (const auto net = IpNetwork::parse(text)) local_nets_.push_back(*net);
  }
}

bool AddressBook::isLocal(std::string_view peer_ip) const {
  const auto peer = IpAddress::parse(peer_ip);
  if (!peer) return false;
  return std::any_of(local_nets_.begin(), local_nets_.end(),
                     [&](const IpNetwork& net) { return net.contains(*peer); });
}

std::optional<IpAddress> AddressBook::interfaceAddressFor(const IpAddress& peer) const {
  for (const auto& iface : data_.interfaces) {
    const auto net = IpNetwork::parse(iface.address + "/" + std::to_string(iface.prefix));
    if (net && net->contains(peer)) return IpAddress::parse(iface.address);
  }
  return std::nullopt;
}

std::string AddressBook::lanAddress() const {
  if (!data_.lan_address.empty()) return data_.lan_address;
  for (const auto& iface : data_.interfaces) {
    const auto ip = IpAddress::parse(iface.address);
    if (!iface.loopback && ip && !ip->v6 && !isLoopbackOrLinkLocal(*ip)) return iface.address;
  }
  for (const auto& iface : data_.interfaces) {
    const auto ip = IpAddress::parse(iface.address);
    if (!iface.loopback && ip && !isLoopbackOrLinkLocal(*ip)) return iface.address;
  }
  return "";
}

std::string AddressBook::publicAddress() const {
  if (!data_.main_address.empty() && data_.main_address != "auto") return data_.main_address;
  return data_.public_ip;
}

std::optional<std::uint16_t> AddressBook::externalPort(Protocol protocol,
                                                       std::uint16_t internal_port) const {
  for (const auto& m : data_.mappings) {
    if (m.protocol == protocol && m.internal_port == internal_port) return m.external_port;
  }
  return std::nullopt;
}

std::vector<std::uint16_t> AddressBook::mappedRtpPorts() const {
  std::vector<std::uint16_t> ports;
  for (const auto& m : data_.mappings) {
    if (m.rtp && m.protocol == Protocol::kUdp) ports.push_back(m.internal_port);
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

AddressBook::Advertised AddressBook::advertisedFor(std::string_view peer_ip, Protocol protocol,
                                                   std::uint16_t local_port) const {
  const auto peer = IpAddress::parse(peer_ip);
  const bool hairpin =
      peer && ((!data_.public_ip.empty() && IpAddress::parse(data_.public_ip) == peer) ||
               (!data_.last_public_ip.empty() && IpAddress::parse(data_.last_public_ip) == peer));
  Advertised out;
  if (!hairpin && isLocal(peer_ip)) {  // rule 1
    out.lan = true;
    out.port = local_port;
    // The address on the interface whose subnet holds the peer; a peer of a
    // configured network (a VPN range) gets the preferred LAN address.
    const auto via_iface = interfaceAddressFor(*peer);
    out.host = via_iface ? via_iface->toString() : lanAddress();
    return out;
  }
  // rules 2 and 3
  out.host = publicAddress();
  if (out.host.empty()) {
    out.host = lanAddress();
    out.public_known = false;
    out.port = local_port;
    return out;
  }
  out.port = externalPort(protocol, local_port).value_or(local_port);
  return out;
}

bool AddressBook::isSelf(std::string_view host, std::uint16_t port) const {
  const std::string wanted = normalizeHost(host);
  if (wanted.empty()) return false;
  auto same = [&](const std::string& candidate) {
    return !candidate.empty() && normalizeHost(candidate) == wanted;
  };
  bool public_name = same(data_.main_address) || same(data_.public_ip) ||
                     same(data_.last_public_ip) || same(data_.dyndns_name);
  bool local_name =
      std::any_of(data_.additional_addresses.begin(), data_.additional_addresses.end(), same) ||
      std::any_of(data_.interfaces.begin(), data_.interfaces.end(),
                  [&](const LocalInterface& i) { return same(i.address); });
  if (!public_name && !local_name) return false;
  if (port == 0 || data_.sip_ports.empty()) return true;
  if (std::find(data_.sip_ports.begin(), data_.sip_ports.end(), port) != data_.sip_ports.end()) {
    return true;
  }
  // The external port of a SIP mapping (718 conflict moved it) is ours on
  // every address: a hairpinned or forwarded request may carry either.
  return std::any_of(data_.mappings.begin(), data_.mappings.end(),
                     [&](const PortMapping& m) { return !m.rtp && m.external_port == port; });
}

}  // namespace duplex::nat
