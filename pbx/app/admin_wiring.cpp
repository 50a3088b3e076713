#include "pbx/app/admin_wiring.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "admin/auth.h"
#include "db/admin_repository.h"
#include "db/sqlite_repositories.h"
#include "pbx/call/credential_source.h"
#include "pbx/call/extension_directory.h"

namespace duplex::app {
namespace {

std::shared_ptr<spdlog::logger> adminLog() {
  auto log = spdlog::get("admin");
  return log ? log : spdlog::default_logger();
}

// The extension list the admin API just read, as a repository, so that the
// credential cache is rebuilt on the admin thread from it (the SIP loop then
// only swaps the finished map).
class ListedExtensions final : public db::ExtensionRepository {
 public:
  explicit ListedExtensions(std::vector<db::ExtensionRecord> all) : all_(std::move(all)) {}
  std::vector<db::ExtensionRecord> list() override { return all_; }
  std::optional<db::ExtensionRecord> findByNumber(std::string_view) override { return unused(); }
  std::optional<db::ExtensionRecord> findById(std::int64_t) override { return unused(); }
  db::ExtensionRecord insert(const db::ExtensionRecord&) override { unused(); }
  bool update(const db::ExtensionRecord&) override { unused(); }
  bool remove(std::int64_t) override { unused(); }

