// Outbound trunk registration; see trunk_registration.h.
#include "pbx/call/trunk_registration.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace duplex::call {

using std::chrono::seconds;
using TimePoint = sip::Clock::TimePoint;

struct TrunkRegistrations::Trunk {
  TrunkConfig config;
  bool leaving = false;  // unregistering after removal / disable
  TrunkRegistrationState state = TrunkRegistrationState::registering;
  std::string callId;
  std::string fromTag;
  std::uint32_t cseq = 0;
  std::uint32_t expires = 600;  // what we ask for
  std::optional<std::string> ip;
  bool resolving = false;
  std::optional<sip::TransactionId> regTx;
  std::optional<sip::TransactionId> optionsTx;
  std::optional<registrar::DigestChallenge> challenge;
  bool proxyChallenge = false;
  std::string answeredNonce;  // the nonce answered in the REGISTER in flight
  int challengesInARow = 0;
  bool againAfterThis = false;  // the address changed while a REGISTER was in flight
  std::optional<TimePoint> registerAt;
  std::optional<TimePoint> keepAliveAt;
  int failures = 0;
  bool stoppedForGood = false;
  std::string contact;
  std::string oldContact;  // removed with expires=0 in the next REGISTER
  bool behindNat = false;
  std::string lastError;
  std::optional<std::int64_t> registeredUntil;  // unix seconds
  bool everRegistered = false;                  // a binding may exist at the provider
  std::optional<int> lastKeepAliveStatus;
  int keepAliveMisses = 0;

  bool wantsRegistration() const { return config.enabled && config.registration && !leaving; }
};

namespace {

bool isIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// "host", "host:port", "[v6]", "[v6]:port" -> host and port (0 if absent).
std::pair<std::string, std::uint16_t> splitHostPort(const std::string& text) {
  std::string host = text;
  std::uint16_t port = 0;
  auto parsePort = [&](std::string_view p) {
    unsigned v = 0;
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec == std::errc() && end == p.data() + p.size() && v > 0 && v < 65536) {
      port = static_cast<std::uint16_t>(v);
    }
  };
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    host = text.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < text.size() && text[close + 1] == ':') {
      parsePort(std::string_view(text).substr(close + 2));
    }
  } else if (const auto colon = text.find(':');
             colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
    host = text.substr(0, colon);
    parsePort(std::string_view(text).substr(colon + 1));
  }
  return {host, port};
}

std::string hostForUri(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// The AOR/registrar parts that make a REGISTER dialog: when one changes the
// old binding is a different one and must be removed separately.
bool sameDialog(const TrunkConfig& a, const TrunkConfig& b) {
  return a.host == b.host && a.port == b.port && a.transport == b.transport &&
         a.username == b.username && a.fromDomain == b.fromDomain &&
         a.outboundProxy == b.outboundProxy;
}

bool sameSettings(const TrunkConfig& a, const TrunkConfig& b) {
  return sameDialog(a, b) && a.name == b.name && a.enabled == b.enabled &&
         a.password == b.password && a.authUsername == b.authUsername && a.realm == b.realm &&
         a.registration == b.registration && a.registerIntervalSeconds == b.registerIntervalSeconds;
}

sip::Transport transportOf(const TrunkConfig& c) {
  return c.transport == "tcp" ? sip::Transport::kTcp : sip::Transport::kUdp;
}

std::string domainOf(const TrunkConfig& c) {
  return hostForUri(c.fromDomain.empty() ? c.host : c.fromDomain);
}

std::string registrarUri(const TrunkConfig& c) {
  std::string uri = "sip:";
  uri += hostForUri(c.host);
  if (c.port != 5060) {
    uri += ':';
    uri += std::to_string(c.port);
  }
  if (c.transport == "tcp") uri += ";transport=tcp";
  return uri;
}

std::optional<std::uint32_t> headerNumber(const sip::Message& m, std::string_view name) {
  auto v = m.header(name);
  if (!v) return std::nullopt;
  std::string_view text = *v;
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  return n;
}

std::string statusText(const sip::Message& r) {
  return std::to_string(r.statusCode()) + " " + std::string(r.reasonPhrase());
}

}  // namespace

