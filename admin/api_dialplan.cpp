// /api/v1/outbound-routes and /api/v1/inbound-numbers: which trunks a dialled
// number leaves through, and which extension a DID rings. Same conventions as
// the other resources: 400 naming the field, 404, 409 on a duplicate name or
// number, PATCH changes only the fields sent.
//
// Route patterns (checked here, matched by call control; see
// pbx/call/trunk_directory.h): digits and + * # match themselves, X any
// digit, Z 1-9, N 2-9, [1-5] or [0237] a set, and at the end '.' (one or more
// of anything) or '!' (zero or more). Upper-case letters only, and no
// Asterisk-style leading '_'. A pattern that starts with '/' is an ECMAScript
// regular expression (the text after the '/') matched against the whole
// dialled number; it must compile.
//
// A route created without "position" goes after the last one (its position
// + 10, or 10), as a user adding routes one by one expects.
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>

#include <algorithm>
#include <regex>
#include <set>

#include "admin/address_syntax.h"
#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "admin/json_writer.h"
#include "admin/trunk_api_support.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {

std::optional<std::int64_t> parseId(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    id = id * 10 + (c - '0');
  }
  return id > 0 ? std::optional(id) : std::nullopt;
}

std::mutex& trunkWriteOrder() {
  static std::mutex mutex;
  return mutex;
}

void notifyTrunksChanged(Call& call) {
  if (call.services.live) call.services.live->trunksChanged();
}

namespace {

[[noreturn]] void invalid(const std::string& field, const std::string& detail) {
  throw ApiError(400, "invalid_field", field, field + " " + detail);
}

[[noreturn]] void missing(const std::string& field) {
  throw ApiError(400, "missing_field", field, field + " is required");
}

// Why `pattern` is not a valid route pattern, or "" if it is.
std::string patternError(const std::string& pattern) {
  if (pattern.empty()) return "must not be empty";
  if (pattern.front() == '/') {
    if (pattern.size() == 1) return "must have a regular expression after '/'";
    try {
      std::regex re(pattern.substr(1), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return std::string("is not a valid regular expression: ") + e.what();
    }
    return "";
  }
  if (pattern.front() == '_') {
    return "starts with '_': write the pattern without it (e.g. 0X. rather than _0X.)";
  }
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    const bool last = i + 1 == pattern.size();
    if ((c >= '0' && c <= '9') || c == 'X' || c == 'Z' || c == 'N' || c == '+' || c == '*' ||
        c == '#') {
      continue;
    }
    if (c == '.' || c == '!') {
      if (!last) return std::string("has '") + c + "' before the end (it may only end a pattern)";
      continue;
    }
    if (c == 'x' || c == 'z' || c == 'n') {
      return std::string("has '") + c + "': use upper-case X, Z or N";
    }
    if (c == '[') {
      const auto close = pattern.find(']', i);
      if (close == std::string::npos) return "has '[' without ']'";
      const std::string set = pattern.substr(i + 1, close - i - 1);
      if (set.empty()) return "has an empty set []";
      for (std::size_t k = 0; k < set.size(); ++k) {
        const char s = set[k];
        if (s >= '0' && s <= '9') continue;
        if (s == '-' && k > 0 && k + 1 < set.size() && set[k + 1] >= set[k - 1]) continue;
        return "has [" + set + "]: a set holds digits and ranges like 1-5";
      }
      i = close;
      continue;
    }
    return std::string("has '") + c +
           "': use digits, + * #, X Z N, [sets], a final '.' or '!', or a /regex";
  }
  return "";
}

bool validPrefix(std::string_view p) {
  if (p.empty()) return true;
  if (p.front() == '+') p.remove_prefix(1);
  return p.size() <= 20 && std::all_of(p.begin(), p.end(), [](char c) {
           return (c >= '0' && c <= '9') || c == '*' || c == '#';
         });
}

// --------------------------------------------------------- outbound routes

const std::initializer_list<std::string_view> kRouteFields = {
    "name", "position", "enabled", "pattern", "trunks", "strip", "prefix", "caller_id"};

void writeRoute(JsonWriter& w, const db::OutboundRouteRecord& r) {
  w.beginObject()
      .field("id", r.id)
      .field("name", r.name)
      .field("position", r.position)
      .field("enabled", r.enabled)
      .field("pattern", r.pattern);
  w.key("trunks").beginArray();
  for (auto id : r.trunkIds) w.value(id);
  w.endArray();
  w.field("strip", r.stripDigits)
      .field("prefix", r.prefix)
      .field("caller_id", r.callerId)
      .field("created_at", r.createdAt)
      .field("updated_at", r.updatedAt)
      .endObject();
}

std::vector<std::int64_t> trunkList(const Poco::JSON::Object& body, db::Database& db) {
  if (!body.isArray("trunks")) invalid("trunks", "must be a list of trunk ids");
  const auto array = body.getArray("trunks");
  if (array->size() == 0) invalid("trunks", "must name at least one trunk");
  if (array->size() > 10) invalid("trunks", "must have at most 10 trunks");
  db::SqliteTrunkRepository trunks(db);
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const Poco::Dynamic::Var item = array->get(static_cast<unsigned>(i));
    const std::string field = "trunks[" + std::to_string(i) + "]";
    if (!item.isInteger() || item.type() == typeid(bool)) invalid(field, "must be a trunk id");
    std::int64_t id = 0;
    try {
      id = item.convert<std::int64_t>();
    } catch (const Poco::Exception&) {
      invalid(field, "must be a trunk id");
    }
    if (!trunks.findById(id)) invalid(field, std::to_string(id) + " is not a trunk");
    if (std::find(out.begin(), out.end(), id) != out.end()) {
      invalid(field, "lists trunk " + std::to_string(id) + " twice");
    }
    out.push_back(id);
  }
  return out;
}

