// On-demand RTP port mappings for the media relay.
//
// When the configured RTP range does not fit the UPnP mapping budget, RTP
// ports are mapped per relay session: the relay asks for its session's ports
// when the session is created and releases them when it ends. Ports used by
// several sessions are reference-counted; a port stays mapped until its last
// session ends. To keep the router's table small the relay should prefer
// ports already mapped: AddressBook::mappedRtpPorts() lists them.
//
// When the whole range is mapped (or UPnP is off), requests complete at once
// with the mappings known (or none). The external port of a mapped port is
// visible in the next AddressBook snapshot (externalPort()) and in the
// completion.
//
// For: the media relay (and call control that creates relay sessions).
// Threads: every function may be called from any thread and never blocks: the
// work is posted to the NAT worker. `done` runs on the NAT worker thread; it
// must be quick and must not block (post to your own loop). After the service
// stopped, requests are dropped and `done` is not called.
// Errors: reported in RtpMappingResult::error ("" on success; e.g. "UPnP off",
// "no IGD", "router refused: 718 ConflictInMappingEntry", "mapping budget of
// 24 used up"). A failed mapping never blocks a call: the relay uses the
// internal port and relies on the router keeping the outbound NAT binding.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nat/address_book.h"

namespace duplex::nat {

struct RtpMappingResult {
  std::uint64_t session = 0;
  std::vector<PortMapping> mapped;  // the ports of the request the router forwards now
  std::string error;                // "" = every requested port is mapped
};

class PortMapper {
 public:
  using Done = std::function<void(const RtpMappingResult&)>;
  virtual ~PortMapper() = default;

  // Map UDP `ports` (RTP and RTCP) for relay session `session`. A second
  // request for the same session adds ports to it. `done` may be empty.
  virtual void requestRtpPorts(std::uint64_t session, std::vector<std::uint16_t> ports,
                               Done done) = 0;
  // The session ended: drop its references; unreferenced ports are unmapped.
  virtual void releaseRtpPorts(std::uint64_t session) = 0;
};

}  // namespace duplex::nat