std::string_view toString(TrunkRegistrationState state) {
  switch (state) {
    case TrunkRegistrationState::registered:
      return "registered";
    case TrunkRegistrationState::registering:
      return "registering";
    case TrunkRegistrationState::failed:
      return "failed";
    case TrunkRegistrationState::disabled:
      return "disabled";
    case TrunkRegistrationState::notRequired:
      return "not_required";
  }
  return "failed";
}

TrunkRegistrations::TrunkRegistrations(sip::SipEndpoint& endpoint, const sip::Clock& clock,
                                       std::function<std::int64_t()> wallSeconds,
                                       const TrunkContactChoice& contacts, HostResolver& resolver,
                                       Options options, registrar::DigestClient digest)
    : endpoint_(endpoint),
      clock_(clock),
      wallSeconds_(std::move(wallSeconds)),
      contacts_(contacts),
      resolver_(resolver),
      options_(std::move(options)),
      digest_(std::move(digest)) {}

TrunkRegistrations::~TrunkRegistrations() {
  *alive_ = false;
  endpoint_.forgetClientOwner(this);
}

void TrunkRegistrations::notify() {
  if (observer_) observer_();
}

// ------------------------------------------------------------ configuration

void TrunkRegistrations::update(const std::vector<TrunkConfig>& trunks) {
  if (stopped_) return;
  std::map<std::int64_t, const TrunkConfig*> wanted;
  for (const auto& c : trunks) wanted[c.id] = &c;

  const auto retire = [this](std::unique_ptr<Trunk> old) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      it = it->second.first == old.get() ? pending_.erase(it) : std::next(it);
    }
    if (!old->everRegistered) return;
    old->leaving = true;
    old->challengesInARow = 0;
    Trunk& t = *old;
    leaving_.push_back(std::move(old));
    sendRegister(t, true);
  };

  for (auto it = trunks_.begin(); it != trunks_.end();) {
    auto w = wanted.find(it->first);
    Trunk& t = *it->second;
    if (w == wanted.end()) {
      retire(std::move(it->second));
      it = trunks_.erase(it);
      continue;
    }
    const TrunkConfig& next = *w->second;
    if (sameSettings(t.config, next)) {
      t.config = next;  // caller ID, codecs...: nothing to do with registration
      ++it;
      continue;
    }
    const bool keepDialog = sameDialog(t.config, next) && next.enabled && next.registration;
    if (!keepDialog) {
      // A different AOR or registrar (or none wanted): the old binding goes.
      auto fresh = std::make_unique<Trunk>();
      fresh->config = next;
      retire(std::move(it->second));
      it->second = std::move(fresh);
    } else {
      for (auto p = pending_.begin(); p != pending_.end();) {
        p = p->second.first == &t ? pending_.erase(p) : std::next(p);
      }
      t.config = next;
      t.regTx.reset();
      t.optionsTx.reset();
      t.challenge.reset();
      t.failures = 0;
      t.stoppedForGood = false;
      t.lastError.clear();
    }
    start(*it->second);
    ++it;
  }
  for (const auto& [id, c] : wanted) {
    if (trunks_.count(id)) continue;
    auto t = std::make_unique<Trunk>();
    t->config = *c;
    Trunk& ref = *t;
    trunks_[id] = std::move(t);
    start(ref);
  }
  notify();
}

void TrunkRegistrations::start(Trunk& t) {
  t.registerAt.reset();
  t.keepAliveAt.reset();
  t.registeredUntil.reset();
  if (!t.config.enabled) {
    t.state = TrunkRegistrationState::disabled;
    return;
  }
  if (t.callId.empty()) {
    t.callId = endpoint_.newTag() + endpoint_.newTag() + "@duplex";
    t.fromTag = endpoint_.newTag();
  }
  t.expires = static_cast<std::uint32_t>(std::clamp(t.config.registerIntervalSeconds, 60, 3600));
  if (!t.config.registration) {
    t.state = TrunkRegistrationState::notRequired;
    // Keep-alives still open the path for the provider's calls to us.
    if (options_.keepAlive.count() > 0) t.keepAliveAt = clock_.now();
    return;
  }
  t.state = TrunkRegistrationState::registering;
  t.registerAt = clock_.now();
}

void TrunkRegistrations::addressChanged() {
  if (stopped_) return;
  for (auto& [id, t] : trunks_) {
    if (!t->wantsRegistration() || t->stoppedForGood) continue;
    if (t->regTx) {
      t->againAfterThis = true;
    } else {
      t->registerAt = clock_.now();
    }
  }
  notify();
}

