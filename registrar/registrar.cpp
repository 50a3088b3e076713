// REGISTER processing (RFC 3261 10.3 steps 6-8) as a chain of small steps:
// validate -> requested expiries (423) -> drop expired -> match and CSeq ->
// apply -> contact limit -> commit and answer. Nothing is changed until every
// step has passed (RFC 3261 10.3: bindings are updated all or nothing).
#include "registrar/registrar.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

#include <spdlog/spdlog.h>

#include "registrar/binding.h"
#include "registrar/keepalive_schedule.h"
#include "registrar/nat_detect.h"

namespace duplex::registrar {
namespace {

struct ErrorAnswer {
  int status;
  std::string_view reason;
};

// The one table from RegisterError to the SIP answer (STYLE.md 9).
constexpr ErrorAnswer kAnswers[kRegisterErrorCount] = {
    {200, "OK"},
    {400, "Contact * requires Expires: 0"},       // RFC 3261 10.3 step 6
    {400, "Contact * must be the only Contact"},  // RFC 3261 10.3 step 6
    {400, "Empty Contact URI"},                   // RFC 3261 10.3 step 7 needs a URI
    {400, "Invalid q value"},                     // RFC 3261 20.10: 0 to 1
    {423, "Interval Too Brief"},                  // RFC 3261 10.3 step 7, 21.4.17
    {403, "Too many contacts"},                   // local policy
    {500, "Out of order CSeq"},                   // RFC 3261 10.3 step 7
};

static_assert(static_cast<std::size_t>(RegisterError::cseqNotIncreasing) + 1 == kRegisterErrorCount,
              "one answer per RegisterError");

RegistrationDecision answer(RegisterError error) {
  RegistrationDecision d;
  d.error = error;
  d.status = kAnswers[static_cast<std::size_t>(error)].status;
  d.reason = kAnswers[static_cast<std::size_t>(error)].reason;
  return d;
}

// Step 1: the shape of the request (RFC 3261 10.3 step 6, 20.10).
RegisterError validate(const RegistrationRequest& r) {
  if (r.star) {
    if (!r.contacts.empty()) return RegisterError::starWithOtherContacts;
    // A missing Expires header is not zero: the default applies (step 6).
    if (r.expiresHeader.value_or(1) != 0) return RegisterError::starWithNonZeroExpires;
    return RegisterError::none;
  }
  for (const RequestContact& c : r.contacts) {
    if (c.uri.empty()) return RegisterError::emptyContactUri;
    if (c.q && !(*c.q >= 0.0 && *c.q <= 1.0)) return RegisterError::invalidQValue;  // NaN too
  }
  return RegisterError::none;
}

// RFC 3261 10.3 step 7: the expires parameter wins over the Expires header,
// which wins over the locally configured default.
std::uint32_t requestedExpires(const RequestContact& c, const RegistrationRequest& r,
                               const RegistrarConfig& config) {
  if (c.expires) return *c.expires;
  if (r.expiresHeader) return *r.expiresHeader;
  return config.defaultExpires;
}

// Which existing binding a contact refreshes: the same +sip.instance (RFC 5626
// 4.1, survives reboots and port changes), else the same Contact URI. A phone
// that rebooted and registers from a new port with a new Call-ID therefore
// replaces its old binding instead of adding a stale one.
std::ptrdiff_t findMatch(const std::vector<Binding>& bindings, const RequestContact& c) {
  // First the binding with the same key (what the repository is keyed by).
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const Binding& b = bindings[i];
    const bool sameKey =
        c.instanceId ? b.instanceId == c.instanceId : !b.instanceId && b.contactUri == c.uri;
    if (sameKey) return static_cast<std::ptrdiff_t>(i);
  }
  // Then the same Contact URI where one side has no instance id (firmware
  // that starts or stops sending one). Two devices with different instance
  // ids stay apart even with the same private Contact (two offices' LANs).
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const Binding& b = bindings[i];
    if (b.contactUri == c.uri && (!b.instanceId || !c.instanceId)) {
      return static_cast<std::ptrdiff_t>(i);
    }
  }
  return -1;
}

// RFC 3261 10.3 step 7: same Call-ID and a CSeq not greater than the stored
// one means a retransmission or reordering; the whole request fails.
bool outOfOrder(const Binding& b, const RegistrationRequest& r) {
  return b.callId == r.callId && r.cseq <= b.cseq;
}

