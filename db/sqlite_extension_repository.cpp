#include <string>

#include "db/sqlite_repositories.h"

namespace duplex::db {
namespace {

constexpr std::string_view kColumns =
    "id, number, display_name, ha1_md5, ha1_sha256, realm, enabled, max_contacts, dnd, "
    "forward_unconditional, forward_busy, forward_no_answer, forward_no_answer_seconds, "
    "voicemail_enabled, permissions, max_outside_calls, created_at, updated_at";

std::string selectSql(std::string_view rest) {
  return "SELECT " + std::string(kColumns) + " FROM extensions " + std::string(rest);
}

ExtensionRecord readRow(const Statement& row) {
  ExtensionRecord r;
  r.id = row.int64(0);
  r.number = row.text(1);
  r.displayName = row.text(2);
  r.ha1Md5 = row.text(3);
  r.ha1Sha256 = row.text(4);
  r.realm = row.text(5);
  r.enabled = row.boolean(6);
  r.maxContacts = row.int32(7);
  r.dnd = row.boolean(8);
  r.forwardUnconditional = row.optionalText(9);
  r.forwardBusy = row.optionalText(10);
  r.forwardNoAnswer = row.optionalText(11);
  r.forwardNoAnswerSeconds = row.int32(12);
  r.voicemailEnabled = row.boolean(13);
  // The CHECK constraint admits only the four names, so the fallback is
  // unreachable unless someone edited the file by hand.
  r.permissions = parseCallPermission(row.text(14)).value_or(CallPermission::internal);
  if (!row.isNull(15)) r.maxOutsideCalls = row.int32(15);
  r.createdAt = row.int64(16);
  r.updatedAt = row.int64(17);
  return r;
}

// Binds the user-editable fields as ?1..?15, in the order of kEditable.
constexpr std::string_view kEditable[] = {
    "number",
    "display_name",
    "ha1_md5",
    "ha1_sha256",
    "realm",
    "enabled",
    "max_contacts",
    "dnd",
    "forward_unconditional",
    "forward_busy",
    "forward_no_answer",
    "forward_no_answer_seconds",
    "voicemail_enabled",
    "permissions",
    "max_outside_calls",
};

void bindEditable(Statement& s, const ExtensionRecord& r) {
  s.bind(1, r.number)
      .bind(2, r.displayName)
      .bind(3, r.ha1Md5)
      .bind(4, r.ha1Sha256)
      .bind(5, r.realm)
      .bind(6, r.enabled)
      .bind(7, r.maxContacts)
      .bind(8, r.dnd)
      .bind(9, r.forwardUnconditional)
      .bind(10, r.forwardBusy)
      .bind(11, r.forwardNoAnswer)
      .bind(12, r.forwardNoAnswerSeconds)
      .bind(13, r.voicemailEnabled)
      .bind(14, toString(r.permissions))
      .bind(15, r.maxOutsideCalls);
}

std::string insertSql() {
  std::string names, params;
  for (std::size_t i = 0; i < std::size(kEditable); ++i) {
    names += (i ? ", " : "") + std::string(kEditable[i]);
    params += (i ? ", ?" : "?") + std::to_string(i + 1);
  }
  return "INSERT INTO extensions (" + names + ") VALUES (" + params + ") RETURNING " +
         std::string(kColumns);
}

std::string updateSql() {
  std::string sets;
  for (std::size_t i = 0; i < std::size(kEditable); ++i) {
    sets += (i ? ", " : "") + std::string(kEditable[i]) + " = ?" + std::to_string(i + 1);
  }
  return "UPDATE extensions SET " + sets +
         ", updated_at = CAST(strftime('%s', 'now') AS INTEGER) WHERE id = ?16";
}

// The admin API turns DuplicateKeyError into 409; the message is what the
// user reads, so it names the number rather than the SQL.
[[noreturn]] void throwDuplicate(const ExtensionRecord& r, const DuplicateKeyError& e) {
  throw DuplicateKeyError("extension number " + r.number + " already exists", e.code());
}

}  // namespace

std::optional<ExtensionRecord> SqliteExtensionRepository::findByNumber(std::string_view number) {
  Statement s(db_, selectSql("WHERE number = ?1"));
  s.bind(1, number);
  if (!s.step()) return std::nullopt;
  return readRow(s);
}

std::optional<ExtensionRecord> SqliteExtensionRepository::findById(std::int64_t id) {
  Statement s(db_, selectSql("WHERE id = ?1"));
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return readRow(s);
}

std::vector<ExtensionRecord> SqliteExtensionRepository::list() {
  Statement s(db_, selectSql("ORDER BY number"));
  std::vector<ExtensionRecord> out;
  while (s.step()) out.push_back(readRow(s));
  return out;
}

ExtensionRecord SqliteExtensionRepository::insert(const ExtensionRecord& record) {
  Statement s(db_, insertSql());
  bindEditable(s, record);
  bool returned = false;
  try {
    returned = s.step();
  } catch (const DuplicateKeyError& e) {
    throwDuplicate(record, e);
  }
  if (!returned) throw DbError("database " + db_.path() + ": insert extension returned no row");
  ExtensionRecord stored = readRow(s);
  s.run();  // RETURNING rows are read to the end before the statement counts as done
  return stored;
}

bool SqliteExtensionRepository::update(const ExtensionRecord& record) {
  Statement s(db_, updateSql());
  bindEditable(s, record);
  s.bind(16, record.id);
  try {
    s.run();
  } catch (const DuplicateKeyError& e) {
    throwDuplicate(record, e);
  }
  return db_.changes() > 0;
}

bool SqliteExtensionRepository::remove(std::int64_t id) {
  Statement s(db_, "DELETE FROM extensions WHERE id = ?1");
  s.bind(1, id).run();
  return db_.changes() > 0;
}

}  // namespace duplex::db