void TrunkRegistrations::stop() {
  if (stopped_) return;
  pending_.clear();
  for (auto& [id, t] : trunks_) {
    t->registerAt.reset();
    t->keepAliveAt.reset();
    if (t->everRegistered && t->wantsRegistration()) {
      t->leaving = true;
      t->challengesInARow = 0;
      sendRegister(*t, true);
    }
  }
  stopped_ = true;
  notify();
}

// ----------------------------------------------------------------- timers

std::optional<TimePoint> TrunkRegistrations::nextDeadline() const {
  if (stopped_) return std::nullopt;
  std::optional<TimePoint> next;
  const auto consider = [&next](const std::optional<TimePoint>& t) {
    if (t && (!next || *t < *next)) next = t;
  };
  for (const auto& [id, t] : trunks_) {
    // Due while a REGISTER is in flight or a name resolves: taken up when
    // that ends, not polled.
    if (!t->regTx && !t->resolving) consider(t->registerAt);
    consider(t->keepAliveAt);
  }
  return next;
}

void TrunkRegistrations::onTimer(TimePoint now) {
  if (stopped_) return;
  bool changed = false;
  for (auto& [id, tp] : trunks_) {
    Trunk& t = *tp;
    if (t.registerAt && *t.registerAt <= now && !t.regTx && !t.resolving) {
      t.registerAt.reset();
      if (t.wantsRegistration()) {
        sendRegister(t, false);
        changed = true;
      }
    }
    if (t.keepAliveAt && *t.keepAliveAt <= now) {
      t.keepAliveAt = now + options_.keepAlive;
      if (!t.optionsTx && !t.resolving) sendOptions(t);
    }
  }
  if (changed) notify();
}

// --------------------------------------------------------------- sending

std::string TrunkRegistrations::destinationHost(const Trunk& t) const {
  if (!t.config.outboundProxy.empty()) return splitHostPort(t.config.outboundProxy).first;
  return t.config.host;
}

std::uint16_t TrunkRegistrations::destinationPort(const Trunk& t) const {
  if (!t.config.outboundProxy.empty()) {
    const auto port = splitHostPort(t.config.outboundProxy).second;
    return port ? port : 5060;
  }
  return t.config.port;
}

void TrunkRegistrations::withDestination(Trunk& t, std::function<void(Trunk&)> then) {
  if (t.ip) {
    then(t);
    return;
  }
  const std::string host = destinationHost(t);
  if (isIpLiteral(host)) {
    t.ip = host;
    then(t);
    return;
  }
  if (t.resolving) return;
  t.resolving = true;
  const std::int64_t id = t.config.id;
  const bool leaving = t.leaving;
  std::weak_ptr<bool> alive = alive_;
  resolver_.resolve(host, [this, alive, id, leaving, host, then = std::move(then)](
                              std::optional<std::string> ip, std::string error) {
    if (alive.expired()) return;
    Trunk* found = nullptr;
    if (!leaving) {
      auto it = trunks_.find(id);
      if (it != trunks_.end()) found = it->second.get();
    }
    if (found == nullptr || !found->resolving) return;  // replaced meanwhile
    found->resolving = false;
    if (!ip) {
      if (found->wantsRegistration()) {
        onRegisterFailure(*found, "cannot resolve " + host + ": " + error, false);
      } else {
        found->lastError = "cannot resolve " + host + ": " + error;
      }
      notify();
      return;
    }
    found->ip = *ip;
    then(*found);
    notify();
  });
}

