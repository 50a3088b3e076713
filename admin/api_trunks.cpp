// /api/v1/trunks: the office's VoIP providers. List, create, read, PATCH
// (only the fields sent), DELETE (409 naming the routes and inbound numbers
// that still use the trunk). The password is write-only: reads show
// "password_set".
#include <Poco/JSON/Array.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <set>

#include "admin/address_syntax.h"
#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "admin/json_writer.h"
#include "admin/trunk_api_support.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

const std::initializer_list<std::string_view> kFields = {
    "name",      "enabled",       "host",   "port",        "transport",         "username",
    "password",  "auth_username", "realm",  "register",    "register_interval", "outbound_proxy",
    "caller_id", "max_calls",     "codecs", "from_domain", "from_user",         "extra_addresses"};

[[noreturn]] void invalid(const std::string& field, const std::string& detail) {
  throw ApiError(400, "invalid_field", field, field + " " + detail);
}

void writeTrunk(JsonWriter& w, const db::TrunkRecord& r) {
  w.beginObject()
      .field("id", r.id)
      .field("name", r.name)
      .field("enabled", r.enabled)
      .field("host", r.host)
      .field("port", r.port)
      .field("transport", r.transport)
      .field("username", r.username)
      .field("password_set", !r.password.empty())
      .field("auth_username", r.authUsername)
      .field("realm", r.realm)
      .field("register", r.registration)
      .field("register_interval", r.registerIntervalSeconds)
      .field("outbound_proxy", r.outboundProxy)
      .field("caller_id", r.callerId)
      .field("max_calls", r.maxCalls);
  w.key("codecs").beginArray();
  for (const auto& c : r.codecs) w.value(c);
  w.endArray();
  w.field("from_domain", r.fromDomain).field("from_user", r.fromUser);
  w.key("extra_addresses").beginArray();
  for (const auto& a : r.extraAddresses) w.value(a);
  w.endArray();
  w.field("created_at", r.createdAt).field("updated_at", r.updatedAt).endObject();
}

// A list of strings, each checked by `valid`; no duplicates (`fold` says
// whether case is ignored when comparing).
std::vector<std::string> stringList(const Poco::JSON::Object& body, const std::string& name,
                                    std::size_t maxItems, bool (*valid)(std::string_view),
                                    const std::string& what, bool fold) {
  if (!body.isArray(name)) invalid(name, "must be a list of strings");
  const auto array = body.getArray(name);
  if (array->size() > maxItems) {
    invalid(name, "must have at most " + std::to_string(maxItems) + " entries");
  }
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Poco::Dynamic::Var item = array->get(static_cast<unsigned>(i));
    const std::string field = name + "[" + std::to_string(i) + "]";
    if (!item.isString()) invalid(field, "must be a string");
    std::string text = item.extract<std::string>();
    if (!valid(text)) invalid(field, "\"" + text.substr(0, 80) + "\" is not " + what);
    std::string key = text;
    if (fold) std::transform(key.begin(), key.end(), key.begin(), ::toupper);
    if (!seen.insert(key).second) invalid(field, "lists \"" + text + "\" twice");
    out.push_back(std::move(text));
  }
  return out;
}

bool validCodec(std::string_view c) {
  return !c.empty() && c.size() <= 32 && std::all_of(c.begin(), c.end(), [](char ch) {
    return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.';
  });
}

bool validAddress(std::string_view a) {
  return validIp(a) || validCidr(a);
}

