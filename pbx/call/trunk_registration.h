// Outbound registration of the office's SIP trunks with their providers: one
// REGISTER dialog per enabled trunk with registration on, answered digest
// challenges, refresh before expiry, retries with backoff, OPTIONS
// keep-alives, and the per-trunk state the status API shows.
//
// Behaviour (what a user of Asterisk/FreeSWITCH/3CX would expect):
// - REGISTER goes to the trunk's outbound proxy if set, else to host:port,
//   over the trunk's transport. Request-URI sip:<host>[:port], To/From
//   sip:<username>@<from_domain or host>, one Call-ID per trunk kept across
//   refreshes with CSeq counting up (RFC 3261 10.2.4), Expires: the trunk's
//   register_interval.
// - 401/407: answered with registrar/digest_client.h (MD5 or SHA-256, qop=auth
//   with nc/cnonce); the realm is the challenge's unless the trunk sets one
//   (then another realm is refused). A second challenge for the nonce we just
//   answered, not stale, means the credentials are wrong; so do three
//   challenges in a row. Both count as "failed" and stop like a 403.
// - 200: the expiry the provider granted for our Contact (its expires
//   parameter, else Expires, else what we asked for). Refresh at
//   min(E/2, E-30 s) (E/2 when that is shorter than 5 s) after the 200.
// - 423 Interval Too Brief: retry at once with its Min-Expires (at most 3600).
// - 403 and 404, and wrong credentials: "failed", no more attempts until the
//   trunk's settings change (a provider that bans an IP after repeated bad
//   logins is not provoked).
// - Any other failure (5xx, 408/no answer, transport error, 4xx): "failed",
//   retried after 30 s, doubling to at most 10 min; a 503 with Retry-After
//   waits that long instead (10 s to 1 h).
// - Behind NAT (the Contact carries an address that is not one of our
//   interfaces): over UDP the refresh happens at least every 120 s
//   (kNatRefreshCap) whatever the provider grants, so the binding in the
//   router never idles longer than the shortest common UDP timeout plus the
//   keep-alives below; and OPTIONS keep-alives are sent every keepAlive
//   interval (registrar.keepalive_interval).
// - OPTIONS keep-alive toward every registered trunk (and every enabled trunk
//   without registration, so inbound calls can reach us) every keepAlive
//   interval. Any answer, 405 and 501 included, proves the path and keeps
//   the binding open, so they go on; two unanswered in a row trigger a
//   re-REGISTER at once.
// - addressChanged() (the public address or the SIP port mapping changed):
//   every trunk re-REGISTERs at once with the new Contact; the old Contact is
//   removed in the same request (Contact: <old>;expires=0).
// - Contact: sip:<username>@<host>:<port> where host:port is what the
//   provider can reach (TrunkContactChoice: the public/main address or the
//   UPnP-mapped SIP port for a provider outside the LAN).
// - A trunk disabled, deleted, switched to register=false, and every trunk at
//   stop(): REGISTER with Expires: 0 (answering one challenge), not retried.
// - Host names are resolved through HostResolver (A/AAAA, IPv4 first; no
//   SRV/NAPTR, so the trunk's port is used as given); a name that does not
//   resolve is a failure with backoff. The address is kept until a REGISTER
//   fails (timeout, transport error) or two keep-alives go unanswered, then
//   resolved again.
//
// For: pbx/app (trunk_wiring.h) drives it; tests drive it with a ManualClock,
// a real SipEndpoint over a fake transport, fake contact choice and resolver.
// Thread: the SIP loop, like the endpoint. Errors: nothing throws; failures
// are states with lastError text.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pbx/call/trunk_directory.h"
#include "pbx/sip/clock.h"
#include "pbx/sip/endpoint.h"
#include "registrar/digest_client.h"

