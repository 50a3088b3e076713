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
// The media relay (RTP/RTCP, port pool); placeholder for now.
inline PlaceholderSubsystem* makeMediaSubsystem() {
  return new PlaceholderSubsystem("media", "the media relay issue (RTP relay, SDP rewriting)");
}
// NAT traversal (address book, UPnP, STUN, DynDNS): nat_subsystem.h.
class NatSubsystem;
NatSubsystem* makeNatSubsystem(const Config& config);

// The admin HTTP API on admin.bind:admin.port. A port in use, an address not
// on this machine or a privileged port -> kExitUnavailable.
class AdminSubsystem final : public ComponentSubsystem {
 public:
  explicit AdminSubsystem(const AdminConfig& config);
  std::uint16_t boundPort() const { return server_.boundPort(); }
  const std::string& bindAddress() const { return bind_; }

 private:
  void start() override;
  void stop() override { server_.stop(); }

  std::string bind_;
  admin::AdminServer server_;
};

}  // namespace duplex::app
