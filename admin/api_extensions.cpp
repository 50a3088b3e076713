// /api/v1/extensions: list, create (one or a list), read, PATCH, DELETE.
#include <Poco/JSON/Array.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "admin/json_writer.h"
#include "admin/password_hash.h"
#include "admin/password_policy.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

constexpr std::size_t kMaxBulk = 1000;

// What the API may set; `number` only on create.
const std::initializer_list<std::string_view> kCreateFields = {"number",
                                                               "display_name",
                                                               "sip_password",
                                                               "enabled",
                                                               "max_contacts",
                                                               "dnd",
                                                               "forward_unconditional",
                                                               "forward_busy",
                                                               "forward_no_answer",
                                                               "forward_no_answer_seconds",
                                                               "voicemail_enabled",
                                                               "permissions",
                                                               "max_outside_calls"};

bool validNumber(std::string_view number) {
  return !number.empty() && number.size() <= 15 &&
         std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A forwarding target: an extension or phone number (digits, optional
// leading +) or a sip:/sips: URI without blanks.
bool validTarget(std::string_view t) {
  if (t.rfind("sip:", 0) == 0 || t.rfind("sips:", 0) == 0) {
    return t.size() > 5 && t.find_first_of(" <>\"") == t.npos;
  }
  std::string_view digits = t.rfind('+', 0) == 0 ? t.substr(1) : t;
  return validNumber(digits);
}

// The fields of one extension, without the braces (callers add more).
void writeExtension(JsonWriter& w, const db::ExtensionRecord& r) {
  w.field("number", r.number)
      .field("display_name", r.displayName)
      .field("enabled", r.enabled)
      .field("max_contacts", r.maxContacts)
      .field("dnd", r.dnd)
      .field("forward_unconditional", r.forwardUnconditional)
      .field("forward_busy", r.forwardBusy)
      .field("forward_no_answer", r.forwardNoAnswer)
      .field("forward_no_answer_seconds", r.forwardNoAnswerSeconds)
      .field("voicemail_enabled", r.voicemailEnabled)
      .field("permissions", db::toString(r.permissions))
      .field("max_outside_calls", r.maxOutsideCalls)
      .field("created_at", r.createdAt)
      .field("updated_at", r.updatedAt);
}

ApiResponse jsonText(int status, std::string body) {
  return {status, std::move(body), "application/json", {}};
}

void forwardField(const Poco::JSON::Object& body, const std::string& name,
                  std::optional<std::string>& target, std::string_view prefix,
                  const std::string& number) {
  if (!body.has(name)) return;
  if (body.isNull(name)) {
    target.reset();
    return;
  }
  auto value = stringField(body, name, 256, prefix);
  if (value->empty()) {
    target.reset();
    return;
  }
  if (!validTarget(*value)) {
    throw ApiError(
        400, "invalid_field", std::string(prefix) + name,
        std::string(prefix) + name + " must be a number (digits, optional +) or a sip: URI");
  }
  if (*value == number) {
    throw ApiError(400, "invalid_field", std::string(prefix) + name,
                   std::string(prefix) + name + " must not forward the extension to itself");
  }
  target = std::move(value);
}

// Applies the fields present in `body` to `r` (create: r holds the defaults;
// PATCH: the stored record). Returns the new SIP password when one was set or
// generated, "" otherwise; `generated` tells which.
std::string applyFields(const Poco::JSON::Object& body, db::ExtensionRecord& r,
                        std::string_view prefix, bool creating, const std::string& realm,
                        bool& generated) {
  const auto field = [&](const char* name) { return std::string(prefix) + name; };
  if (auto v = stringField(body, "display_name", 64, prefix)) r.displayName = *v;
  if (auto v = boolField(body, "enabled", prefix)) r.enabled = *v;
  if (auto v = intField(body, "max_contacts", 1, 20, prefix)) r.maxContacts = static_cast<int>(*v);
  if (auto v = boolField(body, "dnd", prefix)) r.dnd = *v;
  forwardField(body, "forward_unconditional", r.forwardUnconditional, prefix, r.number);
  forwardField(body, "forward_busy", r.forwardBusy, prefix, r.number);
  forwardField(body, "forward_no_answer", r.forwardNoAnswer, prefix, r.number);
  if (auto v = intField(body, "forward_no_answer_seconds", 5, 300, prefix)) {
    r.forwardNoAnswerSeconds = static_cast<int>(*v);
  }
  if (auto v = boolField(body, "voicemail_enabled", prefix)) r.voicemailEnabled = *v;
  if (auto v = stringField(body, "permissions", 16, prefix)) {
    auto p = db::parseCallPermission(*v);
    if (!p) {
      throw ApiError(
          400, "invalid_field", field("permissions"),
          field("permissions") + " must be one of internal, local, national, international");
    }
    r.permissions = *p;
  }
  if (body.has("max_outside_calls")) {
    if (body.isNull("max_outside_calls")) {
      r.maxOutsideCalls.reset();
    } else {
      r.maxOutsideCalls = static_cast<int>(*intField(body, "max_outside_calls", 0, 100, prefix));
    }
  }

  std::string password;
  generated = false;
  if (body.has("sip_password") && !body.isNull("sip_password")) {
    password = *stringField(body, "sip_password", kMaxSipPasswordLength + 1, prefix);
    if (auto reason = weakPasswordReason(password, r.number)) {
      throw ApiError(400, "weak_password", field("sip_password"),
                     field("sip_password") + " " + *reason);
    }
  } else if (creating || body.has("sip_password")) {
    // Omitted on create, or null on PATCH: a strong one is generated and
    // shown once in the response.
    password = generatePassword(20);
    generated = true;
  }
  if (!password.empty()) {
    const Ha1Pair ha1 = digestHa1(r.number, realm, password);
    r.ha1Md5 = ha1.md5;
    r.ha1Sha256 = ha1.sha256;
    r.realm = realm;
  }
  return password;
}

struct NewExtension {
  db::ExtensionRecord record;
  std::string password;
  bool generated = false;
};

NewExtension parseNew(const Poco::JSON::Object& body, std::string_view prefix,
                      const std::string& realm) {
  rejectUnknownFields(body, kCreateFields, prefix);
  NewExtension n;
  const std::string numberField = std::string(prefix) + "number";
  auto number = stringField(body, "number", 15, prefix);
  if (!number) throw ApiError(400, "missing_field", numberField, numberField + " is required");
  if (!validNumber(*number)) {
    throw ApiError(400, "invalid_field", numberField, numberField + " must be 1 to 15 digits");
  }
  n.record.number = *number;
  n.password = applyFields(body, n.record, prefix, true, realm, n.generated);
  return n;
}

// The only time a password leaves the PBX: generated, shown once.
void writeCreated(JsonWriter& w, const db::ExtensionRecord& stored, const NewExtension& n) {
  w.beginObject();
  writeExtension(w, stored);
  if (n.generated) w.field("sip_password", n.password);
  w.field("password_generated", n.generated).endObject();
}

// Held from an extension write to its notification, so that two admin
// threads cannot hand the live side their snapshots in the wrong order.
std::mutex& writeOrder() {
  static std::mutex mutex;
  return mutex;
}

void notify(Call& call, db::ExtensionRepository& repo, std::vector<std::int64_t> drop) {
  if (!call.services.live) return;
  call.services.live->extensionsChanged(ExtensionsChange{repo.list(), std::move(drop)});
}

db::ExtensionRecord findOr404(db::ExtensionRepository& repo, const std::string& number) {
  auto r = validNumber(number) ? repo.findByNumber(number) : std::nullopt;
  if (!r) throw ApiError(404, "not_found", "", "no such extension: " + number);
  return *r;
}

}  // namespace

ApiResponse listExtensions(Call& call) {
  db::SqliteExtensionRepository repo(call.db);
  JsonWriter w;
  w.beginObject().key("extensions").beginArray();
  for (const auto& r : repo.list()) {
    w.beginObject();
    writeExtension(w, r);
    w.endObject();
  }
  w.endArray().endObject();
  return jsonText(200, w.take());
}

ApiResponse createExtension(Call& call) {
  std::lock_guard order(writeOrder());
  const auto body = requestObject(call);
  NewExtension n = parseNew(*body, "", call.services.realm);
  db::SqliteExtensionRepository repo(call.db);
  db::ExtensionRecord stored;
  try {
    stored = repo.insert(n.record);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "number", "extension " + n.record.number + " already exists");
  }
  notify(call, repo, {});
  JsonWriter w;
  writeCreated(w, stored, n);
  ApiResponse response = jsonText(201, w.take());
  response.headers.emplace_back("Location", "/api/v1/extensions/" + stored.number);
  return response;
}

