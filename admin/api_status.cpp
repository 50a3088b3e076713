// GET /api/v1/status.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <unordered_map>

#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "admin/json_writer.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

// A view's JSON text as given, after checking it parses; otherwise (or when
// there is no view) {"available": false, "detail": ...}.
void writeView(JsonWriter& w, const std::string* text, const std::string& missing,
               const std::string& what) {
  std::string detail = missing;
  if (text) {
    try {
      Poco::JSON::Parser parser;
      parser.parse(*text);
      w.raw(*text);
      return;
    } catch (const Poco::Exception& e) {
      detail = what + " gave invalid JSON: " + e.message();
    }
  }
  w.beginObject().field("available", false).field("detail", detail).endObject();
}

}  // namespace

ApiResponse getStatus(Call& call) {
  JsonWriter w;
  w.beginObject()
      .field("version", call.services.version)
      .field("started_at", call.services.startedAt)
      .field("uptime_s", call.now - call.services.startedAt);

  // Registrations as the registrar wrote them behind (at most one flush
  // interval, 200 ms, behind its memory).
  db::SqliteExtensionRepository extensions(call.db);
  std::unordered_map<std::int64_t, std::string> numbers;
  for (auto& e : extensions.list()) numbers.emplace(e.id, std::move(e.number));
  db::SqliteBindingRepository bindings(call.db);
  w.key("registrations").beginArray();
  for (const auto& b : bindings.loadUnexpired(call.now)) {
    auto it = numbers.find(b.extensionId);
    w.beginObject()
        .field("extension", it == numbers.end() ? std::string() : it->second)
        .field("contact", b.contactUri)
        .field("source", b.sourceIp + ":" + std::to_string(b.sourcePort))
        .field("transport", b.transport)
        .field("behind_nat", b.behindNat)
        .field("user_agent", b.userAgent)
        .field("expires_in_s", b.expiresAt - call.now)
        .endObject();
  }
  w.endArray();

  std::string text;
  w.key("active_calls");
  if (call.services.status.calls) text = call.services.status.calls->activeCallsJson();
  writeView(w, call.services.status.calls ? &text : nullptr,
            "call control does not report active calls yet", "calls");
  w.key("nat");
  if (call.services.status.nat) text = call.services.status.nat->natStatusJson();
  writeView(w, call.services.status.nat ? &text : nullptr,
            "NAT traversal does not report its state yet", "nat");
  w.key("trunks");
  if (call.services.status.trunks) text = call.services.status.trunks->trunkStatusJson();
  writeView(w, call.services.status.trunks ? &text : nullptr,
            "the SIP loop does not report trunk registrations", "trunks");
  w.key("restart_required").beginArray();
  if (call.services.restartRequired) {
    for (const auto& k : call.services.restartRequired()) w.value(k);
  }
  w.endArray().endObject();
  return {200, w.take(), "application/json", {}};
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
