// Registrar: the REGISTER policy of RFC 3261 10.3, the NAT facts of every
// binding, and the keep-alive schedule for phones behind NAT. It knows no SIP
// syntax, opens no socket and reads no clock: pbx/call turns a REGISTER into
// a RegistrationRequest, passes the current time in, turns the
// RegistrationDecision back into a response, routes requests with lookup(),
// and sends the keep-alives that due() returns.
//
// For: pbx/call (REGISTER adapter, request routing, keep-alive sender),
// pbx/app (wiring, timers for expire() and due()), admin (stats()).
//
// Thread: a Registrar belongs to the SIP loop thread; call every member from
// that thread only (no locks inside). Lookups never touch the database: all
// bindings live in memory. Changes go to a BindingSink, called synchronously
// on the SIP loop, which must only queue them (the batched write-behind
// writer runs on its own thread with its own db::Database).
//
// Time: `Instant` is Unix time with millisecond resolution, supplied by the
// caller (system_clock in the daemon, a plain value in tests). A binding
// expires at exactly now + granted seconds; remaining seconds are rounded up,
// so an immediate refresh reports the full granted value and a phone that
// re-registers with the value it was given never drifts down.
//
// Errors of registerBindings(), as RegistrationDecision::error -> status:
//   RegisterError::starWithNonZeroExpires 400 "Contact * requires Expires: 0"
//   RegisterError::starWithOtherContacts  400 "Contact * must be the only Contact"
//                                         (both RFC 3261 10.3 step 6)
//   RegisterError::emptyContactUri        400 "Empty Contact URI"
//   RegisterError::invalidQValue          400 "Invalid q value" (RFC 3261 20.10: 0..1)
//   RegisterError::intervalTooBrief       423 "Interval Too Brief", min_expires set
//                                         (RFC 3261 10.3 step 7, 21.4.17)
//   RegisterError::tooManyContacts        403 "Too many contacts" (per-extension
//                                         limit in reject mode, or one request
//                                         with more contacts than the limit)
//   RegisterError::cseqNotIncreasing      500 "Out of order CSeq" (RFC 3261 10.3
//                                         step 7: same Call-ID, CSeq not greater;
//                                         500 as RFC 3261 12.2.2 answers a
//                                         lower in-dialog CSeq)
// A rejected request changes nothing (RFC 3261 10.3: all or nothing).
// registerBindings() never throws for request content. The constructor throws
// std::invalid_argument for an inconsistent RegistrarConfig; loadFrom() lets
// db::DbError through (start-up path).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/binding_repository.h"
#include "registrar/binding_time.h"

namespace duplex::registrar {

// Identifies a binding for the life of this Registrar. A refresh, or a
// re-registration that replaces the binding (reboot), keeps the id.
using BindingId = std::uint64_t;

enum class Transport : std::uint8_t { udp, tcp, tls };

// "udp", "tcp", "tls": the names stored in db::BindingRecord::transport.
std::string_view transportName(Transport transport);

struct Endpoint {
  std::string ip;  // literal address, as the socket reports it
  std::uint16_t port = 0;