ApiResponse createExtensions(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, {"extensions"});
  if (!body->has("extensions") || !body->isArray("extensions")) {
    throw ApiError(400, body->has("extensions") ? "invalid_field" : "missing_field", "extensions",
                   "extensions must be a list of extension objects");
  }
  const auto list = body->getArray("extensions");
  if (list->size() == 0 || list->size() > kMaxBulk) {
    throw ApiError(400, "invalid_field", "extensions",
                   "extensions must hold 1 to " + std::to_string(kMaxBulk) + " entries");
  }
  std::vector<NewExtension> parsed;
  std::set<std::string> numbers;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string prefix = "extensions[" + std::to_string(i) + "].";
    if (!list->isObject(i)) {
      throw ApiError(400, "invalid_field", prefix.substr(0, prefix.size() - 1),
                     prefix.substr(0, prefix.size() - 1) + " must be an object");
    }
    parsed.push_back(parseNew(*list->getObject(i), prefix, call.services.realm));
    if (!numbers.insert(parsed.back().record.number).second) {
      throw ApiError(409, "conflict", prefix + "number",
                     "extension " + parsed.back().record.number + " is listed twice");
    }
  }
  db::SqliteExtensionRepository repo(call.db);
  std::lock_guard order(writeOrder());
  JsonWriter w;
  w.beginObject().key("extensions").beginArray();
  {
    // All or nothing: one duplicate rolls the whole list back.
    db::Transaction transaction(call.db);
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      try {
        writeCreated(w, repo.insert(parsed[i].record), parsed[i]);
      } catch (const db::DuplicateKeyError&) {
        throw ApiError(
            409, "conflict", "extensions[" + std::to_string(i) + "].number",
            "extension " + parsed[i].record.number + " already exists; nothing was created");
      }
    }
    transaction.commit();
  }
  notify(call, repo, {});
  w.endArray().endObject();
  return jsonText(201, w.take());
}