void applyRoute(const Poco::JSON::Object& body, db::OutboundRouteRecord& r, db::Database& db) {
  if (auto v = stringField(body, "name", 64)) {
    if (v->empty()) invalid("name", "must not be empty");
    r.name = *v;
  }
  if (auto v = intField(body, "position", 0, 1'000'000)) r.position = static_cast<int>(*v);
  if (auto v = boolField(body, "enabled")) r.enabled = *v;
  if (auto v = stringField(body, "pattern", 200)) {
    if (auto why = patternError(*v); !why.empty()) invalid("pattern", why);
    r.pattern = *v;
  }
  if (body.has("trunks")) r.trunkIds = trunkList(body, db);
  if (auto v = intField(body, "strip", 0, 20)) r.stripDigits = static_cast<int>(*v);
  if (auto v = stringField(body, "prefix", 21)) {
    if (!validPrefix(*v)) {
      invalid("prefix", "must be up to 20 digits, * or #, with an optional leading +");
    }
    r.prefix = *v;
  }
  if (auto v = stringField(body, "caller_id", 33)) {
    if (!v->empty() && !validPhoneNumber(*v)) {
      invalid("caller_id", "must be empty or a number (digits, optional leading +)");
    }
    r.callerId = *v;
  }
}

db::OutboundRouteRecord routeOr404(db::OutboundRouteRepository& repo, const std::string& param) {
  const auto id = parseId(param);
  auto r = id ? repo.findById(*id) : std::nullopt;
  if (!r) throw ApiError(404, "not_found", "", "no such outbound route: " + param);
  return *r;
}

ApiResponse routeResponse(int status, const db::OutboundRouteRecord& r) {
  JsonWriter w;
  writeRoute(w, r);
  return {status, w.take(), "application/json", {}};
}

// --------------------------------------------------------- inbound numbers

const std::initializer_list<std::string_view> kNumberFields = {"number", "extension", "trunk"};

void writeNumber(JsonWriter& w, const db::InboundNumberRecord& r) {
  w.beginObject()
      .field("id", r.id)
      .field("number", r.number)
      .field("extension", r.extensionNumber)
      .field("trunk", r.trunkId)
      .field("created_at", r.createdAt)
      .field("updated_at", r.updatedAt)
      .endObject();
}

void applyNumber(const Poco::JSON::Object& body, db::InboundNumberRecord& r, db::Database& db) {
  if (auto v = stringField(body, "number", 33)) {
    if (!validPhoneNumber(*v)) {
      invalid("number", "must be a number as the provider sends it (digits, optional leading +)");
    }
    r.number = *v;
  }
  if (body.has("extension")) {
    if (body.isNull("extension")) invalid("extension", "cannot be null");
    const auto v = *stringField(body, "extension", 15);
    auto ext = db::SqliteExtensionRepository(db).findByNumber(v);
    if (!ext) invalid("extension", v + " is not an extension");
    r.extensionId = ext->id;
    r.extensionNumber = ext->number;
  }
  if (body.has("trunk")) {
    if (body.isNull("trunk")) {
      r.trunkId.reset();
    } else {
      const auto id = *intField(body, "trunk", 1, INT64_MAX);
      if (!db::SqliteTrunkRepository(db).findById(id)) {
        invalid("trunk", std::to_string(id) + " is not a trunk");
      }
      r.trunkId = id;
    }
  }
}

db::InboundNumberRecord numberOr404(db::InboundNumberRepository& repo, const std::string& param) {
  const auto id = parseId(param);
  auto r = id ? repo.findById(*id) : std::nullopt;
  if (!r) throw ApiError(404, "not_found", "", "no such inbound number: " + param);
  return *r;
}

ApiResponse numberResponse(int status, const db::InboundNumberRecord& r) {
  JsonWriter w;
  writeNumber(w, r);
  return {status, w.take(), "application/json", {}};
}

}  // namespace