void TrunkRegistrations::sendRegister(Trunk& trunk, bool unregister) {
  withDestination(trunk, [this, unregister](Trunk& t) {
    const sip::Transport transport = transportOf(t.config);
    const sip::Destination to{transport, {*t.ip, destinationPort(t)}, 0, {}};
    if (!unregister) {
      const AdvertisedContact c = contacts_.contactFor(*t.ip, transport);
      const std::string contact = "sip:" + t.config.username + "@" +
                                  sip::Endpoint{c.host, c.port}.toString() +
                                  (transport == sip::Transport::kTcp ? ";transport=tcp" : "");
      if (!t.contact.empty() && contact != t.contact && t.everRegistered) {
        t.oldContact = t.contact;
      }
      t.contact = contact;
      t.behindNat = c.behindNat;
    }
    if (t.contact.empty()) return;  // never registered: nothing to remove
    const AdvertisedContact via = contacts_.contactFor(*t.ip, transport);
    const std::string requestUri = registrarUri(t.config);
    const std::string aor = "sip:" + t.config.username + "@" + domainOf(t.config);
    sip::Message m = sip::Message::request(sip::Method::kRegister, requestUri);
    m.addHeader("Via", "SIP/2.0/" + std::string(sip::transportName(transport)) + " " +
                           sip::Endpoint{via.host, via.port}.toString() + ";rport");
    m.addHeader("Max-Forwards", "70");
    if (!t.config.outboundProxy.empty()) {
      m.addHeader("Route", "<sip:" + t.config.outboundProxy + ";lr>");
    }
    m.addHeader("From", "<" + aor + ">;tag=" + t.fromTag);
    m.addHeader("To", "<" + aor + ">");
    m.addHeader("Call-ID", t.callId);
    m.addHeader("CSeq", std::to_string(++t.cseq) + " REGISTER");
    m.addHeader("Contact", "<" + t.contact + ">");
    if (!unregister && !t.oldContact.empty()) {
      m.addHeader("Contact", "<" + t.oldContact + ">;expires=0");
    }
    m.addHeader("Expires", unregister ? "0" : std::to_string(t.expires));
    t.answeredNonce.clear();
    if (t.challenge) {
      // Answered ahead with the last challenge's nonce (nc counts on); a
      // provider that wants a fresh one says stale=true or challenges anew.
      const auto auth = digest_.authorize(
          *t.challenge, "REGISTER", requestUri,
          {t.config.authUsername.empty() ? t.config.username : t.config.authUsername,
           t.config.password, t.config.realm});
      if (auth.ok()) {
        m.addHeader(t.proxyChallenge ? "Proxy-Authorization" : "Authorization", auth.value);
        t.answeredNonce = t.challenge->nonce;
      }
    }
    if (!options_.userAgent.empty()) m.addHeader("User-Agent", options_.userAgent);
    m.addHeader("Content-Length", "0");
    auto tx = endpoint_.sendRequest(std::move(m), to, this);
    if (!tx) {
      if (unregister) {
        std::erase_if(leaving_, [&t](const auto& p) { return p.get() == &t; });
        return;
      }
      t.ip.reset();
      onRegisterFailure(t, "transport error: " + std::string(tx.error().reason), false);
      return;
    }
    pending_[*tx] = {&t, unregister ? Kind::unreg : Kind::reg};
    if (!unregister) t.regTx = *tx;
  });
}

void TrunkRegistrations::sendOptions(Trunk& trunk) {
  withDestination(trunk, [this](Trunk& t) {
    const sip::Transport transport = transportOf(t.config);
    const sip::Destination to{transport, {*t.ip, destinationPort(t)}, 0, {}};
    const AdvertisedContact c = contacts_.contactFor(*t.ip, transport);
    const std::string aor = "sip:" + t.config.username + "@" + domainOf(t.config);
    sip::Message m = sip::Message::request(sip::Method::kOptions, registrarUri(t.config));
    // (the To line is built from a named string: GCC 12 reports a false
    // -Wrestrict for "<" + temporary)
    m.addHeader("Via", "SIP/2.0/" + std::string(sip::transportName(transport)) + " " +
                           sip::Endpoint{c.host, c.port}.toString() + ";rport");
    m.addHeader("Max-Forwards", "70");
    if (!t.config.outboundProxy.empty()) {
      m.addHeader("Route", "<sip:" + t.config.outboundProxy + ";lr>");
    }
    m.addHeader("From", "<" + aor + ">;tag=" + endpoint_.newTag());
    const std::string uri = registrarUri(t.config);
    m.addHeader("To", "<" + uri + ">");
    m.addHeader("Call-ID", endpoint_.newTag() + endpoint_.newTag() + "@duplex");
    m.addHeader("CSeq", "1 OPTIONS");
    if (!options_.userAgent.empty()) m.addHeader("User-Agent", options_.userAgent);
    m.addHeader("Content-Length", "0");
    auto tx = endpoint_.sendRequest(std::move(m), to, this);
    if (!tx) {
      ++t.keepAliveMisses;
      return;
    }
    pending_[*tx] = {&t, Kind::options};
    t.optionsTx = *tx;
  });
}

