// The registrar on the SIP loop; see registrar_wiring.h.
#include "pbx/app/registrar_wiring.h"

#include <malloc.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <climits>

#include "db/sqlite_repositories.h"

namespace duplex::app {
namespace {

registrar::Instant wallNow() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string hostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// auth.algorithms: "sha256,md5" and friends (validated by the config table).
std::vector<registrar::DigestAlgorithm> digestAlgorithms(std::string_view order) {
  std::vector<registrar::DigestAlgorithm> algorithms;
  while (!order.empty()) {
    const std::size_t comma = order.find(',');
    const std::string_view name = order.substr(0, comma);
    algorithms.push_back(name == "md5" ? registrar::DigestAlgorithm::kMd5
                                       : registrar::DigestAlgorithm::kSha256);
    order = comma == std::string_view::npos ? std::string_view{} : order.substr(comma + 1);
  }
  return algorithms;
}

registrar::RegistrarConfig registrarConfig(const RegistrarSettings& s) {
  registrar::RegistrarConfig c;
  c.minExpires = static_cast<std::uint32_t>(s.min_expires);
  c.maxExpires = static_cast<std::uint32_t>(s.max_expires);
  c.defaultExpires = c.maxExpires;
  c.maxContactsPerExtension = static_cast<std::size_t>(s.max_contacts);
  c.limitMode = s.reject_over_limit ? registrar::ContactLimitMode::reject
                                    : registrar::ContactLimitMode::replaceOldest;
  if (s.nat_max_expires > 0) c.natMaxExpires = static_cast<std::uint32_t>(s.nat_max_expires);
  c.keepAliveIntervalSeconds = static_cast<std::uint32_t>(s.keepalive_interval);
  c.keepAliveKind =
      s.keepalive_crlf ? registrar::KeepAliveKind::crlf : registrar::KeepAliveKind::options;
  c.keepAliveMaxFailures = static_cast<std::uint32_t>(s.keepalive_failures);
  return c;
}

// Loads the unexpired bindings through a connection of the loop thread's own
// (one connection per thread, db/db.h), closed again at once.
std::size_t loadBindings(registrar::Registrar& registrar, const std::string& dbPath) {
  db::Database db(dbPath);
  db::SqliteBindingRepository bindings(db);
  return registrar.loadFrom(bindings, wallNow());
}

}  // namespace

RegistrarStartup::RegistrarStartup(const RegistrarSettings& settings, db::Database& db,
                                   std::string path)
    : dbPath(std::move(path)), realm(settings.realm.empty() ? hostName() : settings.realm) {
  db::SqliteSecretRepository secrets(db);
  nonceSecret = secrets.getOrCreate("digest-nonce", 32);
  db::SqliteExtensionRepository extensions(db);
  credentials = std::make_unique<call::RepositoryCredentialSource>(extensions);
  directory = std::make_unique<call::RepositoryExtensionDirectory>(extensions);
  writer = std::make_unique<registrar::BindingWriter>(dbPath);
}

void RegistrarStartup::shutdown() {
  if (!writer) return;
  writer->flush();
  writer->stop();
}

RegistrarWiring::RegistrarWiring(sip::EventLoop& loop, sip::SipEndpoint& endpoint,
                                 const RegistrarSettings& settings, RegistrarStartup& startup,
                                 std::function<void()> afterSend)
    : endpoint_(endpoint),
      afterSend_(std::move(afterSend)),
      registrar_(registrarConfig(settings), *startup.writer),
      authenticator_(startup.nonceSecret, startup.realm, failures_,
                     registrar::DigestAuthenticator::Options{
                         .nonceLifetimeSeconds = settings.nonce_lifetime,
                         .algorithms = digestAlgorithms(settings.digest_algorithms)}),
      handler_(registrar_, authenticator_, *startup.credentials, wallNow),
      timer_(loop) {
  const std::size_t loadedBindings = loadBindings(registrar_, startup.dbPath);
  auto log = spdlog::get("registrar");
  if (!log) log = spdlog::default_logger();
  log->info("registrar: realm {}, {} extensions, {} bindings loaded", startup.realm,
            startup.credentials->size(), loadedBindings);
  endpoint_.setHandler(sip::Method::kRegister, &handler_);
  endpoint_.setClientHandler(&handler_);
  arm();
}

RegistrarWiring::~RegistrarWiring() {
  timer_.cancel();
  endpoint_.setHandler(sip::Method::kRegister, nullptr);
  endpoint_.setClientHandler(nullptr);
}

// One timer at the handler's next deadline: the earliest keep-alive or the
// next expiry sweep (at most RegisterHandler::kExpirySweep away).
void RegistrarWiring::arm() {
  const registrar::Instant now = wallNow();
  const registrar::Instant next = handler_.nextDeadline(now);
  const auto delay =
      next > now ? std::chrono::milliseconds((next - now).count()) : std::chrono::milliseconds(0);
  timer_.start(delay, [this] {
    handler_.onTimer(endpoint_, wallNow());
    if (afterSend_) afterSend_();
    returnFreedMemory();
    arm();
  });
}

void RegistrarWiring::returnFreedMemory() {
  constexpr std::uint64_t kWorthTrimming = 5'000;  // transactions freed, ~5-10 MB
  const std::uint64_t live = endpoint_.transactions().stats().live;
  peakTransactions_ = std::max(peakTransactions_, live);
  // Only once a burst has receded (a quarter of its peak left): under
  // steady load the freed memory is about to be used again, and trimming
  // it would cost the SIP loop the trim and then a page fault per page.
  if (peakTransactions_ - live < kWorthTrimming || live * 4 > peakTransactions_) return;
  malloc_trim(0);
  peakTransactions_ = live;
}

}  // namespace duplex::app
