// Trunk next hops and inbound sources; see trunk_addresses.h.
#include "pbx/call/trunk_addresses.h"

#include <netdb.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace duplex::call {
namespace {

// "host[:port]", "[v6]:port", "v6literal".
std::pair<std::string, std::optional<std::uint16_t>> splitHostPort(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return {std::string(text), std::nullopt};
    std::string host(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (rest.size() > 1 && rest.front() == ':') {
      std::uint16_t port = 0;
      auto [end, ec] = std::from_chars(rest.data() + 1, rest.data() + rest.size(), port);
      if (ec == std::errc() && end == rest.data() + rest.size() && port != 0) return {host, port};
    }
    return {host, std::nullopt};
  }
  const std::size_t colon = text.rfind(':');
  if (colon != std::string_view::npos && text.find(':') == colon) {
    std::uint16_t port = 0;
    std::string_view p = text.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec == std::errc() && end == p.data() + p.size() && port != 0) {
      return {std::string(text.substr(0, colon)), port};
    }
  }
  return {std::string(text), std::nullopt};
}

void addSources(std::vector<nat::IpNetwork>& out, const std::vector<std::string>& ips) {
  for (const std::string& ip : ips) {
    if (auto net = nat::IpNetwork::parse(ip)) {
      if (std::find(out.begin(), out.end(), *net) == out.end()) out.push_back(*net);
    }
  }
}

}  // namespace

std::vector<std::string> resolveHostBlocking(const std::string& host, std::string& error) {
  if (host.empty()) {
    error = "no host configured";
    return {};
  }
  if (auto literal = nat::IpAddress::parse(host)) return {literal->toString()};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return {};
  }
  std::vector<std::string> out;
  for (addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    char text[NI_MAXHOST];
    if (::getnameinfo(ai->ai_addr, ai->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) ==
        0) {
      if (std::find(out.begin(), out.end(), text) == out.end()) out.emplace_back(text);
    }
  }
  ::freeaddrinfo(result);
  // IPv4 first: the SIP transports of a small office are IPv4 in practice.
  std::stable_partition(out.begin(), out.end(),
                        [](const std::string& a) { return a.find(':') == std::string::npos; });
  if (out.empty()) error = "cannot resolve " + host + ": no address";
  return out;
}

std::string trunkAddressKey(const TrunkConfig& t) {
  std::string key = std::to_string(t.id) + "|" + t.host + "|" + std::to_string(t.port) + "|" +
                    t.transport + "|" + t.outboundProxy;
  for (const std::string& a : t.extraAddresses) key += "|" + a;
  return key;
}

TrunkAddressSnapshot resolveTrunks(const std::vector<TrunkConfig>& trunks,
                                   const HostLookup& resolver) {
  TrunkAddressSnapshot out;
  for (const TrunkConfig& t : trunks) {
    ResolvedTrunk r;
    r.id = t.id;
    r.key = trunkAddressKey(t);
    r.next.transport =
        t.transport == "tcp" || t.transport == "TCP" ? sip::Transport::kTcp : sip::Transport::kUdp;
    std::string hostError;
    const std::vector<std::string> hostIps = resolver(t.host, hostError);
    addSources(r.sources, hostIps);
    if (!t.outboundProxy.empty()) {
      auto [proxyHost, proxyPort] = splitHostPort(t.outboundProxy);
      std::string proxyError;
      const std::vector<std::string> proxyIps = resolver(proxyHost, proxyError);
      addSources(r.sources, proxyIps);
      if (proxyIps.empty()) {
        r.next.error = proxyError.empty() ? "cannot resolve " + proxyHost : proxyError;
      } else {
        r.next.endpoint = sip::Endpoint{proxyIps.front(), proxyPort.value_or(5060)};
      }
    } else if (hostIps.empty()) {
      r.next.error = hostError.empty() ? "cannot resolve " + t.host : hostError;
    } else {
      r.next.endpoint = sip::Endpoint{hostIps.front(), t.port};
    }
    for (const std::string& extra : t.extraAddresses) {
      if (auto net = nat::IpNetwork::parse(extra)) r.sources.push_back(*net);
    }
    out.push_back(std::move(r));
  }
  return out;
}

void TrunkAddressCache::publish(TrunkAddressSnapshot snapshot) {
  current_.store(std::make_shared<const TrunkAddressSnapshot>(std::move(snapshot)));
}