 private:
  [[noreturn]] static std::optional<db::ExtensionRecord> unused() {
    throw std::logic_error("ListedExtensions only lists");
  }
  std::vector<db::ExtensionRecord> all_;
};

}  // namespace

void RegistrarLiveChanges::extensionsChanged(admin::ExtensionsChange change) {
  ListedExtensions listed(std::move(change.current));
  auto fresh = std::make_shared<call::RepositoryCredentialSource>(listed);
  auto directory = std::make_shared<call::RepositoryExtensionDirectory>(listed);
  const bool posted = post_([fresh, directory, drop = std::move(change.dropBindingsOf)](
                                RegistrarWiring& wiring, RegistrarStartup& startup) {
    *startup.credentials = std::move(*fresh);
    if (startup.directory) *startup.directory = std::move(*directory);
    std::size_t dropped = 0;
    for (std::int64_t id : drop) dropped += wiring.registrar().removeAllOf(id);
    if (dropped > 0) adminLog()->info("dropped {} bindings of removed extensions", dropped);
  });
  if (!posted) adminLog()->warn("SIP loop not running: extension changes apply at the next start");
}

bool RegistrarLiveChanges::reloadTrunks() {
  if (!postToCalls_) return false;
  const bool posted = postToCalls_([](CallWiring& calls) { calls.reloadTrunks(); });
  if (!posted) adminLog()->warn("SIP loop not running: trunk changes apply at the next start");
  return posted;
}

void RegistrarLiveChanges::trunksChanged() {
  reloadTrunks();
}

std::optional<admin::SettingProblem> RegistrarLiveChanges::checkSettings(
    const std::vector<admin::SettingChange>& changes) {
  std::optional<std::uint16_t> rtpMin, rtpMax;
  for (const auto& c : changes) {
    if (!c.value) continue;  // back to the default: checked at the next start
    if (c.key == "media.rtp_port_min") rtpMin = static_cast<std::uint16_t>(std::stoul(*c.value));
    if (c.key == "media.rtp_port_max") rtpMax = static_cast<std::uint16_t>(std::stoul(*c.value));
  }
  if (!(rtpMin || rtpMax) || !targets_.rtpRange) return std::nullopt;
  const auto current = targets_.rtpRange();
  if (!current) return std::nullopt;
  const unsigned min = rtpMin.value_or(current->first);
  const unsigned max = rtpMax.value_or(current->second);
  if (min + (min % 2u) + 1u <= max) return std::nullopt;  // an even/odd pair fits
  const std::string field = rtpMin ? "media.rtp_port_min" : "media.rtp_port_max";
  return admin::SettingProblem{
      field,
      "media.rtp_port_min must be below media.rtp_port_max with room for one RTP/RTCP "
      "pair: " +
          std::to_string(min) + "-" + std::to_string(max) + " (the relay runs with " +
          std::to_string(current->first) + "-" + std::to_string(current->second) + ")"};
}

std::vector<std::string> RegistrarLiveChanges::settingsChanged(
    const std::vector<admin::SettingChange>& changes) {
  std::vector<std::string> live;
  bool dialing = false;
  for (const auto& c : changes) {
    if (c.key.rfind("dialing.", 0) == 0) dialing = true;
  }
  if (dialing && reloadTrunks()) {
    for (const auto& c : changes) {
      if (c.key.rfind("dialing.", 0) == 0) live.push_back(c.key);
    }
  }
  std::optional<std::uint16_t> rtpMin, rtpMax;
  bool rtpDefault = false;  // a range end set back to its default: needs a start
  std::optional<std::string> upnp;
  for (const auto& c : changes) {
    if (c.key == "log.level") {
      const auto level = spdlog::level::from_str(c.value.value_or("info"));
      // Every component but the SIP trace logger, whose level is its on/off switch.
      spdlog::apply_all([level](const std::shared_ptr<spdlog::logger>& logger) {
        if (logger->name() != "sip.trace") logger->set_level(level);
      });
      live.push_back(c.key);
    } else if (c.key == "nat.upnp") {
      upnp = c.value;
    } else if (c.key == "media.rtp_port_min" || c.key == "media.rtp_port_max") {
      if (!c.value) {
        rtpDefault = true;
        continue;
      }
      const auto port = static_cast<std::uint16_t>(std::stoul(*c.value));  // validated 1024-65535
      (c.key == "media.rtp_port_min" ? rtpMin : rtpMax) = port;
    }
  }
  if ((rtpMin || rtpMax) && !rtpDefault && targets_.rtpRange && targets_.setRtpRange) {
    if (const auto current = targets_.rtpRange()) {
      const std::uint16_t min = rtpMin.value_or(current->first);
      const std::uint16_t max = rtpMax.value_or(current->second);
      const std::string error = targets_.setRtpRange(min, max);
      if (error.empty()) {
        adminLog()->info("RTP port range {}-{} for new calls (was {}-{})", min, max, current->first,
                         current->second);
        if (rtpMin) live.emplace_back("media.rtp_port_min");
        if (rtpMax) live.emplace_back("media.rtp_port_max");
      } else {
        adminLog()->warn("RTP port range not changed: {}", error);
      }
    }
  }
  // After the range: turning UPnP on then maps the new range only.
  if (upnp && targets_.setUpnp && targets_.setUpnp(*upnp == "true")) {
    adminLog()->info("UPnP turned {} by the admin", *upnp == "true" ? "on" : "off");
    live.emplace_back("nat.upnp");
  }
  return live;
}

RawValues storedSettings(const std::string& dbPath) {
  RawValues values;
  std::error_code ec;
  if (dbPath.empty() || !std::filesystem::exists(dbPath, ec)) return values;
  db::Database db(dbPath);
  db::SqliteSettingsRepository settings(db);
  for (auto& s : settings.all()) {
    // Earlier versions of the admin API stored call.follow_redirects as a
    // boolean, which duplex.conf's off/internal refuses (and with it every
    // stored setting): read it as what it meant.
    if (s.key == "call.follow_redirects" && (s.value == "true" || s.value == "false")) {
      s.value = s.value == "true" ? "internal" : "off";
    }
    if (findKey(s.key)) values[s.key] = RawValue{std::move(s.value), "database (admin API)"};
  }
  return values;
}

void prepareAdminPassword(db::Database& db, const std::string& dataDir, bool reset) {
  db::SqliteAdminRepository repo(db);
  std::optional<std::string> password;
  if (reset) {
    password = admin::resetAdminPassword(repo);
  } else {
    password = admin::ensureAdminPassword(repo);
  }
  if (!password) return;
  const std::string file = dataDir + (dataDir.ends_with('/') ? "" : "/") + "admin-password.txt";
  admin::writePasswordFile(file, *password);
  // Once, on the console only: the log file is kept and may be shared.
  std::printf("admin password %s: %s (user admin; also in %s, mode 0600)\n",
              reset ? "reset" : "generated", password->c_str(), file.c_str());
  std::fflush(stdout);
  adminLog()->warn("admin password {}; it is in {} (readable by this user only)",
                   reset ? "reset, every session ended" : "generated at first start", file);
}

}  // namespace duplex::app
