#include "nat/interface_watcher.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace duplex::nat {

InterfaceWatcher::~InterfaceWatcher() {
  stop();
}

bool InterfaceWatcher::start(std::function<void()> on_change) {
  netlink_ = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (netlink_ < 0) return false;
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
  if (::bind(netlink_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(netlink_);
    netlink_ = -1;
    return false;
  }
  on_change_ = std::move(on_change);
  thread_ = std::thread([this] { run(); });
  return true;
}

void InterfaceWatcher::stop() {
  if (thread_.joinable()) {
    const char byte = 1;
    (void)!::write(wake_[1], &byte, 1);
    thread_.join();
  }
  for (int* fd : {&netlink_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void InterfaceWatcher::run() {
  char buf[8192];
  while (true) {
    pollfd fds[2] = {{netlink_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const ssize_t n = ::recv(netlink_, buf, sizeof buf, 0);
    if (n <= 0) continue;
    bool relevant = false;
    int remaining = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, remaining);
         h = NLMSG_NEXT(h, remaining)) {
      relevant = relevant || h->nlmsg_type == RTM_NEWADDR || h->nlmsg_type == RTM_DELADDR ||
                 h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK;
    }
    if (relevant && on_change_) on_change_();
  }
}

}  // namespace duplex::nat
