// The trunk registration client in the daemon; see trunk_wiring.h.
#include "pbx/app/trunk_wiring.h"

#include <netdb.h>
#include <pthread.h>
#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include "admin/json_writer.h"

namespace duplex::app {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto log = spdlog::get("sip");
  return log ? log : spdlog::default_logger();
}

using admin::appendJsonString;

template <class T>
void appendOptional(std::string& out, const std::optional<T>& v) {
  out += v ? std::to_string(*v) : "null";
}

}  // namespace

// ------------------------------------------------------------------ resolver

ThreadHostResolver::ThreadHostResolver(sip::EventLoop& loop) : loop_(loop) {
  worker_ = std::thread([this] { run(); });
}

ThreadHostResolver::~ThreadHostResolver() {
  *alive_ = false;
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void ThreadHostResolver::resolve(
    const std::string& host, std::function<void(std::optional<std::string>, std::string)> done) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back({host, std::move(done)});
  }
  wake_.notify_one();
}

void ThreadHostResolver::run() {
  pthread_setname_np(pthread_self(), "sip-dns");
  while (true) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (stop_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* result = nullptr;
    const int rc = ::getaddrinfo(job.host.c_str(), nullptr, &hints, &result);
    std::optional<std::string> ip;
    std::string error;
    if (rc != 0) {
      error = ::gai_strerror(rc);
    } else {
      // IPv4 first: most providers and NATs are IPv4.
      for (int family : {AF_INET, AF_INET6}) {
        for (addrinfo* a = result; a && !ip; a = a->ai_next) {
          if (a->ai_family != family) continue;
          char text[NI_MAXHOST];
          if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0,
                            NI_NUMERICHOST) == 0) {
            ip = text;
          }
        }
      }
      ::freeaddrinfo(result);
      if (!ip) error = "no IPv4 or IPv6 address";
    }
    // The loop outlives this thread (joined in the destructor, on the loop
    // thread, before the loop goes); `alive` drops results that arrive after.
    loop_.post([alive = alive_, done = std::move(job.done), ip, error] {
      if (*alive) done(ip, error);
    });
  }
}

// ------------------------------------------------------------------ contacts

call::AdvertisedContact AddressBookContacts::contactFor(std::string_view providerIp,
                                                        sip::Transport transport) const {
  if (book_ != nullptr) {
    const nat::AddressBookSnapshot book = book_->current();
    if (book) {
      const auto a = book->advertisedFor(
          providerIp, transport == sip::Transport::kTcp ? nat::Protocol::kTcp : nat::Protocol::kUdp,
          sipPort_);
      if (!a.host.empty()) {
        bool ours = false;
        for (const auto& i : book->data().interfaces) ours = ours || i.address == a.host;
        return {a.host, a.port ? a.port : sipPort_, !a.lan && !ours};
      }
    }
  }
  const std::string host = configured_.advertisedFor(providerIp, "");
  return {host, sipPort_, !configured_.isLocal(providerIp)};
}

// ------------------------------------------------------------------- wiring

TrunkWiring::TrunkWiring(sip::EventLoop& loop, sip::SipEndpoint& endpoint, const SipConfig& sip,
                         std::uint16_t sipPort, CallWiring& calls, const CallServices& services,
                         std::function<void()> afterSend,
                         std::function<void(std::string)> publishStatus)
    : loop_(loop),
      calls_(calls),
      afterSend_(std::move(afterSend)),
      publishStatus_(std::move(publishStatus)),
      timer_(loop),
      shutdownTimer_(loop),
      nat_(services.nat) {
  const std::string lan = sip.bind == "0.0.0.0" || sip.bind == "::" ? std::string() : sip.bind;
  configured_ = std::make_unique<call::ConfiguredAddressChoice>(services.mainAddress,
                                                                services.localNetworks, lan);
  contacts_ = std::make_unique<AddressBookContacts>(
      services.nat ? &services.nat->addressBook() : nullptr, *configured_, sipPort);
  resolver_ = std::make_unique<ThreadHostResolver>(loop);
  call::TrunkRegistrations::Options options;
  options.userAgent = sip.user_agent;
  options.keepAlive = std::chrono::seconds(sip.registrar.keepalive_interval);
  registrations_ = std::make_unique<call::TrunkRegistrations>(
      endpoint, clock_,
      [] {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      },
      *contacts_, *resolver_, options);
  registrations_->setObserver([this] { changed(); });
  calls_.setTrunksObserver([this] {
    registrations_->update(calls_.trunkDirectory().trunks());
    arm();
    if (afterSend_) afterSend_();
  });
  if (nat_ != nullptr) {
    // On the NAT worker: hand over to the loop (listener rules,
    // nat/address_book_publisher.h).
    subscription_ = nat_->addressBook().subscribe(
        [this, alive = std::weak_ptr<bool>(alive_)](const nat::AddressBookSnapshot&,
                                                    const nat::AddressBookChange& change) {
          if (!change.any()) return;
          loop_.post([this, alive] {
            if (alive.expired()) return;
            logger()->info("trunks: our address changed; registering again");
            registrations_->addressChanged();
            arm();
            if (afterSend_) afterSend_();
          });
        });
  }
  registrations_->update(calls_.trunkDirectory().trunks());
  arm();
  if (afterSend_) afterSend_();
}