bool behindNat(const RequestContact& c, const RegistrationRequest& r) {
  NatFacts facts;
  facts.contactHost = c.host;
  facts.contactPort = c.port;
  facts.viaHost = r.viaHost;
  facts.viaPort = r.viaPort;
  facts.sourceIp = r.source.ip;
  facts.sourcePort = r.source.port;
  facts.connectionOriented = r.transport != Transport::udp;
  facts.defaultPort = r.transport == Transport::tls ? 5061 : 5060;
  return isBehindNat(facts);
}

void fillFromRequest(Binding& b, const RequestContact& c, const RegistrationRequest& r, bool nat,
                     Instant now) {
  b.extensionId = r.extensionId;
  b.contactUri = c.uri;
  b.instanceId = c.instanceId;
  b.callId = r.callId;
  b.userAgent = r.userAgent;
  b.localIp = r.local.ip;
  b.sourceIp = r.source.ip;
  b.q = c.q;
  b.connectionId = r.connectionId;
  b.registeredAt = now;
  b.cseq = r.cseq;
  b.keepAliveFailures = 0;  // a REGISTER got through: the path works
  b.localPort = r.local.port;
  b.sourcePort = r.source.port;
  b.transport = r.transport;
  b.behindNat = nat;
}

std::vector<CurrentBinding> listOf(const std::vector<Binding>& bindings, Instant now) {
  std::vector<CurrentBinding> out;
  out.reserve(bindings.size());
  for (const Binding& b : bindings) {
    out.push_back(
        CurrentBinding{b.id, b.contactUri, b.instanceId, b.q, remainingSeconds(b.expiresAt, now)});
  }
  return out;
}

void checkConfig(const RegistrarConfig& c) {
  auto fail = [](const char* what) { throw std::invalid_argument(what); };
  if (c.minExpires == 0) fail("registrar: minExpires must be at least 1");
  if (c.maxExpires < c.minExpires) fail("registrar: maxExpires is below minExpires");
  if (c.defaultExpires < c.minExpires || c.defaultExpires > c.maxExpires) {
    fail("registrar: defaultExpires must lie within [minExpires, maxExpires]");
  }
  if (c.maxContactsPerExtension == 0) fail("registrar: maxContactsPerExtension must be >= 1");
  if (c.natMaxExpires && (*c.natMaxExpires < c.minExpires || *c.natMaxExpires > c.maxExpires)) {
    fail("registrar: natMaxExpires must lie within [minExpires, maxExpires]");
  }
  if (c.keepAliveIntervalSeconds < 5) fail("registrar: keepAliveIntervalSeconds must be >= 5");
  if (c.keepAliveMaxFailures == 0) fail("registrar: keepAliveMaxFailures must be >= 1");
}

}  // namespace

Registrar::Registrar(const RegistrarConfig& config, BindingSink& sink)
    : config_(config),
      sink_(sink),
      table_(std::make_unique<BindingTable>()),
      keepAlives_(std::make_unique<KeepAliveSchedule>()) {
  checkConfig(config_);
}

Registrar::~Registrar() = default;

