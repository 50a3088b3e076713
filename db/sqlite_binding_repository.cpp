#include "db/sqlite_repositories.h"

namespace duplex::db {
namespace {

constexpr std::string_view kColumns =
    "id, extension_id, aor, contact_uri, instance_id, call_id, cseq, expires_at, q, transport, "
    "local_ip, local_port, source_ip, source_port, behind_nat, user_agent, connection_id, "
    "updated_at";

// ON CONFLICT names the (extension_id, binding_key) unique constraint: a
// phone that re-registers, or reboots and comes back with the same instance
// id on a new port, updates its row in place instead of adding a second one.
constexpr std::string_view kUpsert =
    "INSERT INTO bindings (extension_id, aor, contact_uri, instance_id, call_id, cseq, "
    "expires_at, q, transport, local_ip, local_port, source_ip, source_port, behind_nat, "
    "user_agent, connection_id, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) "
    "ON CONFLICT (extension_id, binding_key) DO UPDATE SET "
    "aor = excluded.aor, contact_uri = excluded.contact_uri, instance_id = excluded.instance_id, "
    "call_id = excluded.call_id, cseq = excluded.cseq, expires_at = excluded.expires_at, "
    "q = excluded.q, transport = excluded.transport, local_ip = excluded.local_ip, "
    "local_port = excluded.local_port, source_ip = excluded.source_ip, "
    "source_port = excluded.source_port, behind_nat = excluded.behind_nat, "
    "user_agent = excluded.user_agent, connection_id = excluded.connection_id, "
    "updated_at = excluded.updated_at";

BindingRecord readRow(const Statement& row) {
  BindingRecord b;
  b.id = row.int64(0);
  b.extensionId = row.int64(1);
  b.aor = row.text(2);
  b.contactUri = row.text(3);
  b.instanceId = row.optionalText(4);
  b.callId = row.text(5);
  b.cseq = static_cast<std::uint32_t>(row.int64(6));
  b.expiresAt = row.int64(7);
  b.q = row.optionalReal(8);
  b.transport = row.text(9);
  b.localIp = row.text(10);
  b.localPort = static_cast<std::uint16_t>(row.int32(11));
  b.sourceIp = row.text(12);
  b.sourcePort = static_cast<std::uint16_t>(row.int32(13));
  b.behindNat = row.boolean(14);
  b.userAgent = row.text(15);
  b.connectionId = row.optionalInt64(16);
  b.updatedAt = row.int64(17);
  return b;
}

}  // namespace

SqliteBindingRepository::SqliteBindingRepository(Database& db)
    : db_(db),
      upsert_(db, kUpsert),
      remove_(db, "DELETE FROM bindings WHERE extension_id = ?1 AND binding_key = ?2") {}

void SqliteBindingRepository::upsertMany(std::span<const BindingRecord> bindings) {
  if (bindings.empty()) return;
  Transaction tx(db_);
  for (const BindingRecord& b : bindings) {
    upsert_.reset();
    upsert_.bind(1, b.extensionId)
        .bind(2, b.aor)
        .bind(3, b.contactUri)
        .bind(4, b.instanceId)
        .bind(5, b.callId)
        .bind(6, static_cast<std::int64_t>(b.cseq))
        .bind(7, b.expiresAt)
        .bind(8, b.q)
        .bind(9, b.transport)
        .bind(10, b.localIp)
        .bind(11, static_cast<int>(b.localPort))
        .bind(12, b.sourceIp)
        .bind(13, static_cast<int>(b.sourcePort))
        .bind(14, b.behindNat)
        .bind(15, b.userAgent)
        .bind(16, b.connectionId)
        .bind(17, b.updatedAt);
    upsert_.run();
  }
  upsert_.reset();
  tx.commit();
}

std::size_t SqliteBindingRepository::removeMany(std::span<const BindingKey> keys) {
  if (keys.empty()) return 0;
  std::size_t removed = 0;
  Transaction tx(db_);
  for (const BindingKey& k : keys) {
    remove_.reset();
    remove_.bind(1, k.extensionId).bind(2, k.key).run();
    removed += static_cast<std::size_t>(db_.changes());
  }
  remove_.reset();
  tx.commit();
  return removed;
}

std::size_t SqliteBindingRepository::removeAllOf(std::int64_t extensionId) {
  Statement s(db_, "DELETE FROM bindings WHERE extension_id = ?1");
  s.bind(1, extensionId).run();
  return static_cast<std::size_t>(db_.changes());
}

std::vector<BindingRecord> SqliteBindingRepository::loadUnexpired(std::int64_t now) {
  Statement s(db_, "SELECT " + std::string(kColumns) +
                       " FROM bindings WHERE expires_at > ?1 ORDER BY extension_id, binding_key");
  s.bind(1, now);
  std::vector<BindingRecord> out;
  while (s.step()) out.push_back(readRow(s));
  return out;
}

std::size_t SqliteBindingRepository::purgeExpired(std::int64_t now) {
  Statement s(db_, "DELETE FROM bindings WHERE expires_at <= ?1");
  s.bind(1, now).run();
  return static_cast<std::size_t>(db_.changes());
}

}  // namespace duplex::db