  bool operator==(const Endpoint&) const = default;
};

// One Contact of a REGISTER, split by the adapter.
struct RequestContact {
  std::string uri;                        // the Contact URI as written (no <>, no params)
  std::optional<std::string> instanceId;  // +sip.instance (RFC 5626 4.1), if present
  std::optional<std::uint32_t> expires;   // expires parameter, if present
  std::optional<double> q;                // q parameter, if present
  std::string host;                       // host part of the Contact URI
  std::optional<std::uint16_t> port;      // port part, if written
};

struct RegistrationRequest {
  std::int64_t extensionId = 0;
  std::string aor;                       // address of record, e.g. sip:101@pbx
  std::vector<RequestContact> contacts;  // empty and !star: a query (RFC 3261 10.3 step 8)
  bool star = false;                     // "Contact: *"
  std::optional<std::uint32_t> expiresHeader;
  std::string callId;
  std::uint32_t cseq = 0;
  Transport transport = Transport::udp;
  Endpoint local;                            // our socket the REGISTER arrived on
  Endpoint source;                           // where it really came from (RFC 3581 received/rport)
  std::optional<std::int64_t> connectionId;  // TCP/TLS connection; nullopt for UDP
  std::string userAgent;
  std::string viaHost;  // top Via sent-by host
  std::optional<std::uint16_t> viaPort;
  // The extension's own contact limit (db extensions.max_contacts); 0 = none.
  // The effective limit is the lower of this and
  // RegistrarConfig::maxContactsPerExtension.
  std::size_t maxContacts = 0;
};

enum class RegisterError : std::uint8_t {
  none,
  starWithNonZeroExpires,
  starWithOtherContacts,
  emptyContactUri,
  invalidQValue,
  intervalTooBrief,
  tooManyContacts,
  cseqNotIncreasing,
};
inline constexpr std::size_t kRegisterErrorCount = 8;

// A binding as the 200 OK lists it (RFC 3261 10.3 step 8).
struct CurrentBinding {
  BindingId id = 0;
  std::string contactUri;
  std::optional<std::string> instanceId;
  std::optional<double> q;
  std::uint32_t expires = 0;  // remaining seconds, rounded up
};

enum class ContactOutcome : std::uint8_t {
  added,      // a new binding
  refreshed,  // same binding, same source
  replaced,   // same Contact/instance from a new Call-ID or source (reboot)
  removed,    // expires 0 removed it
  notBound,   // expires 0 for a contact that had no binding
  evicted,    // an older binding of the extension, dropped for the limit
};

struct ContactResult {
  std::string uri;
  ContactOutcome outcome = ContactOutcome::added;
  std::uint32_t expires = 0;  // granted seconds; 0 for removals
  bool behindNat = false;
};

struct RegistrationDecision {
  RegisterError error = RegisterError::none;
  int status = 200;
  std::string_view reason = "OK";
  std::uint32_t minExpires = 0;          // for 423: the Min-Expires header value
  std::vector<CurrentBinding> bindings;  // for 200: every current binding
  std::vector<ContactResult> contacts;   // for 200: what happened to each contact
};

// Where to send a request for a binding. For a NATed phone this is the source
// the REGISTER came from (the NAT's mapping), never the Contact. For TCP/TLS
// use connectionId while that connection lives; when it is gone a NATed phone
// is unreachable until it registers again, a non-NATed one is reached by
// opening a connection to the request URI (RFC 3263).
struct SendTo {
  Transport transport = Transport::udp;
  Endpoint destination;
  std::optional<std::int64_t> connectionId;
  Endpoint local;  // send from this socket: the NAT only forwards from there
};

struct Location {
  BindingId id = 0;
  SendTo sendTo;
  std::string requestUri;  // the registered Contact URI (RFC 3261 16.5)
  std::optional<double> q;
  bool behindNat = false;
  std::uint32_t expires = 0;  // remaining seconds
};

// OPTIONS expects an answer (any response counts, RFC 3261 11); CRLF is the
// RFC 5626 4.4.1 double-CRLF ping, which over UDP gets no answer, so with it
// failures are never reported and only expiry removes a silent phone.
enum class KeepAliveKind : std::uint8_t { options, crlf };

// One keep-alive for the SIP side to send now; report the outcome with
// keepAliveAnswered()/keepAliveFailed(id).
struct KeepAlive {
  BindingId id = 0;
  KeepAliveKind kind = KeepAliveKind::options;
  SendTo sendTo;
  std::string requestUri;  // for OPTIONS: the registered Contact
};

enum class ContactLimitMode : std::uint8_t {
  replaceOldest,  // drop the least recently refreshed binding
  reject,         // answer 403
};

struct RegistrarConfig {
  std::uint32_t minExpires = 60;  // below this (and non-zero): 423
  std::uint32_t maxExpires = 3600;
  std::uint32_t defaultExpires = 3600;  // neither expires parameter nor header
  std::size_t maxContactsPerExtension = 5;
  ContactLimitMode limitMode = ContactLimitMode::replaceOldest;
  // Cap on the granted expiry of NATed bindings; off when nullopt. Must lie
  // within [minExpires, maxExpires].
  std::optional<std::uint32_t> natMaxExpires;
  std::uint32_t keepAliveIntervalSeconds = 25;  // 5 or more
  KeepAliveKind keepAliveKind = KeepAliveKind::options;
  std::uint32_t keepAliveMaxFailures = 3;  // consecutive; 1 or more
};

struct RegistrarStats {
  std::size_t bindings = 0;
  std::size_t extensions = 0;
  std::size_t behindNat = 0;
  std::size_t keepAlivesScheduled = 0;
  std::uint64_t registrationsAccepted = 0;
  std::uint64_t rejected[kRegisterErrorCount] = {};  // by RegisterError
  std::uint64_t expired = 0;                         // removed by expire()
  std::uint64_t removedByKeepAlive = 0;
  std::uint64_t keepAlivesSent = 0;
  std::uint64_t keepAlivesFailed = 0;
};

// Receives every change of the binding set, to persist it. Called on the SIP
// loop; must not block (queue, then write on another thread). `upserts` carry
// the whole record (BindingRecord::id is 0), `removals` name bindings by
// extension and BindingRecord::key(). Within one call no key is in both.
class BindingSink {
 public:
  virtual ~BindingSink() = default;
  virtual void onBindingsChanged(std::span<const db::BindingRecord> upserts,
                                 std::span<const db::BindingKey> removals) = 0;
};

class BindingTable;
class KeepAliveSchedule;

class Registrar {
 public:
  Registrar(const RegistrarConfig& config, BindingSink& sink);
  ~Registrar();
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;

