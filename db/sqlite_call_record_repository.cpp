#include <algorithm>

#include "db/sqlite_repositories.h"

namespace duplex::db {
namespace {

constexpr std::string_view kColumns =
    "id, call_id, caller, callee, dialled, start_at, answer_at, end_at, duration_s, billable_s, "
    "disposition, hangup_side, hangup_cause, forward_steps, media_facts, diagnosis, trunk, "
    "sent_number";

constexpr int kMaxPage = 1000;

CallRecord readRow(const Statement& row) {
  CallRecord r;
  r.id = row.int64(0);
  r.callId = row.text(1);
  r.caller = row.text(2);
  r.callee = row.text(3);
  r.dialled = row.text(4);
  r.startAt = row.int64(5);
  r.answerAt = row.optionalInt64(6);
  r.endAt = row.int64(7);
  r.durationS = row.int64(8);
  r.billableS = row.int64(9);
  // The CHECK constraint admits only known names.
  r.disposition = parseDisposition(row.text(10)).value_or(Disposition::failed);
  r.hangupSide = row.text(11);
  r.hangupCause = row.text(12);
  r.forwardSteps = row.text(13);
  r.mediaFacts = row.text(14);
  r.diagnosis = row.optionalText(15);
  r.trunk = row.text(16);
  r.sentNumber = row.text(17);
  return r;
}

// The WHERE clause for a query, with named parameters so that the count and
// the page statements bind the same way whichever filters are present.
std::string whereClause(const CallRecordQuery& q) {
  std::string where = " WHERE 1";
  if (q.from) where += " AND start_at >= :from";
  if (q.to) where += " AND start_at < :to";
  // Two indexed equality tests joined by OR: SQLite answers it from the
  // caller and callee indexes (OR optimisation) instead of a table scan.
  if (q.extension) where += " AND (caller = :ext OR callee = :ext)";
  if (q.disposition) where += " AND disposition = :disp";
  return where;
}

void bindFilters(Statement& s, const CallRecordQuery& q) {
  if (q.from) s.bind(s.parameterIndex(":from"), *q.from);
  if (q.to) s.bind(s.parameterIndex(":to"), *q.to);
  if (q.extension) s.bind(s.parameterIndex(":ext"), *q.extension);
  if (q.disposition) s.bind(s.parameterIndex(":disp"), toString(*q.disposition));
}

}  // namespace

SqliteCallRecordRepository::SqliteCallRecordRepository(Database& db)
    : db_(db),
      insert_(db,
              "INSERT INTO call_records (call_id, caller, callee, dialled, start_at, answer_at, "
              "end_at, duration_s, billable_s, disposition, hangup_side, hangup_cause, "
              "forward_steps, media_facts, diagnosis, trunk, sent_number) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
              "?17)") {}

std::int64_t SqliteCallRecordRepository::insert(const CallRecord& r) {
  insert_.reset();
  insert_.bind(1, r.callId)
      .bind(2, r.caller)
      .bind(3, r.callee)
      .bind(4, r.dialled)
      .bind(5, r.startAt)
      .bind(6, r.answerAt)
      .bind(7, r.endAt)
      .bind(8, r.durationS)
      .bind(9, r.billableS)
      .bind(10, toString(r.disposition))
      .bind(11, r.hangupSide)
      .bind(12, r.hangupCause)
      .bind(13, r.forwardSteps)
      .bind(14, r.mediaFacts)
      .bind(15, r.diagnosis)
      .bind(16, r.trunk)
      .bind(17, r.sentNumber);
  insert_.run();
  insert_.reset();
  return db_.lastInsertRowid();
}

CallRecordPage SqliteCallRecordRepository::query(const CallRecordQuery& q) {
  // Count and page are two reads; under a concurrent insert the total may be
  // one call ahead of the page, which a paging UI tolerates.
  const std::string where = whereClause(q);
  CallRecordPage page;
  {
    Statement count(db_, "SELECT COUNT(*) FROM call_records" + where);
    bindFilters(count, q);
    count.step();
    page.total = count.int64(0);
  }
  Statement s(db_, "SELECT " + std::string(kColumns) + " FROM call_records" + where +
                       " ORDER BY start_at DESC, id DESC LIMIT :limit OFFSET :offset");
  bindFilters(s, q);
  s.bind(s.parameterIndex(":limit"), std::clamp(q.limit, 1, kMaxPage))
      .bind(s.parameterIndex(":offset"), std::max(q.offset, 0));
  while (s.step()) page.records.push_back(readRow(s));
  return page;
}

}  // namespace duplex::db
