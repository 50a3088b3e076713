// How admin changes reach the running PBX without a restart. The admin API
// calls these after it committed a change to the database; the daemon
// (pbx/app/admin_wiring.h) implements them by posting to the thread that owns
// the state (the SIP loop for the registrar's credential cache and bindings).
//
// For: admin/ (caller), pbx/app (implementation), tests (a recording fake).
// Thread: called on an admin worker thread; implementations must not block
// for long (post and return) and must not throw.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/extension_repository.h"

namespace duplex::admin {

struct ExtensionsChange {
  // Every extension as stored after the change (the credential cache is
  // rebuilt from this: a new extension registers at once, a new password
  // counts from the next challenge).
  std::vector<db::ExtensionRecord> current;
  // Extensions deleted or disabled: their bindings must be dropped now.
  std::vector<std::int64_t> dropBindingsOf;
};

struct SettingChange {
  std::string key;
  std::optional<std::string> value;
};

// Why the running PBX cannot take a change (400 naming the field).
struct SettingProblem {
  std::string field;
  std::string detail;
};

class LiveChanges {
 public:
  virtual ~LiveChanges() = default;
  virtual void extensionsChanged(ExtensionsChange change) = 0;
  // Settings just stored (value as stored; nullopt = removed, back to the
  // default). Returns the keys applied at once; the others take effect at the
  // next start, and the API says so.
  virtual std::vector<std::string> settingsChanged(const std::vector<SettingChange>& changes) = 0;
  // Before anything is stored: a validated change the running PBX could not
  // use together with its current values (e.g. an RTP range end beyond the
  // other end the relay runs with, set in duplex.conf). Default: none.
  virtual std::optional<SettingProblem> checkSettings(const std::vector<SettingChange>& changes) {
    (void)changes;
    return std::nullopt;
  }
  // A trunk, outbound route or inbound number was created, changed or
  // deleted: the daemon re-reads its trunk directory and re-registers what
  // changed (pbx/app/trunk_wiring.h). Default: nothing (the change then
  // applies at the next start).
  virtual void trunksChanged() {}
};

}  // namespace duplex::admin
