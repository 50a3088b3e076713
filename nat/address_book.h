// The address book: which addresses are "us", which peers are on our LAN, and
// which address (and port) to write into Via, Contact, Record-Route and SDP
// toward a given peer.
//
// For: call control, the registrar adapter, trunks and the media relay (they
// read it), the NAT worker (it builds and publishes it).
//
// An AddressBook is an immutable snapshot. The NAT worker builds a new one
// whenever an input changes (interfaces, discovered public IP, UPnP mappings)
// and publishes it through the AddressBookPublisher; every other thread reads
// the current snapshot with one atomic load and keeps the shared_ptr for as
// long as it needs a consistent view (e.g. for one request). No locks.
//
// The per-peer rule (advertisedFor), "trust the packet": the decision is made
// on the address the peer's packets really come from, never on what the peer
// wrote in its messages.
//  1. A peer inside a local interface's subnet or a configured local network
//     is on the LAN: it gets the LAN address (the address of the interface
//     whose subnet holds the peer; else the preferred LAN address) and the
//     internal port.
//  2. Hairpin: a peer whose packets come from our own public IP (current or
//     last) is a LAN phone that dialled our public address and was NATed back
//     by the router. It got to us through the public address, so it gets the
//     public side (rule 3), which is what it can reach.
//  3. Every other peer gets the main address (the configured hostname or IP;
//     with `auto`, the discovered public IP) and, for a port the router
//     forwards to us, the external port of that mapping. A peer that reached
//     us through a relay (a VPN gateway, an SBC, a TURN server) is judged by
//     the relay's address: a relay inside a local network counts as LAN.
//  When the public side is unknown (no main address configured, nothing
//  discovered yet), rule 3 falls back to the LAN address and says so
//  (Advertised::public_known == false).
//
// Errors: none. A peer or host that is not an IP literal is never local;
// isSelf() compares names case-insensitively, ignoring a trailing dot.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nat/ip_address.h"

namespace duplex::nat {

enum class Protocol : std::uint8_t { kUdp, kTcp };
std::string_view protocolName(Protocol protocol);  // "UDP", "TCP"

// One address of a local network interface.
struct LocalInterface {
  std::string name;     // "eth0"
  std::string address;  // "10.0.0.5"
  unsigned prefix = 0;  // subnet prefix length, e.g. 24
  bool loopback = false;
  bool operator==(const LocalInterface&) const = default;
};

// A port the router forwards to us (UPnP), as advertised.
struct PortMapping {
  Protocol protocol = Protocol::kUdp;
  std::uint16_t internal_port = 0;
  std::uint16_t external_port = 0;
  bool rtp = false;  // an RTP/RTCP port (whole range or on demand) rather than SIP
  bool operator==(const PortMapping&) const = default;
};

// Everything a snapshot is built from (the NAT worker fills it).
struct AddressBookData {
  std::vector<LocalInterface> interfaces;
  std::vector<std::string> local_networks;        // configured CIDRs, e.g. a VPN range
  std::string main_address;                       // configured hostname or IP; "" = auto
  std::vector<std::string> additional_addresses;  // configured hostnames or IPs
  std::string public_ip;                          // discovered public IP; "" = unknown
  std::string last_public_ip;                     // the one before it; "" = none
  std::string dyndns_name;                        // "" = none
  std::string lan_address;                        // preferred LAN address; "" = first interface
  std::vector<std::uint16_t> sip_ports;           // internal ports SIP listens on
  std::vector<PortMapping> mappings;
};

class AddressBook {
 public:
  AddressBook() = default;  // empty: no interfaces, nothing known
  explicit AddressBook(AddressBookData data, std::uint64_t version = 0);

  struct Advertised {
    std::string host;          // IP literal or hostname to write
    std::uint16_t port = 0;    // external port when mapped, else the local port
    bool lan = false;          // rule 1 chose the LAN side
    bool public_known = true;  // false: public side wanted but unknown (LAN fallback)
  };
  // What to advertise toward `peer_ip` (the packet source) for a local port
  // of `protocol` (the SIP port, or an RTP port of the relay).
  Advertised advertisedFor(std::string_view peer_ip, Protocol protocol,
                           std::uint16_t local_port) const;

  // True when `peer_ip` is inside a local interface's subnet or a configured
  // local network (rule 1). Hairpinned peers (rule 2) are not local.
  bool isLocal(std::string_view peer_ip) const;

  // True when `host` is the main address, an additional address, the current
  // or last public IP, a local interface address or the DynDNS name, and
  // `port` is one of our SIP ports (internal, or external of a SIP mapping);
  // port 0 = any port. Requests for such a host are ours: never forward them.
  bool isSelf(std::string_view host, std::uint16_t port) const;

  // The main address as advertised to WAN peers: the configured one, else the
  // discovered public IP, else "" (unknown).
  std::string publicAddress() const;
  // The preferred LAN address ("" when there is no non-loopback interface).
  std::string lanAddress() const;
  // The external port that maps `internal_port`, if the router forwards it.
  std::optional<std::uint16_t> externalPort(Protocol protocol, std::uint16_t internal_port) const;
  // Internal RTP ports (UDP) currently mapped, ascending: the media relay
  // prefers these when it picks ports for a new session.
  std::vector<std::uint16_t> mappedRtpPorts() const;

  const AddressBookData& data() const { return data_; }
  std::uint64_t version() const { return version_; }  // increases with every publication

 private:
  std::optional<IpAddress> interfaceAddressFor(const IpAddress& peer) const;

  AddressBookData data_;
  std::uint64_t version_ = 0;
  std::vector<IpNetwork> local_nets_;  // interface subnets then configured networks
};

using AddressBookSnapshot = std::shared_ptr<const AddressBook>;

}  // namespace duplex::nat