TrunkNextHop TrunkAddressCache::nextHop(std::int64_t trunkId) const {
  const std::shared_ptr<const TrunkAddressSnapshot> s = current_.load();
  for (const ResolvedTrunk& r : *s) {
    if (r.id == trunkId) return r.next;
  }
  TrunkNextHop none;
  none.error = "trunk " + std::to_string(trunkId) + " not resolved yet";
  return none;
}

std::vector<std::int64_t> TrunkAddressCache::trunksForSource(std::string_view ip) const {
  std::vector<std::int64_t> out;
  const std::optional<nat::IpAddress> address = nat::IpAddress::parse(ip);
  if (!address) return out;
  const std::shared_ptr<const TrunkAddressSnapshot> s = current_.load();
  for (const ResolvedTrunk& r : *s) {
    if (std::any_of(r.sources.begin(), r.sources.end(),
                    [&](const nat::IpNetwork& n) { return n.contains(*address); })) {
      out.push_back(r.id);
    }
  }
  return out;
}

std::vector<std::string> TrunkAddressCache::keys() const {
  std::vector<std::string> out;
  for (const ResolvedTrunk& r : *current_.load()) out.push_back(r.key);
  return out;
}

TrunkAddressResolver::TrunkAddressResolver(TrunkAddressCache& cache, HostLookup resolver,
                                           std::chrono::seconds refresh)
    : cache_(cache), resolver_(std::move(resolver)), refresh_(refresh) {
  thread_ = std::thread([this] { run(); });
}

TrunkAddressResolver::~TrunkAddressResolver() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void TrunkAddressResolver::request(std::vector<TrunkConfig> trunks) {
  std::vector<std::string> keys;
  keys.reserve(trunks.size());
  for (const TrunkConfig& t : trunks) keys.push_back(trunkAddressKey(t));
  {
    std::lock_guard lock(mutex_);
    if (!first_ && keys == requestedKeys_) return;  // nothing that addressing depends on changed
    first_ = false;
    requestedKeys_ = keys;
    pending_ = trunks;
    // No DNS here: IP literals, and names the worker already answered.
    // Published under the lock, so the worker (which publishes under it
    // too, after taking pending_) always publishes later: this interim
    // answer never replaces the worker's full one.
    cache_.publish(resolveTrunks(trunks, [this](const std::string& host, std::string& error) {
      if (auto literal = nat::IpAddress::parse(host)) {
        return std::vector<std::string>{literal->toString()};
      }
      if (auto it = lastAnswers_.find(host); it != lastAnswers_.end() && !it->second.empty()) {
        return it->second;
      }
      error = "cannot resolve " + host + ": look-up in progress";
      return std::vector<std::string>{};
    }));
  }
  wake_.notify_all();
}

void TrunkAddressResolver::run() {
  std::vector<TrunkConfig> current;
  std::map<std::int64_t, std::string> reported;  // the last error logged per trunk
  std::unique_lock lock(mutex_);
  while (!stop_) {
    const bool woken = wake_.wait_for(lock, refresh_, [this] { return stop_ || pending_; });
    if (stop_) break;
    if (woken && pending_) {
      current = std::move(*pending_);
      pending_.reset();
    }
    if (current.empty() && !woken) continue;
    const std::vector<TrunkConfig> trunks = current;
    lock.unlock();
    std::map<std::string, std::vector<std::string>> answers;
    TrunkAddressSnapshot snapshot =
        resolveTrunks(trunks, [&](const std::string& host, std::string& error) {
          std::vector<std::string> ips = resolver_(host, error);  // blocking DNS
          answers[host] = ips;
          return ips;
        });
    lock.lock();
    lastAnswers_ = std::move(answers);
    auto log = spdlog::get("sip");
    if (!log) log = spdlog::default_logger();
    for (const ResolvedTrunk& r : snapshot) {
      std::string& last = reported[r.id];
      if (r.next.error != last) {
        if (!r.next.error.empty()) {
          log->warn("trunk {}: {} (calls fail over to the next trunk)", r.id, r.next.error);
        } else if (r.next.endpoint) {
          log->info("trunk {}: reached at {}", r.id, r.next.endpoint->toString());
        }
        last = r.next.error;
      }
    }
    // A newer list arrived meanwhile: resolve that one instead of publishing
    // addresses of a configuration that is gone.
    if (!pending_) cache_.publish(std::move(snapshot));
  }
}

}  // namespace duplex::call
