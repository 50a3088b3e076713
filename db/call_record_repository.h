// Call detail records (CDRs): storage interface and record types. Call control
// writes one record per finished call; the admin API lists and filters them.
// Thread: see db/db.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/error.h"

namespace duplex::db {

enum class Disposition { answered, busy, noAnswer, failed, cancelled };

// As stored: "answered", "busy", "no_answer", "failed", "cancelled".
std::string_view toString(Disposition disposition);
std::optional<Disposition> parseDisposition(std::string_view text);

struct CallRecord {
  std::int64_t id = 0;  // assigned by insert()
  std::string callId;
  std::string caller;                    // extension number or remote party
  std::string callee;                    // who finally rang (after forwarding)
  std::string dialled;                   // what the caller dialled
  std::int64_t startAt = 0;              // unix seconds
  std::optional<std::int64_t> answerAt;  // unix seconds; nullopt if never answered
  std::int64_t endAt = 0;                // unix seconds
  std::int64_t durationS = 0;            // start to end
  std::int64_t billableS = 0;            // answer to end
  Disposition disposition = Disposition::answered;
  std::string hangupSide;                // "caller", "callee", "pbx"
  std::string hangupCause;               // e.g. "BYE", "487 Request Terminated", "media timeout"
  std::string forwardSteps = "[]";       // JSON array: the forwarding chain
  std::string mediaFacts = "{}";         // JSON object: per-leg media facts
  std::optional<std::string> diagnosis;  // e.g. why a leg had one-way audio
  std::string trunk;                     // the trunk's name for outside calls; "" internal
  std::string sentNumber;                // outbound: the number sent to the provider

  bool operator==(const CallRecord&) const = default;
};

// Every filter is optional; all given ones must match. Meant for designated
// initializers ({.extension = "101", .limit = 20}); the explicit {} keep GCC's
// -Wmissing-field-initializers quiet for the fields left out.
struct CallRecordQuery {
  std::optional<std::int64_t> from{};      // startAt >= from
  std::optional<std::int64_t> to{};        // startAt < to
  std::optional<std::string> extension{};  // caller or callee equals this
  std::optional<Disposition> disposition{};
  int limit = 50;  // page size, clamped to [1, 1000]
  int offset = 0;  // records to skip
};

struct CallRecordPage {
  std::vector<CallRecord> records;  // newest first (startAt, then id, descending)
  std::int64_t total = 0;           // matching records over all pages
};

// Throws DbError on storage failures (DbError with a CHECK constraint code if
// forwardSteps or mediaFacts is not valid JSON).
class CallRecordRepository {
 public:
  virtual ~CallRecordRepository() = default;

  // Returns the new record's id.
  virtual std::int64_t insert(const CallRecord& record) = 0;
  virtual CallRecordPage query(const CallRecordQuery& query) = 0;
};

}  // namespace duplex::db
