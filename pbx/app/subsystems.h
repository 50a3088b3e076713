// DuplexApp's subsystems other than SIP (sip_subsystem.h): the database, the
// admin HTTP server, and the placeholders for the components whose issues are
// still to come (registrar, media, nat). See component_subsystem.h for the
// start/stop contract. Main thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "admin/admin_server.h"
#include "db/database.h"
#include "pbx/app/component_subsystem.h"
#include "pbx/app/config.h"

namespace duplex::app {

// Opens db.path, which applies pending migrations. Failures: a database that
// cannot be opened or created -> kExitCantCreate; a migration that failed or
// a schema newer than this binary -> kExitDataErr. Closed on stop().
class DatabaseSubsystem final : public ComponentSubsystem {
 public:
  explicit DatabaseSubsystem(std::string path) : ComponentSubsystem("db"), path_(std::move(path)) {}
  // The start-up connection (main thread only; other threads open their own).
  db::Database* database() const { return database_.get(); }

 private:
  void start() override;
  void stop() override;

  std::string path_;
  std::unique_ptr<db::Database> database_;
};

// A component that arrives with a later issue: it only says so (debug).
class PlaceholderSubsystem final : public ComponentSubsystem {
 public:
  PlaceholderSubsystem(std::string component, std::string arrives_with)
      : ComponentSubsystem(std::move(component)), arrives_with_(std::move(arrives_with)) {}

 private:
  void start() override;
  void stop() override {}

  std::string arrives_with_;
};

// The registrar (bindings, digest authentication); placeholder for now.
inline PlaceholderSubsystem* makeRegistrarSubsystem() {
  return new PlaceholderSubsystem("registrar", "the registrar issue (bindings, digest auth)");
}
// The media relay (RTP/RTCP, port pool): media_subsystem.h.
class MediaSubsystem;
MediaSubsystem* makeMediaSubsystem(const Config& config);
// NAT traversal (address book, UPnP, STUN, DynDNS): nat_subsystem.h.
class NatSubsystem;
NatSubsystem* makeNatSubsystem(const Config& config);

// The admin HTTP(S) API and web page on admin.bind:admin.port. At start:
// generates the admin password if there is none (or admin.reset_password),
// the self-signed certificate if admin.https and the files are missing, and
// wires the live changes to the SIP subsystem's registrar (admin_wiring.h).
// Failures: a port in use, an address not on this machine or a privileged
// port -> kExitUnavailable; a certificate that cannot be made or loaded, or
// a password file that cannot be written -> kExitCantCreate.
class AdminSubsystem final : public ComponentSubsystem {
 public:
  // `dataDir` holds admin-password.txt; `realm` is registrar.realm ("" =
  // the host name), the realm of the HA1 values of new SIP passwords.
  explicit AdminSubsystem(const AdminConfig& config, std::string dataDir = "",
                          std::string realm = "");
  ~AdminSubsystem() override;
  std::uint16_t boundPort() const { return server_ ? server_->boundPort() : 0; }
  const std::string& bindAddress() const { return config_.bind; }

 private:
  void start() override;
  void stop() override;

  AdminConfig config_;
  std::string dataDir_;
  std::string realm_;
  std::unique_ptr<admin::LiveChanges> live_;
  std::unique_ptr<admin::ActiveCallsView> calls_;
  std::unique_ptr<admin::AdminServer> server_;
};

}  // namespace duplex::app
