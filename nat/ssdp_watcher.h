// Listens for SSDP NOTIFY announcements of Internet Gateway Devices on the
// LAN (239.255.255.250:1900) so the NAT worker re-checks the router at once
// when it (re)appears: a router that rebooted announces itself with a new
// BOOTID.UPNP.ORG (or a new LOCATION), and its mappings are gone. Periodic
// re-announcements of the same boot are ignored. Internal to nat/.
//
// Thread: its own small thread blocks in poll(); `on_router` runs on it and
// must only post (NatWorker::refresh()). Errors: if the multicast socket
// cannot be opened (port 1900 busy without SO_REUSEPORT, no multicast route)
// start() returns false and the worker relies on polling.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace duplex::nat {

// "LOCATION|BOOTID" of an `ssdp:alive` NOTIFY for an InternetGatewayDevice or
// WANIPConnection/WANPPPConnection; nullopt for anything else (M-SEARCH,
// byebye, other devices, garbage). Header names are case-insensitive.
std::optional<std::string> igdAnnouncementKey(std::string_view datagram);

class SsdpWatcher {
 public:
  SsdpWatcher() = default;
  ~SsdpWatcher();
  SsdpWatcher(const SsdpWatcher&) = delete;
  SsdpWatcher& operator=(const SsdpWatcher&) = delete;

  bool start(std::function<void()> on_router);
  void stop();

 private:
  void run();

  int socket_ = -1;
  int wake_[2] = {-1, -1};
  std::function<void()> on_router_;
  std::thread thread_;
};

}  // namespace duplex::nat
