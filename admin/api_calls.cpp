// GET /api/v1/calls (paged JSON) and /api/v1/calls.csv (every match, CSV).
#include <Poco/DateTimeParser.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <regex>

#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

// A stored JSON column as JSON (it is CHECKed valid), or its text if not.
Poco::Dynamic::Var viewOrText(const std::string& json) {
  try {
    Poco::JSON::Parser parser;
    return parser.parse(json);
  } catch (const Poco::Exception&) {
    return json;
  }
}

std::int64_t parseInt(const std::string& field, const std::string& text, std::int64_t min,
                      std::int64_t max) {
  try {
    std::size_t used = 0;
    const long long v = std::stoll(text, &used);
    if (used == text.size() && v >= min && v <= max) return v;
  } catch (const std::exception&) {
  }
  throw ApiError(
      400, "invalid_field", field,
      field + " must be an integer between " + std::to_string(min) + " and " + std::to_string(max));
}

// Unix seconds, or an ISO 8601 time ("2026-11-23T10:00:00Z").
std::int64_t parseTime(const std::string& field, const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) {
    return parseInt(field, text, 0, 253402300799);
  }
  // Poco's parser is lenient ("yesterday" parses): check the shape first.
  static const std::regex kIso(
      R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))");
  Poco::DateTime parsed;
  int tz = 0;
  if (std::regex_match(text, kIso) &&
      Poco::DateTimeParser::tryParse(Poco::DateTimeFormat::ISO8601_FORMAT, text, parsed, tz)) {
    return parsed.timestamp().epochTime() - tz;
  }
  throw ApiError(400, "invalid_field", field,
                 field + " must be unix seconds or an ISO 8601 time like 2026-11-23T10:00:00Z");
}

db::CallRecordQuery queryFrom(const Call& call) {
  for (const auto& [key, value] : call.query) {
    static constexpr std::string_view kKnown[] = {"from",        "to",    "extension",
                                                  "disposition", "limit", "offset"};
    if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown)) {
      throw ApiError(400, "unknown_field", key, "unknown query parameter " + key);
    }
  }
  db::CallRecordQuery q;
  const auto get = [&](const char* name) -> const std::string* {
    auto it = call.query.find(name);
    return it == call.query.end() ? nullptr : &it->second;
  };
  if (auto v = get("from")) q.from = parseTime("from", *v);
  if (auto v = get("to")) q.to = parseTime("to", *v);
  if (q.from && q.to && *q.from >= *q.to) {
    throw ApiError(400, "invalid_field", "to", "to must be after from");
  }
  if (auto v = get("extension")) {
    if (v->empty() || v->size() > 64) {
      throw ApiError(400, "invalid_field", "extension", "extension must be 1 to 64 characters");
    }
    q.extension = *v;
  }
  if (auto v = get("disposition")) {
    q.disposition = db::parseDisposition(*v);
    if (!q.disposition) {
      throw ApiError(400, "invalid_field", "disposition",
                     "disposition must be one of answered, busy, no_answer, failed, cancelled");
    }
  }
  if (auto v = get("limit")) q.limit = static_cast<int>(parseInt("limit", *v, 1, 1000));
  if (auto v = get("offset")) q.offset = static_cast<int>(parseInt("offset", *v, 0, 100000000));
  return q;
}

Poco::JSON::Object recordJson(const db::CallRecord& r) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("id", r.id);
  o.set("call_id", r.callId);
  o.set("caller", r.caller);
  o.set("callee", r.callee);
  o.set("dialled", r.dialled);
  o.set("start_at", r.startAt);
  if (r.answerAt) {
    o.set("answer_at", *r.answerAt);
  } else {
    o.set("answer_at", Poco::Dynamic::Var());
  }
  o.set("end_at", r.endAt);
  o.set("duration_s", r.durationS);
  o.set("billable_s", r.billableS);
  o.set("disposition", std::string(db::toString(r.disposition)));
  o.set("hangup_side", r.hangupSide);
  o.set("hangup_cause", r.hangupCause);
  o.set("forward_steps", viewOrText(r.forwardSteps));
  o.set("media_facts", viewOrText(r.mediaFacts));
  if (r.diagnosis) {
    o.set("diagnosis", *r.diagnosis);
  } else {
    o.set("diagnosis", Poco::Dynamic::Var());
  }
  o.set("trunk", r.trunk);
  o.set("sent_number", r.sentNumber);
  return o;
}

}  // namespace

ApiResponse listCalls(Call& call) {
  const db::CallRecordQuery q = queryFrom(call);
  db::SqliteCallRecordRepository repo(call.db);
  const db::CallRecordPage page = repo.query(q);
  Poco::JSON::Array records;
  for (const auto& r : page.records) records.add(recordJson(r));
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("total", page.total);
  out.set("limit", q.limit);
  out.set("offset", q.offset);
  out.set("records", records);
  return jsonResponse(200, out);
}

namespace {

// RFC 4180: quote fields with a comma, quote or line break; double quotes.
// A leading = + - @ is prefixed with ' so a spreadsheet does not run it.
std::string csvField(std::string text) {
  if (!text.empty() && std::string_view("=+-@").find(text.front()) != std::string_view::npos &&
      !std::all_of(text.begin() + 1, text.end(), ::isdigit)) {
    text.insert(text.begin(), '\'');
  }
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

ApiResponse exportCalls(Call& call) {
  db::CallRecordQuery q = queryFrom(call);
  const bool paged = call.query.count("limit") || call.query.count("offset");
  db::SqliteCallRecordRepository repo(call.db);
  std::string csv =
      "id,call_id,caller,callee,dialled,start_at,answer_at,end_at,duration_s,billable_s,"
      "disposition,hangup_side,hangup_cause,diagnosis\r\n";
  if (!paged) {
    q.limit = 1000;
    q.offset = 0;
  }
  while (true) {
    const auto page = repo.query(q);
    for (const auto& r : page.records) {
      csv += std::to_string(r.id) + "," + csvField(r.callId) + "," + csvField(r.caller) + "," +
             csvField(r.callee) + "," + csvField(r.dialled) + "," + std::to_string(r.startAt) +
             "," + (r.answerAt ? std::to_string(*r.answerAt) : "") + "," + std::to_string(r.endAt) +
             "," + std::to_string(r.durationS) + "," + std::to_string(r.billableS) + "," +
             std::string(db::toString(r.disposition)) + "," + csvField(r.hangupSide) + "," +
             csvField(r.hangupCause) + "," + csvField(r.diagnosis.value_or("")) + "\r\n";
    }
    if (paged || page.records.size() < static_cast<std::size_t>(q.limit)) break;
    q.offset += q.limit;
  }
  return {200,
          std::move(csv),
          "text/csv; charset=utf-8",
          {{"Content-Disposition", "attachment; filename=\"calls.csv\""}}};
}

}  // namespace duplex::admin