RegistrationDecision Registrar::registerBindings(const RegistrationRequest& r, Instant now) {
  auto reject = [&](RegisterError e) {
    ++counters_.rejected[static_cast<std::size_t>(e)];
    return answer(e);
  };
  if (RegisterError e = validate(r); e != RegisterError::none) return reject(e);

  // RFC 3261 10.3 step 7: 423 when a non-zero request is below our minimum.
  for (const RequestContact& c : r.contacts) {
    const std::uint32_t wanted = requestedExpires(c, r, config_);
    if (wanted != 0 && wanted < config_.minExpires) {
      RegistrationDecision d = reject(RegisterError::intervalTooBrief);
      d.minExpires = config_.minExpires;
      return d;
    }
  }

  const std::vector<Binding> before = table_->copyOf(r.extensionId);
  std::vector<Binding> next;
  std::vector<db::BindingKey> removed;
  for (const Binding& b : before) {
    if (b.expiresAt > now) {
      next.push_back(b);
    } else {
      removed.push_back({r.extensionId, b.key()});
    }
  }

  RegistrationDecision d = answer(RegisterError::none);
  if (r.star) {
    // RFC 3261 10.3 step 6: remove all, subject to the step 7 CSeq rule.
    for (const Binding& b : next) {
      if (outOfOrder(b, r)) return reject(RegisterError::cseqNotIncreasing);
    }
    for (const Binding& b : next) {
      removed.push_back({r.extensionId, b.key()});
      d.contacts.push_back({b.contactUri, ContactOutcome::removed, 0, b.behindNat});
    }
    next.clear();
  } else {
    for (const RequestContact& c : r.contacts) {
      const std::ptrdiff_t i = findMatch(next, c);
      if (i >= 0 && outOfOrder(next[static_cast<std::size_t>(i)], r)) {
        return reject(RegisterError::cseqNotIncreasing);
      }
    }
  }

  // Apply each contact to the working copy.
  std::unordered_set<BindingId> touched;
  std::size_t added = 0;
  for (const RequestContact& c : r.contacts) {
    const std::ptrdiff_t i = findMatch(next, c);
    const bool nat = behindNat(c, r);
    std::uint32_t granted = requestedExpires(c, r, config_);
    if (granted == 0) {
      if (i < 0) {
        d.contacts.push_back({c.uri, ContactOutcome::notBound, 0, nat});
        continue;
      }
      const Binding& gone = next[static_cast<std::size_t>(i)];
      removed.push_back({r.extensionId, gone.key()});
      touched.erase(gone.id);
      d.contacts.push_back({c.uri, ContactOutcome::removed, 0, gone.behindNat});
      next.erase(next.begin() + i);
      continue;
    }
    granted = std::min(granted, config_.maxExpires);  // RFC 3261 10.3 step 7: may shorten
    if (nat && config_.natMaxExpires) granted = std::min(granted, *config_.natMaxExpires);

    Binding b;
    ContactOutcome outcome = ContactOutcome::added;
    if (i >= 0) {
      b = next[static_cast<std::size_t>(i)];
      const bool sameFlow =
          b.callId == r.callId && b.sourceIp == r.source.ip && b.sourcePort == r.source.port;
      outcome = sameFlow ? ContactOutcome::refreshed : ContactOutcome::replaced;
      const std::string oldKey = b.key();
      if (oldKey != (c.instanceId ? *c.instanceId : c.uri)) {
        removed.push_back({r.extensionId, oldKey});
      }
    } else {
      b.id = table_->allocateId();
      ++added;
    }
    // Exactly now + granted: the expiry the phone was told, no rounding drift.
    b.expiresAt = now + std::chrono::seconds{granted};
    fillFromRequest(b, c, r, nat, now);
    touched.insert(b.id);
    d.contacts.push_back({c.uri, outcome, granted, nat});
    if (i >= 0) {
      next[static_cast<std::size_t>(i)] = std::move(b);
    } else {
      next.push_back(std::move(b));
    }
  }

  // Per-extension contact limit: the extension's own, within the global one.
  const std::size_t limit = r.maxContacts == 0
                                ? config_.maxContactsPerExtension
                                : std::min(r.maxContacts, config_.maxContactsPerExtension);
  if (next.size() > limit && added > 0) {
    if (config_.limitMode == ContactLimitMode::reject) {
      return reject(RegisterError::tooManyContacts);
    }
    // Replace the least recently refreshed bindings this request did not name.
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < next.size(); ++i) {
      if (!touched.contains(next[i].id)) candidates.push_back(i);
    }
    const std::size_t excess = next.size() - limit;
    if (candidates.size() < excess) return reject(RegisterError::tooManyContacts);
    std::stable_sort(candidates.begin(), candidates.end(), [&](std::size_t a, std::size_t b) {
      return next[a].registeredAt < next[b].registeredAt;
    });
    candidates.resize(excess);
    std::sort(candidates.rbegin(), candidates.rend());  // erase from the back
    for (std::size_t i : candidates) {
      const Binding& old = next[i];
      removed.push_back({r.extensionId, old.key()});
      d.contacts.push_back({old.contactUri, ContactOutcome::evicted, 0, old.behindNat});
      next.erase(next.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  // Commit: keep-alive schedule, sink, table, answer.
  std::vector<db::BindingRecord> upserts;
  std::unordered_set<std::string> live;
  for (const Binding& b : next) {
    live.insert(b.key());
    if (!touched.contains(b.id)) continue;
    upserts.push_back(toRecord(b, r.aor));
    if (b.needsKeepAlive()) {
      keepAlives_->schedule(b.id, now + std::chrono::seconds{config_.keepAliveIntervalSeconds});
    } else {
      keepAlives_->cancel(b.id);
    }
  }
  for (const Binding& b : before) {
    const bool kept =
        std::any_of(next.begin(), next.end(), [&](const Binding& x) { return x.id == b.id; });
    if (!kept) keepAlives_->cancel(b.id);
  }
  // A key removed and bound again in the same request is an upsert only.
  std::erase_if(removed, [&](const db::BindingKey& k) { return live.contains(k.key); });
  if (!upserts.empty() || !removed.empty()) sink_.onBindingsChanged(upserts, removed);

  d.bindings = listOf(next, now);
  table_->commit(r.extensionId, std::move(next), &r.aor);
  ++counters_.registrationsAccepted;
  return d;
}

std::vector<db::BindingKey> Registrar::dropBindings(std::int64_t extensionId,
                                                    std::span<const BindingId> ids) {
  std::vector<db::BindingKey> keys;
  std::vector<Binding> bindings = table_->copyOf(extensionId);
  std::erase_if(bindings, [&](const Binding& b) {
    if (std::find(ids.begin(), ids.end(), b.id) == ids.end()) return false;
    keys.push_back({extensionId, b.key()});
    keepAlives_->cancel(b.id);
    return true;
  });
  table_->commit(extensionId, std::move(bindings));
  return keys;
}

std::size_t Registrar::removeAllOf(std::int64_t extensionId) {
  const std::vector<Binding>* current = table_->find(extensionId);
  if (!current) return 0;
  std::vector<BindingId> ids;
  for (const Binding& b : *current) ids.push_back(b.id);
  const std::vector<db::BindingKey> keys = dropBindings(extensionId, ids);
  sink_.onBindingsChanged({}, keys);
  return keys.size();
}

std::size_t Registrar::expire(Instant now) {
  std::vector<std::pair<std::int64_t, std::vector<BindingId>>> due;
  for (const auto& [extension, entry] : table_->all()) {
    std::vector<BindingId> ids;
    for (const Binding& b : entry.bindings) {
      if (b.expiresAt <= now) ids.push_back(b.id);
    }
    if (!ids.empty()) due.emplace_back(extension, std::move(ids));
  }
  std::vector<db::BindingKey> keys;
  for (const auto& [extension, ids] : due) {
    std::vector<db::BindingKey> gone = dropBindings(extension, ids);
    keys.insert(keys.end(), gone.begin(), gone.end());
  }
  if (!keys.empty()) sink_.onBindingsChanged({}, keys);
  counters_.expired += keys.size();
  return keys.size();
}

std::size_t Registrar::loadFrom(db::BindingRepository& repository, Instant now) {
  std::size_t loaded = 0;
  for (const db::BindingRecord& rec : repository.loadUnexpired(unixSecondsFloor(now))) {
    std::optional<Binding> b = fromRecord(rec);
    if (!b) {
      registrarLog().warn("registrar: skipping stored binding {} of extension {}: transport '{}'",
                          rec.contactUri, rec.extensionId, rec.transport);
      continue;
    }
    if (b->expiresAt <= now) continue;
    std::vector<Binding> bindings = table_->copyOf(rec.extensionId);
    // Same key twice cannot come from a repository; keep the first if it does.
    const bool duplicate = std::any_of(bindings.begin(), bindings.end(),
                                       [&](const Binding& x) { return x.key() == rec.key(); });
    if (duplicate) continue;
    b->id = table_->allocateId();
    if (b->needsKeepAlive()) {
      keepAlives_->schedule(b->id, now + std::chrono::seconds{config_.keepAliveIntervalSeconds});
    }
    bindings.push_back(std::move(*b));
    table_->commit(rec.extensionId, std::move(bindings), &rec.aor);
    ++loaded;
  }
  return loaded;
}

RegistrarStats Registrar::stats() const {
  RegistrarStats s = counters_;
  s.bindings = table_->size();
  s.extensions = table_->extensions();
  s.keepAlivesScheduled = keepAlives_->size();
  for (const auto& [extension, entry] : table_->all()) {
    for (const Binding& b : entry.bindings) s.behindNat += b.behindNat ? 1 : 0;
  }
  return s;
}

}  // namespace duplex::registrar