// --------------------------------------------------------------- outcomes

void TrunkRegistrations::onResponse(sip::SipEndpoint&, sip::TransactionId id,
                                    const sip::Message& response) {
  if (response.statusCode() < 200) return;
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  auto [trunk, kind] = it->second;
  pending_.erase(it);
  onFinal(*trunk, kind, response);
  notify();
}

void TrunkRegistrations::onClientTimeout(sip::SipEndpoint&, sip::TransactionId id) {
  onNoAnswer(id, 408, "no answer (408 Request Timeout)");
}

void TrunkRegistrations::onTransportError(sip::SipEndpoint&, sip::TransactionId id) {
  onNoAnswer(id, 503, "transport error (503)");
}

void TrunkRegistrations::onNoAnswer(sip::TransactionId id, int status, std::string_view why) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  auto [t, kind] = it->second;
  pending_.erase(it);
  if (kind == Kind::unreg) {
    std::erase_if(leaving_, [t](const auto& p) { return p.get() == t; });
  } else if (kind == Kind::options) {
    t->optionsTx.reset();
    t->lastKeepAliveStatus = status;
    // Two unanswered keep-alives: the provider may have lost our binding
    // (or the NAT its mapping); register again now.
    if (++t->keepAliveMisses >= 2 && t->wantsRegistration() && !t->regTx && !t->stoppedForGood) {
      t->keepAliveMisses = 0;
      t->ip.reset();
      t->registerAt = clock_.now();
    }
  } else {
    t->regTx.reset();
    t->ip.reset();
    onRegisterFailure(*t, std::string(why), false);
  }
  notify();
}

void TrunkRegistrations::onFinal(Trunk& t, Kind kind, const sip::Message& r) {
  const int code = r.statusCode();
  if (kind == Kind::options) {
    t.optionsTx.reset();
    t.lastKeepAliveStatus = code;  // any answer, 405/501 included, kept the path open
    t.keepAliveMisses = 0;
    return;
  }
  if (kind == Kind::reg) t.regTx.reset();
  if (code == 401 || code == 407) {
    std::vector<std::string> values;
    for (auto v : r.headerValues(code == 401 ? "WWW-Authenticate" : "Proxy-Authenticate")) {
      values.emplace_back(v);
    }
    std::string why;
    auto challenge = registrar::strongestDigestChallenge(values, &why);
    const bool sameNonce = challenge && !t.answeredNonce.empty() &&
                           challenge->nonce == t.answeredNonce && !challenge->stale;
    if (kind == Kind::unreg) {
      // One answer at most while leaving.
      if (challenge && !sameNonce && t.challengesInARow++ == 0) {
        t.challenge = challenge;
        t.proxyChallenge = code == 407;
        sendRegister(t, true);
      } else {
        std::erase_if(leaving_, [&t](const auto& p) { return p.get() == &t; });
      }
      return;
    }
    if (!challenge) {
      onRegisterFailure(t, statusText(r) + " with no usable challenge: " + why, false);
      return;
    }
    if (sameNonce || ++t.challengesInARow > 2) {
      t.challenge.reset();
      onRegisterFailure(t, statusText(r) + ": the provider refused the credentials", true);
      return;
    }
    // Test the realm before answering so the error names it.
    if (!t.config.realm.empty() && challenge->realm != t.config.realm) {
      onRegisterFailure(t,
                        statusText(r) + ": challenge for realm \"" + challenge->realm +
                            "\", the trunk is set to realm \"" + t.config.realm + "\"",
                        true);
      return;
    }
    t.challenge = challenge;
    t.proxyChallenge = code == 407;
    sendRegister(t, false);
    return;
  }
  t.challengesInARow = 0;
  if (kind == Kind::unreg) {
    std::erase_if(leaving_, [&t](const auto& p) { return p.get() == &t; });
    return;
  }
  if (code >= 200 && code < 300) {
    std::optional<std::uint32_t> granted;
    if (auto contacts = r.contacts(); contacts) {
      for (const auto& e : contacts->entries) {
        if (e.address.uri.text() == t.contact && e.expires) granted = *e.expires;
      }
      // A provider that rewrites our Contact (received/alias params) but
      // lists only one: that one is ours.
      if (!granted && contacts->entries.size() == 1 && contacts->entries[0].expires) {
        granted = *contacts->entries[0].expires;
      }
    }
    if (!granted) {
      if (auto e = r.expires(); e && e.value()) granted = *e.value();
    }
    onRegistered(t, granted.value_or(t.expires));
    return;
  }
  if (code == 423) {
    const auto min = headerNumber(r, "Min-Expires");
    if (min && *min <= 3600 && *min > t.expires) {
      t.expires = *min;
      sendRegister(t, false);
      return;
    }
    onRegisterFailure(t,
                      statusText(r) + " (Min-Expires " +
                          (min ? std::to_string(*min) : std::string("missing")) + ")",
                      false);
    return;
  }
  if (code == 403 || code == 404) {
    onRegisterFailure(t, statusText(r), true);
    return;
  }
  std::optional<seconds> retryAfter;
  if (code == 503) {
    if (auto ra = headerNumber(r, "Retry-After")) {
      retryAfter = seconds(std::clamp<std::uint32_t>(*ra, 10, 3600));
    }
  }
  onRegisterFailure(t, statusText(r), false, retryAfter);
}