TrunkWiring::~TrunkWiring() {
  if (nat_ != nullptr) nat_->addressBook().unsubscribe(subscription_);
  alive_.reset();
  calls_.setTrunksObserver({});
  timer_.cancel();
  shutdownTimer_.cancel();
  registrations_.reset();
  resolver_.reset();
}

// One log line per state change of a trunk: what an operator greps for.
void TrunkWiring::logTransitions() {
  std::map<std::int64_t, std::pair<call::TrunkRegistrationState, std::string>> now;
  for (const auto& s : registrations_->status()) {
    now[s.trunkId] = {s.state, s.lastError};
    auto old = logged_.find(s.trunkId);
    if (old != logged_.end() && old->second == now[s.trunkId]) continue;
    if (s.state == call::TrunkRegistrationState::failed) {
      logger()->warn("trunk {}: registration failed: {}{}", s.name, s.lastError,
                     s.nextAttempt ? "; retrying" : "; not retried until its settings change");
    } else {
      logger()->info("trunk {}: {}{}", s.name, call::toString(s.state),
                     s.contact.empty() ? "" : " (contact " + s.contact + ")");
    }
  }
  logged_ = std::move(now);
}

void TrunkWiring::changed() {
  arm();
  logTransitions();
  std::string json = statusJson();
  if (json != lastStatus_) {
    lastStatus_ = json;
    if (publishStatus_) publishStatus_(std::move(json));
  }
}

void TrunkWiring::arm() {
  const auto next = registrations_->nextDeadline();
  if (!next) {
    timer_.cancel();
    return;
  }
  const auto now = clock_.now();
  const auto delay = *next > now ? std::chrono::ceil<std::chrono::milliseconds>(*next - now)
                                 : std::chrono::milliseconds(0);
  timer_.start(delay, [this] {
    registrations_->onTimer(clock_.now());
    if (afterSend_) afterSend_();
    arm();
  });
}

void TrunkWiring::shutdown(std::function<void()> done) {
  calls_.setTrunksObserver({});
  registrations_->stop();
  if (afterSend_) afterSend_();
  const auto deadline = clock_.now() + kShutdownGrace;
  auto poll = std::make_shared<std::function<void()>>();
  *poll = [this, done = std::move(done), deadline, poll] {
    if (registrations_->pendingUnregisters() == 0 || clock_.now() >= deadline) {
      auto finish = std::move(done);
      *poll = nullptr;  // breaks the self-reference
      finish();
      return;
    }
    shutdownTimer_.start(std::chrono::milliseconds(50), [poll] {
      if (*poll) (*poll)();
    });
  };
  (*poll)();
}

std::string TrunkWiring::statusJson() const {
  std::string out = "[";
  bool first = true;
  for (const auto& s : registrations_->status()) {
    out += first ? "{" : ",{";
    first = false;
    out += "\"id\":" + std::to_string(s.trunkId) + ",\"name\":";
    appendJsonString(out, s.name);
    out += std::string(",\"enabled\":") + (s.enabled ? "true" : "false") + ",\"state\":";
    appendJsonString(out, call::toString(s.state));
    out += ",\"last_error\":";
    appendJsonString(out, s.lastError);
    out += ",\"registered_until\":";
    appendOptional(out, s.registeredUntil);
    out += ",\"next_attempt\":";
    appendOptional(out, s.nextAttempt);
    out += ",\"contact\":";
    appendJsonString(out, s.contact);
    out += std::string(",\"behind_nat\":") + (s.behindNat ? "true" : "false");
    out += ",\"keepalive_status\":";
    appendOptional(out, s.lastKeepAliveStatus);
    out += "}";
  }
  return out + "]";
}

}  // namespace duplex::app
