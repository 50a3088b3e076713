// Where each trunk is reached and which packet sources are trunks, with the
// DNS work done off the SIP loop (STYLE.md 7): resolveTrunks() runs the
// blocking look-ups (on a worker thread in the daemon, see pbx/app
// call_wiring) and TrunkAddressCache publishes the result as an immutable
// snapshot that the SIP loop reads with one atomic load.
//
//   next hop  the outbound proxy ("host[:port]") when set, else host:port;
//             the first address the resolver returns (A/AAAA through
//             getaddrinfo; no SRV/NAPTR, RFC 3263 is not implemented: the
//             configured port is used). IP literals are used without DNS.
//   sources   the trunk's accepted inbound sources: every resolved address of
//             host and of the outbound proxy, plus extraAddresses (IP
//             literals or CIDR prefixes). A host that does not resolve
//             contributes no source.
// A trunk whose next hop cannot be resolved gets an error text ("cannot
// resolve sip.provider.example: Name or service not known") that call
// control logs and treats as a failover reason.
//
// For: call control (B2bua: outbound next hop, inbound acceptance), the
// daemon wiring (refreshes). Thread: resolveTrunks() any thread (blocks);
// TrunkAddressCache::publish() any thread; lookups any thread (lock-free).
// Errors: nothing throws; failures are in the snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "nat/ip_address.h"
#include "pbx/call/trunk_directory.h"
#include "pbx/sip/message.h"

namespace duplex::call {

struct TrunkNextHop {
  std::optional<sip::Endpoint> endpoint;  // an IP literal and port; nullopt: unresolvable
  sip::Transport transport = sip::Transport::kUdp;
  std::string error;  // why endpoint is missing
};

class TrunkAddresses {
 public:
  virtual ~TrunkAddresses() = default;
  // Unknown trunks: no endpoint, error "trunk <id> not resolved yet".
  virtual TrunkNextHop nextHop(std::int64_t trunkId) const = 0;
  // The trunks whose sources include `ip` (an IP literal), in directory order.
  virtual std::vector<std::int64_t> trunksForSource(std::string_view ip) const = 0;
};

// Resolves a host name to IP literals; sets `error` when there is none.
using HostLookup =
    std::function<std::vector<std::string>(const std::string& host, std::string& error)>;
// getaddrinfo (blocking); an IP literal is returned as it is.
std::vector<std::string> resolveHostBlocking(const std::string& host, std::string& error);

struct ResolvedTrunk {
  std::int64_t id = 0;
  TrunkNextHop next;
  std::vector<nat::IpNetwork> sources;
  // What was resolved, to tell when the configuration changed.
  std::string key;
};
using TrunkAddressSnapshot = std::vector<ResolvedTrunk>;

// The key that changes when anything resolveTrunks() reads changes.
std::string trunkAddressKey(const TrunkConfig& trunk);
TrunkAddressSnapshot resolveTrunks(const std::vector<TrunkConfig>& trunks,
                                   const HostLookup& resolver);

class TrunkAddressCache final : public TrunkAddresses {
 public:
  void publish(TrunkAddressSnapshot snapshot);
  TrunkNextHop nextHop(std::int64_t trunkId) const override;
  std::vector<std::int64_t> trunksForSource(std::string_view ip) const override;
  // The keys of the trunks currently published, in order (to skip a refresh
  // that would change nothing).
  std::vector<std::string> keys() const;

 private:
  std::atomic<std::shared_ptr<const TrunkAddressSnapshot>> current_{
      std::make_shared<const TrunkAddressSnapshot>()};
};

// The worker that keeps a TrunkAddressCache current: request() (SIP loop,
// never blocks) hands it the trunk list whenever the directory was reloaded;
// it resolves when the addressing changed (trunkAddressKey) and again every
// `refresh` (DNS records change), and publishes. request() itself publishes
// at once what needs no new look-up (IP literals, and host names with the
// worker's last answer), so a trunk added or changed through the admin API
// takes calls from the next request on; a new host name waits for the
// worker ("look-up in progress"). Thread: its own; request() from any
// thread. The destructor stops it (waits for a look-up in progress).
class TrunkAddressResolver {
 public:
  TrunkAddressResolver(TrunkAddressCache& cache, HostLookup resolver,
                       std::chrono::seconds refresh = std::chrono::minutes(5));
  ~TrunkAddressResolver();
  TrunkAddressResolver(const TrunkAddressResolver&) = delete;
  TrunkAddressResolver& operator=(const TrunkAddressResolver&) = delete;

  void request(std::vector<TrunkConfig> trunks);

 private:
  void run();

  TrunkAddressCache& cache_;
  HostLookup resolver_;
  std::chrono::seconds refresh_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::optional<std::vector<TrunkConfig>> pending_;
  std::vector<std::string> requestedKeys_;  // guarded by mutex_
  // The worker's last answers per host name (guarded by mutex_): request()
  // publishes at once with these and IP literals, the worker then with DNS.
  std::map<std::string, std::vector<std::string>> lastAnswers_;
  bool first_ = true;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace duplex::call