namespace duplex::call {

enum class TrunkRegistrationState { registered, registering, failed, disabled, notRequired };
// "registered", "registering", "failed", "disabled", "not_required"
std::string_view toString(TrunkRegistrationState state);

struct TrunkRegistrationStatus {
  std::int64_t trunkId = 0;
  std::string name;
  bool enabled = true;
  TrunkRegistrationState state = TrunkRegistrationState::registering;
  std::string lastError;                        // "403 Forbidden", "no answer (408)", ...
  std::optional<std::int64_t> registeredUntil;  // unix seconds
  std::optional<std::int64_t> nextAttempt;      // unix seconds: next REGISTER
  std::string contact;                          // the Contact URI we advertise
  bool behindNat = false;
  std::optional<int> lastKeepAliveStatus;  // status of the last OPTIONS answer
};

// The address the provider can reach us at.
struct AdvertisedContact {
  std::string host;
  std::uint16_t port = 0;
  bool behindNat = false;  // host is not one of our interface addresses
};

class TrunkContactChoice {
 public:
  virtual ~TrunkContactChoice() = default;
  virtual AdvertisedContact contactFor(std::string_view providerIp,
                                       sip::Transport transport) const = 0;
};

// Resolves a provider host name to an IP literal. `done` runs on the SIP loop
// (later, never inside resolve()): the IP, or nullopt and why.
class HostResolver {
 public:
  virtual ~HostResolver() = default;
  virtual void resolve(
      const std::string& host,
      std::function<void(std::optional<std::string> ip, std::string error)> done) = 0;
};

class TrunkRegistrations final : public sip::ClientHandler {
 public:
  struct Options {
    std::string userAgent;                    // "" = no User-Agent header
    std::chrono::seconds keepAlive{25};       // OPTIONS interval; 0 = off
    std::chrono::seconds firstRetry{30};      // backoff start
    std::chrono::seconds maxRetry{600};       // backoff cap
    std::chrono::seconds natRefreshCap{120};  // kNatRefreshCap
  };
  static constexpr std::chrono::seconds kNatRefreshCap{120};

  // Everything passed must outlive this object. `wallSeconds` is unix time
  // for the status (registered_until, next_attempt).
  TrunkRegistrations(sip::SipEndpoint& endpoint, const sip::Clock& clock,
                     std::function<std::int64_t()> wallSeconds, const TrunkContactChoice& contacts,
                     HostResolver& resolver, Options options,
                     registrar::DigestClient digest = registrar::DigestClient());
  ~TrunkRegistrations() override;
  TrunkRegistrations(const TrunkRegistrations&) = delete;
  TrunkRegistrations& operator=(const TrunkRegistrations&) = delete;

  // The trunks as configured now: new ones start registering, changed ones
  // start over (a trunk stopped by 403 tries again), removed or disabled ones
  // unregister. Unchanged trunks are left alone.
  void update(const std::vector<TrunkConfig>& trunks);
  // Our public address or SIP port mapping changed: re-REGISTER now.
  void addressChanged();
  // Shutdown: unregisters every registered trunk; nothing is sent after.
  void stop();

  std::optional<sip::Clock::TimePoint> nextDeadline() const;
  void onTimer(sip::Clock::TimePoint now);
  // Ordered by trunk name.
  std::vector<TrunkRegistrationStatus> status() const;
  // REGISTERs with Expires: 0 still waiting for an answer (shutdown waits).
  std::size_t pendingUnregisters() const;
  // Called after any state change (status publication, timer re-arming).
  void setObserver(std::function<void()> observer) { observer_ = std::move(observer); }

  // sip::ClientHandler
  void onResponse(sip::SipEndpoint& endpoint, sip::TransactionId id,
                  const sip::Message& response) override;
  void onClientTimeout(sip::SipEndpoint& endpoint, sip::TransactionId id) override;
  void onTransportError(sip::SipEndpoint& endpoint, sip::TransactionId id) override;

 private:
  struct Trunk;
  struct Pending;
  enum class Kind { reg, unreg, options };

  void start(Trunk& t);
  void sendRegister(Trunk& t, bool unregister);
  void sendOptions(Trunk& t);
  void onFinal(Trunk& t, Kind kind, const sip::Message& response);
  // No final response: a timeout (408) or a transport error (503). A
  // keep-alive counts as missed either way.
  void onNoAnswer(sip::TransactionId id, int status, std::string_view why);
  void onRegisterFailure(Trunk& t, const std::string& error, bool permanent,
                         std::optional<std::chrono::seconds> retryAfter = std::nullopt);
  void onRegistered(Trunk& t, std::uint32_t granted);
  void scheduleRegister(Trunk& t, std::chrono::seconds delay);
  std::string destinationHost(const Trunk& t) const;
  std::uint16_t destinationPort(const Trunk& t) const;
  void withDestination(Trunk& t, std::function<void(Trunk&)> then);
  void notify();

  sip::SipEndpoint& endpoint_;
  const sip::Clock& clock_;
  std::function<std::int64_t()> wallSeconds_;
  const TrunkContactChoice& contacts_;
  HostResolver& resolver_;
  Options options_;
  registrar::DigestClient digest_;
  std::map<std::int64_t, std::unique_ptr<Trunk>> trunks_;  // by id
  std::vector<std::unique_ptr<Trunk>> leaving_;            // unregistering after removal/disable
  std::map<sip::TransactionId, std::pair<Trunk*, Kind>> pending_;
  std::function<void()> observer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for resolver callbacks
  bool stopped_ = false;
};

}  // namespace duplex::call