// Applies the fields present in `body` to `r` (create: r holds the defaults;
// PATCH: the stored record).
void applyFields(const Poco::JSON::Object& body, db::TrunkRecord& r) {
  if (auto v = stringField(body, "name", 64)) {
    if (v->empty()) invalid("name", "must not be empty");
    r.name = *v;
  }
  if (auto v = boolField(body, "enabled")) r.enabled = *v;
  if (auto v = stringField(body, "host", 253)) {
    if (!validHost(*v)) invalid("host", "must be a host name or an IP address");
    r.host = *v;
  }
  if (auto v = intField(body, "port", 1, 65535)) r.port = static_cast<int>(*v);
  if (auto v = stringField(body, "transport", 8)) {
    if (*v != "udp" && *v != "tcp") invalid("transport", "must be udp or tcp");
    r.transport = *v;
  }
  if (auto v = stringField(body, "username", 64)) {
    if (!validSipUser(*v)) {
      invalid("username", "must be 1 to 64 characters without blanks, ':' or '@'");
    }
    r.username = *v;
  }
  if (auto v = stringField(body, "password", 128)) {
    if (v->empty()) invalid("password", "must not be empty");
    r.password = *v;
  }
  if (auto v = stringField(body, "auth_username", 64)) {
    if (!v->empty() && !validSipUser(*v)) {
      invalid("auth_username", "must be empty or 1 to 64 characters without blanks, ':' or '@'");
    }
    r.authUsername = *v;
  }
  if (auto v = stringField(body, "realm", 128)) r.realm = *v;
  if (auto v = boolField(body, "register")) r.registration = *v;
  if (auto v = intField(body, "register_interval", 60, 3600)) {
    r.registerIntervalSeconds = static_cast<int>(*v);
  }
  if (auto v = stringField(body, "outbound_proxy", 260)) {
    if (!v->empty() && !validHostPort(*v)) {
      invalid("outbound_proxy", "must be empty or host[:port]");
    }
    r.outboundProxy = *v;
  }
  if (auto v = stringField(body, "caller_id", 33)) {
    if (!v->empty() && !validPhoneNumber(*v)) {
      invalid("caller_id", "must be empty or a number (digits, optional leading +)");
    }
    r.callerId = *v;
  }
  if (body.has("max_calls")) {
    if (body.isNull("max_calls")) {
      r.maxCalls.reset();
    } else {
      r.maxCalls = static_cast<int>(*intField(body, "max_calls", 0, 1000));
    }
  }
  if (body.has("codecs")) {
    r.codecs = stringList(body, "codecs", 16, validCodec, "an encoding name like PCMA", true);
  }
  if (auto v = stringField(body, "from_domain", 253)) {
    if (!v->empty() && !validHost(*v)) {
      invalid("from_domain", "must be empty, a host name or an IP address");
    }
    r.fromDomain = *v;
  }
  if (auto v = stringField(body, "from_user", 64)) {
    if (!v->empty() && !validSipUser(*v)) {
      invalid("from_user", "must be empty or 1 to 64 characters without blanks, ':' or '@'");
    }
    r.fromUser = *v;
  }
  if (body.has("extra_addresses")) {
    r.extraAddresses = stringList(body, "extra_addresses", 32, validAddress,
                                  "an IP address or a network like 198.51.100.0/24", false);
  }
}

db::TrunkRecord findOr404(db::TrunkRepository& repo, const std::string& param) {
  const auto id = parseId(param);
  auto r = id ? repo.findById(*id) : std::nullopt;
  if (!r) throw ApiError(404, "not_found", "", "no such trunk: " + param);
  return *r;
}

ApiResponse trunkResponse(int status, const db::TrunkRecord& r) {
  JsonWriter w;
  writeTrunk(w, r);
  return {status, w.take(), "application/json", {}};
}

}  // namespace

ApiResponse listTrunks(Call& call) {
  db::SqliteTrunkRepository repo(call.db);
  JsonWriter w;
  w.beginObject().key("trunks").beginArray();
  for (const auto& r : repo.list()) writeTrunk(w, r);
  w.endArray().endObject();
  return {200, w.take(), "application/json", {}};
}

ApiResponse createTrunk(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kFields);
  for (const char* required : {"name", "host", "username", "password"}) {
    if (!body->has(required) || body->isNull(required)) {
      throw ApiError(400, "missing_field", required, std::string(required) + " is required");
    }
  }
  db::TrunkRecord r;
  applyFields(*body, r);
  std::lock_guard order(trunkWriteOrder());
  db::SqliteTrunkRepository repo(call.db);
  db::TrunkRecord stored;
  try {
    stored = repo.insert(r);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "name", "trunk " + r.name + " already exists");
  }
  notifyTrunksChanged(call);
  ApiResponse response = trunkResponse(201, stored);
  response.headers.emplace_back("Location", "/api/v1/trunks/" + std::to_string(stored.id));
  return response;
}

ApiResponse getTrunk(Call& call) {
  db::SqliteTrunkRepository repo(call.db);
  return trunkResponse(200, findOr404(repo, call.param));
}

ApiResponse patchTrunk(Call& call) {
  std::lock_guard order(trunkWriteOrder());
  db::SqliteTrunkRepository repo(call.db);
  db::TrunkRecord r = findOr404(repo, call.param);
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kFields);
  for (const char* required : {"name", "host", "username", "password"}) {
    if (body->has(required) && body->isNull(required)) {
      invalid(required, "cannot be null (the trunk needs one)");
    }
  }
  applyFields(*body, r);
  try {
    repo.update(r);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "name", "trunk " + r.name + " already exists");
  }
  notifyTrunksChanged(call);
  return trunkResponse(200, *repo.findById(r.id));
}

ApiResponse deleteTrunk(Call& call) {
  std::lock_guard order(trunkWriteOrder());
  db::SqliteTrunkRepository repo(call.db);
  const db::TrunkRecord r = findOr404(repo, call.param);
  try {
    repo.remove(r.id);
  } catch (const db::TrunkInUseError& e) {
    std::string users;
    for (const auto& u : e.users()) users += (users.empty() ? "" : ", ") + u;
    throw ApiError(409, "conflict", "",
                   "trunk " + r.name + " is used by " + users + "; change or delete those first");
  }
  notifyTrunksChanged(call);
  return {204, "", "application/json", {}};
}

}  // namespace duplex::admin