void TrunkRegistrations::onRegistered(Trunk& t, std::uint32_t granted) {
  if (granted == 0) {
    onRegisterFailure(t, "the provider granted an expiry of 0 s", false);
    return;
  }
  t.state = TrunkRegistrationState::registered;
  t.everRegistered = true;
  t.failures = 0;
  t.lastError.clear();
  t.oldContact.clear();
  t.registeredUntil = wallSeconds_() + granted;
  const auto e = static_cast<std::int64_t>(granted);
  std::int64_t refresh = std::min(e / 2, e - 30);
  if (refresh < 5) refresh = std::max<std::int64_t>(e / 2, 1);
  if (t.behindNat && transportOf(t.config) == sip::Transport::kUdp) {
    refresh = std::min<std::int64_t>(refresh, options_.natRefreshCap.count());
  }
  t.registerAt = clock_.now() + seconds(refresh);
  if (t.againAfterThis) {
    t.againAfterThis = false;
    t.registerAt = clock_.now();
  }
  if (options_.keepAlive.count() > 0 && !t.keepAliveAt) {
    t.keepAliveAt = clock_.now() + options_.keepAlive;
  }
}

void TrunkRegistrations::onRegisterFailure(Trunk& t, const std::string& error, bool permanent,
                                           std::optional<seconds> retryAfter) {
  t.state = TrunkRegistrationState::failed;
  t.lastError = error;
  t.registeredUntil.reset();
  t.againAfterThis = false;
  if (permanent) {
    t.stoppedForGood = true;
    t.registerAt.reset();
    return;
  }
  ++t.failures;
  seconds delay = options_.firstRetry;
  for (int i = 1; i < t.failures && delay < options_.maxRetry; ++i) delay *= 2;
  delay = std::min(delay, options_.maxRetry);
  if (retryAfter) delay = *retryAfter;
  t.registerAt = clock_.now() + delay;
}

// ----------------------------------------------------------------- status

std::size_t TrunkRegistrations::pendingUnregisters() const {
  return static_cast<std::size_t>(
      std::count_if(pending_.begin(), pending_.end(),
                    [](const auto& p) { return p.second.second == Kind::unreg; }));
}

std::vector<TrunkRegistrationStatus> TrunkRegistrations::status() const {
  std::vector<TrunkRegistrationStatus> out;
  const auto now = clock_.now();
  const std::int64_t wall = wallSeconds_();
  for (const auto& [id, t] : trunks_) {
    TrunkRegistrationStatus s;
    s.trunkId = id;
    s.name = t->config.name;
    s.enabled = t->config.enabled;
    s.state = t->state;
    s.lastError = t->lastError;
    s.registeredUntil = t->registeredUntil;
    if (t->registerAt && t->wantsRegistration()) {
      s.nextAttempt = wall + std::chrono::ceil<seconds>(
                                 std::max(*t->registerAt - now, TimePoint::duration::zero()))
                                 .count();
    }
    s.contact = t->contact;
    s.behindNat = t->behindNat;
    s.lastKeepAliveStatus = t->lastKeepAliveStatus;
    out.push_back(std::move(s));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace duplex::call
