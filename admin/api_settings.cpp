// GET and PATCH /api/v1/settings (admin/settings_schema.h).
#include <Poco/JSON/Array.h>
#include <Poco/Net/IPAddress.h>

#include <algorithm>
#include <map>
#include <set>

#include "admin/address_syntax.h"
#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "admin/settings_schema.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

std::vector<std::string_view> splitList(std::string_view text, char sep = ',') {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    const auto end = text.find(sep);
    out.push_back(text.substr(0, end));
    if (end == text.npos) break;
    text = text.substr(end + 1);
  }
  return out;
}

[[noreturn]] void invalid(const SettingSpec& s, const std::string& detail) {
  throw ApiError(400, "invalid_field", std::string(s.key), std::string(s.key) + " " + detail);
}

bool inChoices(const SettingSpec& s, std::string_view v) {
  for (auto c : splitList(s.choices)) {
    if (c == v) return true;
  }
  return false;
}

// The JSON value of a PATCH member, validated, as stored text.
std::string storedText(const SettingSpec& s, const Poco::JSON::Object& body) {
  const std::string key(s.key);
  switch (s.type) {
    case SettingType::kPort:
    case SettingType::kInt: {
      const std::int64_t min = s.type == SettingType::kPort && s.min == 0 ? 1 : s.min;
      const std::int64_t max = s.type == SettingType::kPort && s.max == 0 ? 65535 : s.max;
      return std::to_string(*intField(body, key, min, max));
    }
    case SettingType::kBool:
      return *boolField(body, key) ? "true" : "false";
    case SettingType::kEnum: {
      auto v = *stringField(body, key, 64);
      if (!inChoices(s, v)) invalid(s, "must be one of " + std::string(s.choices));
      return v;
    }
    case SettingType::kHost: {
      auto v = *stringField(body, key, 253);
      if (!v.empty() && !validHost(v)) invalid(s, "must be a host name or an IP address");
      return v;
    }
    case SettingType::kText:
      return *stringField(body, key, static_cast<std::size_t>(s.max));
    case SettingType::kProvider: {
      auto v = *stringField(body, key, 512);
      const bool scheme = v.rfind("http://", 0) == 0 || v.rfind("https://", 0) == 0;
      if (!(v.empty() || v == "dyndns" || v == "noip" ||
            (scheme && v.size() > 8 && v.find_first_of(" <>\"") == v.npos))) {
        invalid(s, "must be dyndns, noip, an http:// or https:// update URL, or \"\"");
      }
      return v;
    }
    case SettingType::kSeconds:
      return std::to_string(*intField(body, key, s.min, s.max)) + "s";
    case SettingType::kDigits: {
      auto v = *stringField(body, key, static_cast<std::size_t>(s.max));
      if (!std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        invalid(s, "must be digits only (up to " + std::to_string(s.max) + ")");
      }
      return v;
    }
    case SettingType::kHostList:
    case SettingType::kCidrList:
    case SettingType::kPrefixList: {
      if (!body.isArray(key)) invalid(s, "must be a list of strings");
      const auto array = body.getArray(key);
      if (array->size() > 32) invalid(s, "must have at most 32 entries");
      std::string joined;
      std::set<std::string> seen;
      for (std::size_t i = 0; i < array->size(); ++i) {
        const Poco::Dynamic::Var item = array->get(static_cast<unsigned>(i));
        if (!item.isString()) invalid(s, "must be a list of strings");
        const std::string text = item.extract<std::string>();
        const bool ok = s.type == SettingType::kHostList   ? validHostPort(text)
                        : s.type == SettingType::kCidrList ? validCidr(text)
                                                           : validDialPrefix(text);
        if (!ok) {
          invalid(s, "entry \"" + text.substr(0, 80) + "\" is not " +
                         (s.type == SettingType::kHostList   ? "a host or host:port"
                          : s.type == SettingType::kCidrList ? "a network like 192.168.1.0/24"
                                                             : "a dial prefix like 00 or +"));
        }
        if (!seen.insert(text).second) invalid(s, "lists \"" + text + "\" twice");
        joined += (joined.empty() ? "" : ",") + text;
      }
      return joined;
    }
  }
  return {};
}

Poco::Dynamic::Var jsonValue(const SettingSpec& s, const std::string& text) {
  switch (s.type) {
    case SettingType::kPort:
    case SettingType::kInt:
    case SettingType::kSeconds:
      try {
        return static_cast<Poco::Int64>(std::stoll(text));
      } catch (const std::exception&) {
        return text;  // written by hand; shown as is
      }
    case SettingType::kBool:
      return text == "true";
    case SettingType::kHostList:
    case SettingType::kCidrList:
    case SettingType::kPrefixList: {
      Poco::JSON::Array::Ptr array = new Poco::JSON::Array;
      for (auto item : splitList(text)) array->add(std::string(item));
      return array;
    }
    default:
      return text;
  }
}