  // Start-up: loads the unexpired bindings with their remaining expiry.
  // TCP/TLS connection ids do not survive a restart and are dropped. Nothing
  // is reported to the sink (the repository already holds them). Returns how
  // many were loaded.
  std::size_t loadFrom(db::BindingRepository& repository, Instant now);

  // RFC 3261 10.3 steps 6-8 for an authenticated REGISTER of one extension.
  RegistrationDecision registerBindings(const RegistrationRequest& request, Instant now);

  // Unexpired bindings of an extension, highest q first (absent q counts as
  // 1.0), then most recently registered first.
  std::vector<Location> lookup(std::int64_t extensionId, Instant now) const;

  // The extension was deleted or disabled: drop its bindings. Returns how many.
  std::size_t removeAllOf(std::int64_t extensionId);

  // Timer-driven: removes bindings whose expiry is <= now, reports them to
  // the sink. Returns how many.
  std::size_t expire(Instant now);

  // Keep-alives for NATed UDP bindings that are due at `now`; each is
  // rescheduled one interval later.
  std::vector<KeepAlive> due(Instant now);
  // When due() next has something; for the adapter's timer.
  std::optional<Instant> nextKeepAliveAt() const;
  // The phone answered: its failure count starts again at zero.
  void keepAliveAnswered(BindingId id);
  // The ping got no answer. After keepAliveMaxFailures in a row the binding
  // is removed, logged and reported to the sink; returns true then.
  // Unknown ids (already removed) are ignored.
  bool keepAliveFailed(BindingId id);

  RegistrarStats stats() const;

 private:
  // Drops the listed bindings of one extension and their keep-alives;
  // returns their keys for the sink (the caller reports them, batched).
  std::vector<db::BindingKey> dropBindings(std::int64_t extensionId,
                                           std::span<const BindingId> ids);

  RegistrarConfig config_;
  BindingSink& sink_;
  std::unique_ptr<BindingTable> table_;
  std::unique_ptr<KeepAliveSchedule> keepAlives_;
  RegistrarStats counters_;
};

}  // namespace duplex::registrar
