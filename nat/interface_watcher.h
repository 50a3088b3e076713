// Tells the NAT worker at once when a local interface or address changes
// (rtnetlink RTMGRP_LINK | IPV4_IFADDR | IPV6_IFADDR), so the address book and
// the mappings follow a new LAN address or a cable plugged in without waiting
// for the next poll. Internal to nat/.
//
// Thread: its own small thread blocks in poll(); `on_change` runs on it and
// must only post (NatWorker::refresh()). Errors: if the netlink socket cannot
// be opened, start() returns false and the worker relies on polling.
#pragma once

#include <functional>
#include <thread>

namespace duplex::nat {

class InterfaceWatcher {
 public:
  InterfaceWatcher() = default;
  ~InterfaceWatcher();
  InterfaceWatcher(const InterfaceWatcher&) = delete;
  InterfaceWatcher& operator=(const InterfaceWatcher&) = delete;

  bool start(std::function<void()> on_change);
  void stop();

 private:
  void run();

  int netlink_ = -1;
  int wake_[2] = {-1, -1};
  std::function<void()> on_change_;
  std::thread thread_;
};

}  // namespace duplex::nat
