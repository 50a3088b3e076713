// GET /api/v1/status.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <unordered_map>

#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

Poco::Dynamic::Var notAvailable(const std::string& detail) {
  Poco::JSON::Object::Ptr o = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
  o->set("available", false);
  o->set("detail", detail);
  return o;
}

// A view's JSON text, or "not available" when it is missing or broken.
Poco::Dynamic::Var viewJson(const std::string& text, const std::string& what) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(text);
  } catch (const Poco::Exception& e) {
    return notAvailable(what + " gave invalid JSON: " + e.message());
  }
}

}  // namespace

ApiResponse getStatus(Call& call) {
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("version", call.services.version);
  out.set("started_at", call.services.startedAt);
  out.set("uptime_s", call.now - call.services.startedAt);

  // Registrations as the registrar wrote them behind (at most one flush
  // interval, 200 ms, behind its memory).
  db::SqliteExtensionRepository extensions(call.db);
  std::unordered_map<std::int64_t, std::string> numbers;
  for (const auto& e : extensions.list()) numbers.emplace(e.id, e.number);
  db::SqliteBindingRepository bindings(call.db);
  Poco::JSON::Array registrations;
  for (const auto& b : bindings.loadUnexpired(call.now)) {
    Poco::JSON::Object r(Poco::JSON_PRESERVE_KEY_ORDER);
    auto it = numbers.find(b.extensionId);
    r.set("extension", it == numbers.end() ? std::string() : it->second);
    r.set("contact", b.contactUri);
    r.set("source", b.sourceIp + ":" + std::to_string(b.sourcePort));
    r.set("transport", b.transport);
    r.set("behind_nat", b.behindNat);
    r.set("user_agent", b.userAgent);
    r.set("expires_in_s", b.expiresAt - call.now);
    registrations.add(r);
  }
  out.set("registrations", registrations);

  if (call.services.status.calls) {
    out.set("active_calls", viewJson(call.services.status.calls->activeCallsJson(), "calls"));
  } else {
    out.set("active_calls", notAvailable("call control does not report active calls yet"));
  }
  if (call.services.status.nat) {
    out.set("nat", viewJson(call.services.status.nat->natStatusJson(), "nat"));
  } else {
    out.set("nat", notAvailable("NAT traversal does not report its state yet"));
  }
  Poco::JSON::Array restart;
  if (call.services.restartRequired) {
    for (const auto& k : call.services.restartRequired()) restart.add(k);
  }
  out.set("restart_required", restart);
  return jsonResponse(200, out);
}

}  // namespace duplex::admin

#include "admin/assets.h"

namespace duplex::admin {

ApiResponse getOpenApi(Call&) {
  const Asset* doc = findAsset("openapi.json");
  if (!doc) throw ApiError(404, "not_found", "", "the OpenAPI document was not built in");
  return {200, std::string(doc->body), "application/json", {}};
}

}  // namespace duplex::admin
