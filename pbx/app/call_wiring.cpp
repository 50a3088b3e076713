// Call control on the SIP loop; see call_wiring.h.
#include "pbx/app/call_wiring.h"

#include <spdlog/spdlog.h>

#include <Poco/Exception.h>
#include <Poco/Util/Application.h>

#include "db/database.h"
#include "db/sqlite_repositories.h"
#include "pbx/app/media_subsystem.h"
#include "pbx/app/nat_subsystem.h"
#include "pbx/app/trunk_wiring.h"

namespace duplex::app {
namespace {

registrar::Instant wallNow() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::vector<registrar::DigestAlgorithm> algorithmsOf(std::string_view order) {
  std::vector<registrar::DigestAlgorithm> out;
  while (!order.empty()) {
    const std::size_t comma = order.find(',');
    out.push_back(order.substr(0, comma) == "md5" ? registrar::DigestAlgorithm::kMd5
                                                  : registrar::DigestAlgorithm::kSha256);
    order = comma == std::string_view::npos ? std::string_view{} : order.substr(comma + 1);
  }
  return out;
}

template <class S>
S* findSubsystem() {
  try {
    return &Poco::Util::Application::instance().getSubsystem<S>();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

// Without a relay (tests of the SIP stack alone) every call gets 503.
class NoMedia final : public call::MediaSessions {
 public:
  SessionId create(std::string_view) override { return 0; }
  call::SdpRewrite rewrite(SessionId, call::CallSide, std::string_view, std::string_view,
                           std::string_view) override {
    return {{}, 500, "No media relay"};
  }
  void answered(SessionId) override {}
  void release(SessionId, std::function<void(Facts)> done) override {
    if (done) done(Facts{});
  }
};

std::shared_ptr<spdlog::logger> logger() {
  auto log = spdlog::get("sip");
  return log ? log : spdlog::default_logger();
}

}  // namespace

CallServices findCallServices(std::function<void(std::function<void(CallWiring&)>)> postToCalls) {
  CallServices services;
  services.localNetworks = {"127.0.0.0/8",    "10.0.0.0/8", "172.16.0.0/12",
                            "192.168.0.0/16", "::1/128",    "fc00::/7"};
  if (auto* media = findSubsystem<MediaSubsystem>()) {
    services.relay = media->relay();
    // Events exist only for sessions, which call control creates after this
    // (on the SIP loop, through the relay's queue): setting the handler now,
    // before any session, is ordered before every event.
    media->setEventHandler([post = std::move(postToCalls)](const media::MediaEvent& event) {
      post([event](CallWiring& calls) { calls.onRelayEvent(event); });
    });
  }
  if (auto* nat = findSubsystem<NatSubsystem>()) services.nat = nat->service();
  return services;
}

CallWiring::CallWiring(sip::EventLoop& loop, sip::SipEndpoint& endpoint, const SipConfig& sip,
                       const registrar::Registrar& registrar, RegistrarStartup& startup,
                       const CallServices& services, std::function<void()> afterSend)
    : loop_(loop),
      endpoint_(endpoint),
      afterSend_(std::move(afterSend)),
      authenticator_(startup.nonceSecret, startup.realm, failures_,
                     registrar::DigestAuthenticator::Options{
                         .nonceLifetimeSeconds = sip.registrar.nonce_lifetime,
                         .algorithms = algorithmsOf(sip.registrar.digest_algorithms)}),
      timer_(loop) {
  db_ = std::make_unique<db::Database>(startup.dbPath);  // the loop thread's own connection
  {
    db::SqliteTrunkRepository trunks(*db_);
    db::SqliteOutboundRouteRepository routes(*db_);
    db::SqliteInboundNumberRepository numbers(*db_);
    db::SqliteSettingsRepository settings(*db_);
    trunks_ = std::make_unique<call::RepositoryTrunkDirectory>(
        call::TrunkSources{trunks, routes, numbers, settings});
  }
  records_ = std::make_unique<call::CallRecordWriter>(startup.dbPath);
  const std::string lan = sip.bind == "0.0.0.0" || sip.bind == "::" ? std::string() : sip.bind;
  configured_ = std::make_unique<call::ConfiguredAddressChoice>(services.mainAddress,
                                                                services.localNetworks, lan);
  const call::AddressChoice* addresses = configured_.get();
  if (services.nat != nullptr) {
    addressBook_ = std::make_unique<call::AddressBookChoice>(services.nat->addressBook(),
                                                             *configured_, sip.port);
    addresses = addressBook_.get();
  }
  if (services.relay != nullptr) {
    auto relay = std::make_unique<call::RelayMediaSessions>(
        *services.relay, [this](const call::MediaEvent& e) { b2bua_->onMediaEvent(e); });
    relayMedia_ = relay.get();
    if (services.nat != nullptr) {
      // On-demand RTP mappings (nat/port_mapper.h), and ports the router
      // already forwards are picked first so the mapping table stays small.
      relay->mapPortsWith(services.nat);
      nat::AddressBookPublisher* book = &services.nat->addressBook();
      services.relay->setPortPreference([book](std::uint16_t port) {
        return book->current()->externalPort(nat::Protocol::kUdp, port).has_value();
      });
    }
    media_ = std::move(relay);
  } else {
    media_ = std::make_unique<NoMedia>();
  }
  call::CallSettings settings;
  settings.noAnswerTimeout = sip.call.no_answer_timeout;
  settings.followRedirectsInternal = sip.call.follow_redirects_internal;
  settings.maxForwards = static_cast<std::uint32_t>(sip.call.max_forwards);
  settings.serverHeader = sip.user_agent;
  settings.sipPort = sip.port;
  settings.t1 = sip.t1;
  settings.t2 = sip.t2;
  b2bua_ = std::make_unique<call::B2bua>(
      call::B2bua::Services{endpoint_, clock_, wallNow, authenticator_, *startup.credentials,
                            *startup.directory, registrar, *addresses, *media_, *records_},
      settings);
  trunkResolver_ =
      std::make_unique<call::TrunkAddressResolver>(trunkAddresses_, call::resolveHostBlocking);
  trunkResolver_->request(trunks_->trunks());
  trunkContacts_ = std::make_unique<AddressBookContacts>(
      services.nat != nullptr ? &services.nat->addressBook() : nullptr, *configured_, sip.port);
  b2bua_->setTrunks(*trunks_, trunkAddresses_, trunkContacts_.get());
  b2bua_->setScheduleObserver([this] { arm(); });
  for (sip::Method m : {sip::Method::kInvite, sip::Method::kBye, sip::Method::kUpdate,
                        sip::Method::kInfo, sip::Method::kPrack}) {
    endpoint_.setHandler(m, b2bua_.get());
  }
  logger()->info("call control: {} media relay, addresses from {}",
                 services.relay ? "with" : "WITHOUT",
                 services.nat ? "the NAT address book" : "the configuration");
}

CallWiring::~CallWiring() {
  timer_.cancel();
  for (sip::Method m : {sip::Method::kInvite, sip::Method::kBye, sip::Method::kUpdate,
                        sip::Method::kInfo, sip::Method::kPrack}) {
    endpoint_.setHandler(m, nullptr);
  }
  b2bua_.reset();
  trunkResolver_.reset();  // waits for a look-up in progress
  media_.reset();
  if (records_) records_->stop();  // commits the queued call records
}

void CallWiring::onRelayEvent(const media::MediaEvent& event) {
  if (relayMedia_ != nullptr) relayMedia_->onEvent(event);
  arm();
  if (afterSend_) afterSend_();
}

void CallWiring::activeCalls(ActiveCallsDone done) {
  std::vector<call::CallSnapshot> calls = b2bua_->activeCalls();
  if (relayMedia_ == nullptr || calls.empty()) {
    done(std::move(calls), {});
    return;
  }
  std::vector<call::MediaSessions::SessionId> sessions;
  for (const auto& c : calls) {
    if (c.mediaSession != 0) sessions.push_back(c.mediaSession);
  }
  relayMedia_->collectStats(sessions,
                            [calls = std::move(calls), done = std::move(done)](
                                call::RelayMediaSessions::LiveFactsBySession facts) mutable {
                              done(std::move(calls), std::move(facts));
                            });
}

void CallWiring::reloadTrunks() {
  try {
    db::SqliteTrunkRepository trunks(*db_);
    db::SqliteOutboundRouteRepository routes(*db_);
    db::SqliteInboundNumberRepository numbers(*db_);
    db::SqliteSettingsRepository settings(*db_);
    trunks_->reload(call::TrunkSources{trunks, routes, numbers, settings});
  } catch (const std::exception& e) {  // keep the last good cache
    logger()->warn("call control: trunks not reloaded: {}", e.what());
    return;
  }
  // New or changed trunk hosts are resolved again (off this thread).
  if (trunkResolver_) trunkResolver_->request(trunks_->trunks());
  if (trunksObserver_) trunksObserver_();
}

void CallWiring::arm() {
  const auto next = b2bua_ ? b2bua_->nextDeadline() : std::nullopt;
  if (!next) return;
  if (armedFor_ && timer_.armed() && *armedFor_ <= *next) return;
  armedFor_ = *next;
  const auto now = clock_.now();
  const auto delay = *next > now ? std::chrono::ceil<std::chrono::milliseconds>(*next - now)
                                 : std::chrono::milliseconds(0);
  timer_.start(delay, [this] {
    armedFor_.reset();
    b2bua_->onTimer(clock_.now());
    if (afterSend_) afterSend_();
    arm();
  });
}

}  // namespace duplex::app
