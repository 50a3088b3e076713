#include "nat/ssdp_watcher.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <set>

namespace duplex::nat {
namespace {

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> igdAnnouncementKey(std::string_view d) {
  if (!startsWithNoCase(d, "NOTIFY * HTTP/1.1")) return std::nullopt;
  std::string_view nt, nts, location, bootid;
  while (!d.empty()) {
    const auto eol = d.find('\n');
    const std::string_view line = d.substr(0, eol);
    d = eol == std::string_view::npos ? std::string_view{} : d.substr(eol + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    auto is = [&](std::string_view header) {
      return name.size() == header.size() && startsWithNoCase(name, header);
    };
    if (is("NT")) nt = value;
    if (is("NTS")) nts = value;
    if (is("LOCATION")) location = value;
    if (is("BOOTID.UPNP.ORG")) bootid = value;
  }
  if (nts != "ssdp:alive" || location.empty()) return std::nullopt;
  const bool igd = nt.find("InternetGatewayDevice") != std::string_view::npos ||
                   nt.find("WANIPConnection") != std::string_view::npos ||
                   nt.find("WANPPPConnection") != std::string_view::npos;
  if (!igd) return std::nullopt;
  return std::string(location) + "|" + std::string(bootid);
}

SsdpWatcher::~SsdpWatcher() {
  stop();
}

bool SsdpWatcher::start(std::function<void()> on_router) {
  socket_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (socket_ < 0) return false;
  const int one = 1;
  ::setsockopt(socket_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  ::setsockopt(socket_, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(1900);
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  ip_mreq group{};
  group.imr_multiaddr.s_addr = inet_addr("239.255.255.250");
  group.imr_interface.s_addr = htonl(INADDR_ANY);
  if (::bind(socket_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::setsockopt(socket_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &group, sizeof group) != 0 ||
      ::pipe2(wake_, O_CLOEXEC) != 0) {
    ::close(socket_);
    socket_ = -1;
    return false;
  }
  on_router_ = std::move(on_router);
  thread_ = std::thread([this] { run(); });
  return true;
}

void SsdpWatcher::stop() {
  if (thread_.joinable()) {
    const char byte = 1;
    (void)!::write(wake_[1], &byte, 1);
    thread_.join();
  }
  for (int* fd : {&socket_, &wake_[0], &wake_[1]}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
}

void SsdpWatcher::run() {
  std::set<std::string> seen;  // one entry per router boot; tiny
  char buf[2048];
  while (true) {
    pollfd fds[2] = {{socket_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    const ssize_t n = ::recv(socket_, buf, sizeof buf, 0);
    if (n <= 0) continue;
    const auto key = igdAnnouncementKey(std::string_view(buf, static_cast<std::size_t>(n)));
    if (!key || seen.count(*key)) continue;
    if (seen.size() > 64) seen.clear();
    const bool first = seen.empty();
    seen.insert(*key);
    // The first announcement heard is the router we already found at start.
    if (!first && on_router_) on_router_();
  }
}

}  // namespace duplex::nat
