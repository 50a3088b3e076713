// The daemon's side of the admin API's live changes (admin/live_changes.h):
// extension changes rebuild the registrar's credential cache and drop the
// bindings of deleted or disabled extensions on the SIP loop; trunk, route
// and inbound-number changes and the dialing.* settings make call control
// re-read its trunk directory; applied at once are log.level, nat.upnp (off
// removes the PBX's mappings from the router, on maps them again) and the
// RTP range media.rtp_port_min/max (new calls take ports from the new range,
// calls in progress keep theirs, the router's RTP mappings and the manual
// forwarding plan follow). Every other setting is reported as needing a
// restart, and so is a live key set back to its default (null: the default
// comes from the config file or command line, which only a start reads) or
// a range the running relay refuses.
// Also the admin password's first-start generation and reset.
//
// For: AdminSubsystem (subsystems.h). Thread: extensionsChanged() and
// settingsChanged() on admin worker threads (they build what they can there
// and post the rest to the SIP loop, never waiting for it);
// prepareAdminPassword() on the main thread at start.
// Errors: prepareAdminPassword() throws std::runtime_error / db::DbError
// (start-up); the LiveChanges members never throw (a loop that is not
// running only means the change applies at the next start; logged).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "admin/live_changes.h"
#include "db/database.h"
#include "pbx/app/call_wiring.h"
#include "pbx/app/config.h"
#include "pbx/app/registrar_wiring.h"

namespace duplex::app {

// Runs a task on the SIP loop with the registrar; false when it is not running.
using RegistrarPoster =
    std::function<bool(std::function<void(RegistrarWiring&, RegistrarStartup&)>)>;

// Runs a task on the SIP loop with call control; false when it is not running.
using CallsPoster = std::function<bool(std::function<void(CallWiring&)>)>;

// The running components a live setting reaches (empty = not running: the
// key then needs a restart). Called on admin worker threads; each must be
// thread-safe and quick (MediaRelay and NatService are).
struct LiveSettingTargets {
  // nat.upnp: false when NAT traversal is not running.
  std::function<bool(bool on)> setUpnp;
  // The relay's current RTP range, for a change of one end only.
  std::function<std::optional<std::pair<std::uint16_t, std::uint16_t>>()> rtpRange;
  // "" when applied (relay and router mappings), else why not.
  std::function<std::string(std::uint16_t min, std::uint16_t max)> setRtpRange;
};

class RegistrarLiveChanges final : public admin::LiveChanges {
 public:
  explicit RegistrarLiveChanges(RegistrarPoster post, CallsPoster postToCalls = {},
                                LiveSettingTargets targets = {})
      : post_(std::move(post)),
        postToCalls_(std::move(postToCalls)),
        targets_(std::move(targets)) {}
  void extensionsChanged(admin::ExtensionsChange change) override;
  // dialing.* and log.level apply at once.
  std::vector<std::string> settingsChanged(
      const std::vector<admin::SettingChange>& changes) override;
  // The RTP range after the change, with the relay's current range for an
  // end not changed, must hold an RTP/RTCP pair.
  std::optional<admin::SettingProblem> checkSettings(
      const std::vector<admin::SettingChange>& changes) override;
  // Re-reads the trunk directory on the SIP loop now (which re-registers
  // the trunks whose settings changed).
  void trunksChanged() override;

 private:
  bool reloadTrunks();

  RegistrarPoster post_;
  CallsPoster postToCalls_;
  LiveSettingTargets targets_;
};

// The settings the admin API stored (db/settings_repository.h) as raw config
// values, for the keys duplex.conf knows: they sit between the config file
// and the command line (DuplexApp's start-up). Empty when the database file
// does not exist yet. Main thread, before the application starts. Throws
// db::DbError (the caller reports it and starts without them).
RawValues storedSettings(const std::string& dbPath);

// First start: generates the admin password, prints it once on stdout and
// writes it to <dataDir>/admin-password.txt (mode 0600). With `reset`, does
// so even if one exists and ends every session. Otherwise does nothing.
void prepareAdminPassword(db::Database& db, const std::string& dataDir, bool reset);

}  // namespace duplex::app