ApiResponse listOutboundRoutes(Call& call) {
  db::SqliteOutboundRouteRepository repo(call.db);
  JsonWriter w;
  w.beginObject().key("outbound_routes").beginArray();
  for (const auto& r : repo.list()) writeRoute(w, r);
  w.endArray().endObject();
  return {200, w.take(), "application/json", {}};
}

ApiResponse createOutboundRoute(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kRouteFields);
  for (const char* required : {"name", "pattern", "trunks"}) {
    if (!body->has(required) || body->isNull(required)) missing(required);
  }
  std::lock_guard order(trunkWriteOrder());
  db::SqliteOutboundRouteRepository repo(call.db);
  db::OutboundRouteRecord r;
  int last = 0;
  for (const auto& existing : repo.list()) last = std::max(last, existing.position);
  r.position = last + 10;
  applyRoute(*body, r, call.db);
  db::OutboundRouteRecord stored;
  try {
    stored = repo.insert(r);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "name", "outbound route " + r.name + " already exists");
  }
  notifyTrunksChanged(call);
  ApiResponse response = routeResponse(201, stored);
  response.headers.emplace_back("Location", "/api/v1/outbound-routes/" + std::to_string(stored.id));
  return response;
}

ApiResponse getOutboundRoute(Call& call) {
  db::SqliteOutboundRouteRepository repo(call.db);
  return routeResponse(200, routeOr404(repo, call.param));
}

ApiResponse patchOutboundRoute(Call& call) {
  std::lock_guard order(trunkWriteOrder());
  db::SqliteOutboundRouteRepository repo(call.db);
  db::OutboundRouteRecord r = routeOr404(repo, call.param);
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kRouteFields);
  for (const char* required : {"name", "pattern", "trunks"}) {
    if (body->has(required) && body->isNull(required)) invalid(required, "cannot be null");
  }
  applyRoute(*body, r, call.db);
  try {
    repo.update(r);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "name", "outbound route " + r.name + " already exists");
  }
  notifyTrunksChanged(call);
  return routeResponse(200, *repo.findById(r.id));
}

ApiResponse deleteOutboundRoute(Call& call) {
  std::lock_guard order(trunkWriteOrder());
  db::SqliteOutboundRouteRepository repo(call.db);
  repo.remove(routeOr404(repo, call.param).id);
  notifyTrunksChanged(call);
  return {204, "", "application/json", {}};
}

ApiResponse listInboundNumbers(Call& call) {
  db::SqliteInboundNumberRepository repo(call.db);
  JsonWriter w;
  w.beginObject().key("inbound_numbers").beginArray();
  for (const auto& r : repo.list()) writeNumber(w, r);
  w.endArray().endObject();
  return {200, w.take(), "application/json", {}};
}

ApiResponse createInboundNumber(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kNumberFields);
  for (const char* required : {"number", "extension"}) {
    if (!body->has(required) || body->isNull(required)) missing(required);
  }
  std::lock_guard order(trunkWriteOrder());
  db::InboundNumberRecord r;
  applyNumber(*body, r, call.db);
  db::SqliteInboundNumberRepository repo(call.db);
  db::InboundNumberRecord stored;
  try {
    stored = repo.insert(r);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "number", "inbound number " + r.number + " already exists");
  }
  notifyTrunksChanged(call);
  ApiResponse response = numberResponse(201, stored);
  response.headers.emplace_back("Location", "/api/v1/inbound-numbers/" + std::to_string(stored.id));
  return response;
}

ApiResponse getInboundNumber(Call& call) {
  db::SqliteInboundNumberRepository repo(call.db);
  return numberResponse(200, numberOr404(repo, call.param));
}

ApiResponse patchInboundNumber(Call& call) {
  std::lock_guard order(trunkWriteOrder());
  db::SqliteInboundNumberRepository repo(call.db);
  db::InboundNumberRecord r = numberOr404(repo, call.param);
  const auto body = requestObject(call);
  rejectUnknownFields(*body, kNumberFields);
  if (body->has("number") && body->isNull("number")) invalid("number", "cannot be null");
  applyNumber(*body, r, call.db);
  try {
    repo.update(r);
  } catch (const db::DuplicateKeyError&) {
    throw ApiError(409, "conflict", "number", "inbound number " + r.number + " already exists");
  }
  notifyTrunksChanged(call);
  return numberResponse(200, *repo.findById(r.id));
}

ApiResponse deleteInboundNumber(Call& call) {
  std::lock_guard order(trunkWriteOrder());
  db::SqliteInboundNumberRepository repo(call.db);
  repo.remove(numberOr404(repo, call.param).id);
  notifyTrunksChanged(call);
  return {204, "", "application/json", {}};
}

}  // namespace duplex::admin
