#include "pbx/app/subsystems.h"

#include <unistd.h>

#include <Poco/Exception.h>
#include <Poco/Util/Application.h>

#include <climits>

#include "admin/tls_certificate.h"
#include "db/error.h"
#include "pbx/app/active_calls_view.h"
#include "pbx/app/admin_wiring.h"
#include "pbx/app/exit_codes.h"
#include "pbx/app/media_subsystem.h"
#include "pbx/app/nat_subsystem.h"
#include "pbx/app/sip_subsystem.h"
#include "pbx/app/startup_error.h"

namespace duplex::app {

void DatabaseSubsystem::start() {
  try {
    database_ = std::make_unique<db::Database>(path_);
  } catch (const db::SchemaTooNewError& e) {
    throw StartupError(std::string("db.path: ") + e.what(), kExitDataErr);
  } catch (const db::MigrationError& e) {
    throw StartupError(std::string("db.path: ") + e.what(), kExitDataErr);
  } catch (const std::exception& e) {
    throw StartupError(std::string("db.path: ") + e.what(), kExitCantCreate);
  }
  log().info("database {} (schema version {})", path_, database_->schemaVersion());
}

void DatabaseSubsystem::stop() {
  database_.reset();
  log().info("database closed");
}

void PlaceholderSubsystem::start() {
  log().debug("{}: nothing to start yet; the component arrives with {}", name(), arrives_with_);
}

namespace {

std::string hostName() {
  char name[HOST_NAME_MAX + 1] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

template <class T>
T* optionalSubsystem() {
  try {
    return &Poco::Util::Application::instance().getSubsystem<T>();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

// Where nat.upnp and the RTP range go when the admin changes them: the NAT
// service (router mappings, forwarding plan) and the media relay (port pool).
LiveSettingTargets liveSettingTargets() {
  LiveSettingTargets targets;
  auto* nat = optionalSubsystem<NatSubsystem>();
  auto* media = optionalSubsystem<MediaSubsystem>();
  if (nat) targets.setUpnp = [nat](bool on) { return nat->setUpnp(on); };
  if (media) {
    targets.rtpRange = [media]() -> std::optional<std::pair<std::uint16_t, std::uint16_t>> {
      if (!media->relay()) return std::nullopt;
      return media->relay()->portRange();
    };
    targets.setRtpRange = [media, nat](std::uint16_t min, std::uint16_t max) -> std::string {
      if (!media->relay()) return "the media relay is not running";
      std::string error = media->relay()->setPortRange(min, max);
      // One range for relay and router (relayConfigFrom()).
      if (error.empty() && nat && nat->service()) nat->service()->setRtpRange(min, max);
      return error;
    };
  }
  return targets;
}

}  // namespace

AdminSubsystem::AdminSubsystem(const AdminConfig& config, std::string dataDir, std::string realm)
    : ComponentSubsystem("admin"),
      config_(config),
      dataDir_(std::move(dataDir)),
      realm_(realm.empty() ? hostName() : std::move(realm)) {}

AdminSubsystem::~AdminSubsystem() = default;

void AdminSubsystem::start() {
  admin::AdminServerOptions options;
  options.bind = config_.bind;
  options.port = config_.port;
  options.threads = config_.threads;
  options.version = DUPLEX_VERSION;
  options.realm = realm_;
  if (config_.session_lifetime.count() > 0)
    options.sessionLifetime = config_.session_lifetime.count();
  if (auto* database = optionalSubsystem<DatabaseSubsystem>(); database && database->database()) {
    try {
      prepareAdminPassword(*database->database(), dataDir_, config_.reset_password);
    } catch (const std::exception& e) {
      throw StartupError(std::string("admin: cannot set up the admin password: ") + e.what(),
                         kExitCantCreate);
    }
    options.dbPath = database->database()->path();
  }
  if (config_.https) {
    try {
      if (admin::ensureSelfSignedCertificate(config_.cert_file, config_.key_file, hostName())) {
        log().warn("admin: generated a self-signed certificate {} (replace it with your own)",
                   config_.cert_file);
      }
    } catch (const std::exception& e) {
      throw StartupError(std::string("admin.cert: ") + e.what(), kExitCantCreate);
    }
    options.https = true;
    options.certFile = config_.cert_file;
    options.keyFile = config_.key_file;
  }
  if (auto* sip = optionalSubsystem<SipSubsystem>()) {
    live_ = std::make_unique<RegistrarLiveChanges>(
        [sip](std::function<void(RegistrarWiring&, RegistrarStartup&)> task) {
          return sip->postToRegistrar(std::move(task));
        },
        [sip](std::function<void(CallWiring&)> task) { return sip->postToCalls(std::move(task)); },
        liveSettingTargets());
    options.live = live_.get();
    options.status.trunks = sip;
    // The calls in progress for GET /api/v1/status, from the SIP loop.
    calls_ = std::make_unique<SipActiveCallsView>(
        callControlSource([sip](std::function<void(CallWiring*)> task) {
          return sip->postToCallControl(std::move(task));
        }));
    options.status.calls = calls_.get();
  }
  // NAT's status for GET /api/v1/status (and the page's Router panel).
  if (auto* nat = optionalSubsystem<NatSubsystem>()) options.status.nat = nat;
  server_ = std::make_unique<admin::AdminServer>(std::move(options));
  try {
    server_->start();
  } catch (const admin::AdminError& e) {
    const auto kind = e.kind();
    server_.reset();
    if (kind == admin::AdminError::Kind::kTls) {
      throw StartupError(std::string("admin.cert: ") + e.what(), kExitCantCreate);
    }
    const std::string key =
        kind == admin::AdminError::Kind::kAddressNotAvailable ? "admin.bind" : "admin.port";
    throw StartupError(key + ": admin HTTP " + e.what(),
                       kind == admin::AdminError::Kind::kOther ? kExitSoftware : kExitUnavailable);
  }
  if (config_.https) log().info("admin API on HTTPS (certificate {})", config_.cert_file);
}

void AdminSubsystem::stop() {
  if (server_) server_->stop();
  server_.reset();
  live_.reset();
  calls_.reset();
}

}  // namespace duplex::app
