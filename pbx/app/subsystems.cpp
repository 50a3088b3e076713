#include "pbx/app/subsystems.h"

#include "db/error.h"
#include "pbx/app/exit_codes.h"
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

AdminSubsystem::AdminSubsystem(const AdminConfig& config)
    : ComponentSubsystem("admin"),
      bind_(config.bind),
      server_(admin::AdminServerOptions{config.bind, config.port, config.threads, DUPLEX_VERSION}) {
}

void AdminSubsystem::start() {
  try {
    server_.start();
  } catch (const admin::AdminError& e) {
    const std::string key =
        e.kind() == admin::AdminError::Kind::kAddressNotAvailable ? "admin.bind" : "admin.port";
    throw StartupError(key + ": admin HTTP " + e.what(), e.kind() == admin::AdminError::Kind::kOther
                                                             ? kExitSoftware
                                                             : kExitUnavailable);
  }
}

}  // namespace duplex::app