Poco::JSON::Object settingsJson(Call& call, db::SettingsRepository& repo) {
  std::map<std::string, db::SettingRecord> stored;
  for (auto& r : repo.all()) stored.emplace(r.key, r);
  Poco::JSON::Object values(Poco::JSON_PRESERVE_KEY_ORDER);
  Poco::JSON::Object secrets(Poco::JSON_PRESERVE_KEY_ORDER);
  for (const SettingSpec& s : settingsSchema()) {
    const std::string key(s.key);
    auto it = stored.find(key);
    if (s.secret) {
      secrets.set(key, it != stored.end() && !it->second.value.empty());
    } else if (it == stored.end()) {
      values.set(key, Poco::Dynamic::Var());
    } else {
      values.set(key, jsonValue(s, it->second.value));
    }
  }
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("settings", values);
  out.set("secrets_set", secrets);
  Poco::JSON::Array restart;
  if (call.services.restartRequired) {
    for (const auto& k : call.services.restartRequired()) restart.add(k);
  }
  out.set("restart_required", restart);
  return out;
}

}  // namespace

ApiResponse getSettings(Call& call) {
  db::SqliteSettingsRepository repo(call.db);
  return jsonResponse(200, settingsJson(call, repo));
}

ApiResponse patchSettings(Call& call) {
  const auto body = requestObject(call);
  if (body->size() == 0) throw ApiError(400, "invalid_json", "", "no setting to change");
  struct Change {
    const SettingSpec* spec;
    std::optional<std::string> text;  // nullopt: back to the default
  };
  std::vector<Change> changes;
  for (const auto& [key, value] : *body) {
    const SettingSpec* spec = findSetting(key);
    if (!spec) throw ApiError(400, "unknown_field", key, "unknown setting " + key);
    if (body->isNull(key)) {
      changes.push_back({spec, std::nullopt});
    } else {
      changes.push_back({spec, storedText(*spec, *body)});
    }
  }
  db::SqliteSettingsRepository repo(call.db);
  // The RTP range as it will be after the change must stay a range.
  const auto effective = [&](std::string_view key) -> std::optional<std::int64_t> {
    for (const auto& c : changes) {
      if (c.spec->key == key) return c.text ? std::optional(std::stoll(*c.text)) : std::nullopt;
    }
    auto r = repo.get(key);
    if (!r) return std::nullopt;
    try {
      return std::stoll(r->value);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  };
  const auto lo = effective("media.rtp_port_min");
  const auto hi = effective("media.rtp_port_max");
  if (lo && hi && *lo + 2 > *hi) {
    throw ApiError(
        400, "invalid_field",
        body->has("media.rtp_port_min") ? "media.rtp_port_min" : "media.rtp_port_max",
        "media.rtp_port_min must be below media.rtp_port_max with room for one RTP/RTCP pair");
  }
  std::vector<std::string> keys;
  std::vector<SettingChange> applied;
  for (const auto& c : changes) {
    keys.emplace_back(c.spec->key);
    applied.push_back({std::string(c.spec->key), c.text});
  }
  if (call.services.live) {
    if (auto problem = call.services.live->checkSettings(applied)) {
      throw ApiError(400, "invalid_field", problem->field, problem->detail);
    }
  }
  {
    db::Transaction transaction(call.db);
    for (const auto& c : changes) {
      if (c.text) {
        repo.set(c.spec->key, *c.text, c.spec->secret);
      } else {
        repo.remove(c.spec->key);
      }
    }
    transaction.commit();
  }
  std::vector<std::string> live;
  if (call.services.live) live = call.services.live->settingsChanged(applied);
  std::vector<std::string> later;
  for (const auto& k : keys) {
    if (std::find(live.begin(), live.end(), k) == live.end()) later.push_back(k);
  }
  if (call.services.noteAppliedLive && !live.empty()) call.services.noteAppliedLive(live);
  if (call.services.noteRestartRequired && !later.empty()) call.services.noteRestartRequired(later);
  Poco::JSON::Object out = settingsJson(call, repo);
  Poco::JSON::Array appliedLive, needRestart;
  for (const auto& k : live) appliedLive.add(k);
  for (const auto& k : later) needRestart.add(k);
  out.set("applied_live", appliedLive);
  out.set("needs_restart", needRestart);
  return jsonResponse(200, out);
}

}  // namespace duplex::admin