ApiResponse getExtension(Call& call) {
  db::SqliteExtensionRepository repo(call.db);
  JsonWriter w;
  w.beginObject();
  writeExtension(w, findOr404(repo, call.param));
  w.endObject();
  return jsonText(200, w.take());
}

ApiResponse patchExtension(Call& call) {
  std::lock_guard order(writeOrder());
  db::SqliteExtensionRepository repo(call.db);
  db::ExtensionRecord r = findOr404(repo, call.param);
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kCreateFields);
  if (auto number = stringField(*body, "number", 15); number && *number != r.number) {
    throw ApiError(400, "invalid_field", "number",
                   "number cannot be changed (the digest credentials are tied to it); "
                   "create the new extension and delete this one");
  }
  const bool wasEnabled = r.enabled;
  bool generated = false;
  const std::string password = applyFields(*body, r, "", false, call.services.realm, generated);
  repo.update(r);
  const db::ExtensionRecord stored = *repo.findById(r.id);
  std::vector<std::int64_t> drop;
  if (wasEnabled && !stored.enabled) drop.push_back(stored.id);
  notify(call, repo, std::move(drop));
  JsonWriter w;
  w.beginObject();
  writeExtension(w, stored);
  if (generated) w.field("sip_password", password);
  w.endObject();
  return jsonText(200, w.take());
}

ApiResponse deleteExtension(Call& call) {
  std::lock_guard order(writeOrder());
  db::SqliteExtensionRepository repo(call.db);
  const db::ExtensionRecord r = findOr404(repo, call.param);
  repo.remove(r.id);  // the bindings go by ON DELETE CASCADE
  notify(call, repo, {r.id});
  return {204, "", "application/json", {}};
}

}  // namespace duplex::admin
