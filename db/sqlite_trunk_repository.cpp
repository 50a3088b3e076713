// SQLite trunks, outbound routes and inbound numbers; see trunk_repository.h.
#include <string>

#include "db/sqlite_repositories.h"

namespace duplex::db {
namespace {

// Codec names and IP/CIDR entries hold no commas (the admin API checks).
std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// ------------------------------------------------------------------ trunks

constexpr std::string_view kTrunkColumns =
    "id, name, enabled, host, port, transport, username, password, auth_username, realm, "
    "register, register_interval, outbound_proxy, caller_id, max_calls, codecs, from_domain, "
    "from_user, extra_addresses, created_at, updated_at";

TrunkRecord readTrunk(const Statement& row) {
  TrunkRecord r;
  r.id = row.int64(0);
  r.name = row.text(1);
  r.enabled = row.boolean(2);
  r.host = row.text(3);
  r.port = row.int32(4);
  r.transport = row.text(5);
  r.username = row.text(6);
  r.password = row.text(7);
  r.authUsername = row.text(8);
  r.realm = row.text(9);
  r.registration = row.boolean(10);
  r.registerIntervalSeconds = row.int32(11);
  r.outboundProxy = row.text(12);
  r.callerId = row.text(13);
  if (!row.isNull(14)) r.maxCalls = row.int32(14);
  r.codecs = splitList(row.text(15));
  r.fromDomain = row.text(16);
  r.fromUser = row.text(17);
  r.extraAddresses = splitList(row.text(18));
  r.createdAt = row.int64(19);
  r.updatedAt = row.int64(20);
  return r;
}

// ?1..?18 in this order, for INSERT and UPDATE.
constexpr std::string_view kTrunkEditable =
    "name, enabled, host, port, transport, username, password, auth_username, realm, register, "
    "register_interval, outbound_proxy, caller_id, max_calls, codecs, from_domain, from_user, "
    "extra_addresses";

void bindTrunk(Statement& s, const TrunkRecord& r) {
  s.bind(1, r.name)
      .bind(2, r.enabled)
      .bind(3, r.host)
      .bind(4, r.port)
      .bind(5, r.transport)
      .bind(6, r.username)
      .bind(7, r.password)
      .bind(8, r.authUsername)
      .bind(9, r.realm)
      .bind(10, r.registration)
      .bind(11, r.registerIntervalSeconds)
      .bind(12, r.outboundProxy)
      .bind(13, r.callerId)
      .bind(14, r.maxCalls)
      .bind(15, joinList(r.codecs))
      .bind(16, r.fromDomain)
      .bind(17, r.fromUser)
      .bind(18, joinList(r.extraAddresses));
}

std::string assignments(std::string_view columns) {
  std::string out;
  int index = 1;
  std::size_t start = 0;
  while (start < columns.size()) {
    std::size_t end = columns.find(',', start);
    if (end == std::string_view::npos) end = columns.size();
    std::string_view name = columns.substr(start, end - start);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    out += (out.empty() ? "" : ", ") + std::string(name) + " = ?" + std::to_string(index++);
    start = end + 1;
  }
  return out;
}

std::string placeholders(int count) {
  std::string out;
  for (int i = 1; i <= count; ++i) out += (i > 1 ? ", ?" : "?") + std::to_string(i);
  return out;
}

constexpr std::string_view kTouch = "updated_at = CAST(strftime('%s', 'now') AS INTEGER)";

// ------------------------------------------------------------------ routes

constexpr std::string_view kRouteColumns =
    "id, name, position, enabled, pattern, strip, prefix, caller_id, created_at, updated_at";
constexpr std::string_view kRouteEditable =
    "name, position, enabled, pattern, strip, prefix, caller_id";

OutboundRouteRecord readRoute(const Statement& row) {
  OutboundRouteRecord r;
  r.id = row.int64(0);
  r.name = row.text(1);
  r.position = row.int32(2);
  r.enabled = row.boolean(3);
  r.pattern = row.text(4);
  r.stripDigits = row.int32(5);
  r.prefix = row.text(6);
  r.callerId = row.text(7);
  r.createdAt = row.int64(8);
  r.updatedAt = row.int64(9);
  return r;
}

void bindRoute(Statement& s, const OutboundRouteRecord& r) {
  s.bind(1, r.name)
      .bind(2, r.position)
      .bind(3, r.enabled)
      .bind(4, r.pattern)
      .bind(5, r.stripDigits)
      .bind(6, r.prefix)
      .bind(7, r.callerId);
}

// --------------------------------------------------------- inbound numbers

constexpr std::string_view kInboundSelect =
    "SELECT n.id, n.number, n.extension_id, e.number, n.trunk_id, n.created_at, n.updated_at "
    "FROM inbound_numbers n JOIN extensions e ON e.id = n.extension_id ";

InboundNumberRecord readInbound(const Statement& row) {
  InboundNumberRecord r;
  r.id = row.int64(0);
  r.number = row.text(1);
  r.extensionId = row.int64(2);
  r.extensionNumber = row.text(3);
  r.trunkId = row.optionalInt64(4);
  r.createdAt = row.int64(5);
  r.updatedAt = row.int64(6);
  return r;
}

// The admin API turns DuplicateKeyError into 409; its message is what the
// user reads, so it names the value rather than the SQL.
[[noreturn]] void rethrowDuplicate(const std::string& what, const DuplicateKeyError& e) {
  throw DuplicateKeyError(what + " already exists", e.code());
}

}  // namespace

// ================================================================== trunks

std::vector<TrunkRecord> SqliteTrunkRepository::list() {
  Statement s(db_, "SELECT " + std::string(kTrunkColumns) + " FROM trunks ORDER BY name");
  std::vector<TrunkRecord> out;
  while (s.step()) out.push_back(readTrunk(s));
  return out;
}

std::optional<TrunkRecord> SqliteTrunkRepository::findById(std::int64_t id) {
  Statement s(db_, "SELECT " + std::string(kTrunkColumns) + " FROM trunks WHERE id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return readTrunk(s);
}

TrunkRecord SqliteTrunkRepository::insert(const TrunkRecord& record) {
  Statement s(db_, "INSERT INTO trunks (" + std::string(kTrunkEditable) + ") VALUES (" +
                       placeholders(18) + ") RETURNING " + std::string(kTrunkColumns));
  bindTrunk(s, record);
  bool returned = false;
  try {
    returned = s.step();
  } catch (const DuplicateKeyError& e) {
    rethrowDuplicate("trunk " + record.name, e);
  }
  if (!returned) throw DbError("database " + db_.path() + ": insert trunk returned no row");
  TrunkRecord stored = readTrunk(s);
  s.run();
  return stored;
}

bool SqliteTrunkRepository::update(const TrunkRecord& record) {
  Statement s(db_, "UPDATE trunks SET " + assignments(kTrunkEditable) + ", " + std::string(kTouch) +
                       " WHERE id = ?19");
  bindTrunk(s, record);
  s.bind(19, record.id);
  try {
    s.run();
  } catch (const DuplicateKeyError& e) {
    rethrowDuplicate("trunk " + record.name, e);
  }
  return db_.changes() > 0;
}

bool SqliteTrunkRepository::remove(std::int64_t id) {
  Transaction transaction(db_);
  std::vector<std::string> users;
  {
    Statement s(db_,
                "SELECT 'outbound route ' || r.name FROM outbound_route_trunks t "
                "JOIN outbound_routes r ON r.id = t.route_id WHERE t.trunk_id = ?1 "
                "ORDER BY r.position, r.id");
    s.bind(1, id);
    while (s.step()) users.push_back(s.text(0));
  }
  {
    Statement s(db_,
                "SELECT 'inbound number ' || number FROM inbound_numbers WHERE trunk_id = ?1 "
                "ORDER BY number");
    s.bind(1, id);
    while (s.step()) users.push_back(s.text(0));
  }
  if (!users.empty()) {
    std::string message = "trunk " + std::to_string(id) + " is used by ";
    for (std::size_t i = 0; i < users.size(); ++i) message += (i ? ", " : "") + users[i];
    throw TrunkInUseError(message, std::move(users));
  }
  Statement s(db_, "DELETE FROM trunks WHERE id = ?1");
  s.bind(1, id).run();
  const bool removed = db_.changes() > 0;
  transaction.commit();
  return removed;
}

// ================================================================== routes

std::vector<std::int64_t> SqliteOutboundRouteRepository::trunksOf(std::int64_t routeId) {
  Statement s(db_, "SELECT trunk_id FROM outbound_route_trunks WHERE route_id = ?1 ORDER BY rank");
  s.bind(1, routeId);
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.int64(0));
  return out;
}

void SqliteOutboundRouteRepository::writeTrunks(std::int64_t routeId,
                                                const std::vector<std::int64_t>& trunkIds) {
  Statement clear(db_, "DELETE FROM outbound_route_trunks WHERE route_id = ?1");
  clear.bind(1, routeId).run();
  Statement add(db_,
                "INSERT INTO outbound_route_trunks (route_id, trunk_id, rank) VALUES (?1, ?2, ?3)");
  for (std::size_t rank = 0; rank < trunkIds.size(); ++rank) {
    add.reset();
    add.bind(1, routeId).bind(2, trunkIds[rank]).bind(3, static_cast<std::int64_t>(rank));
    try {
      add.run();
    } catch (const DuplicateKeyError& e) {
      throw DbError("outbound route lists trunk " + std::to_string(trunkIds[rank]) + " twice",
                    e.code());
    }
  }
}

std::vector<OutboundRouteRecord> SqliteOutboundRouteRepository::list() {
  std::vector<OutboundRouteRecord> out;
  {
    Statement s(db_, "SELECT " + std::string(kRouteColumns) +
                         " FROM outbound_routes ORDER BY position, id");
    while (s.step()) out.push_back(readRoute(s));
  }
  Statement t(db_, "SELECT route_id, trunk_id FROM outbound_route_trunks ORDER BY route_id, rank");
  while (t.step()) {
    const std::int64_t route = t.int64(0);
    for (auto& r : out) {
      if (r.id == route) r.trunkIds.push_back(t.int64(1));
    }
  }
  return out;
}

std::optional<OutboundRouteRecord> SqliteOutboundRouteRepository::findById(std::int64_t id) {
  Statement s(db_, "SELECT " + std::string(kRouteColumns) + " FROM outbound_routes WHERE id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  OutboundRouteRecord r = readRoute(s);
  s.reset();
  r.trunkIds = trunksOf(id);
  return r;
}

OutboundRouteRecord SqliteOutboundRouteRepository::insert(const OutboundRouteRecord& record) {
  Transaction transaction(db_);
  std::int64_t id = 0;
  {
    Statement s(db_, "INSERT INTO outbound_routes (" + std::string(kRouteEditable) + ") VALUES (" +
                         placeholders(7) + ")");
    bindRoute(s, record);
    try {
      s.run();
    } catch (const DuplicateKeyError& e) {
      rethrowDuplicate("outbound route " + record.name, e);
    }
    id = db_.lastInsertRowid();
  }
  writeTrunks(id, record.trunkIds);
  transaction.commit();
  return *findById(id);
}

bool SqliteOutboundRouteRepository::update(const OutboundRouteRecord& record) {
  Transaction transaction(db_);
  Statement s(db_, "UPDATE outbound_routes SET " + assignments(kRouteEditable) + ", " +
                       std::string(kTouch) + " WHERE id = ?8");
  bindRoute(s, record);
  s.bind(8, record.id);
  try {
    s.run();
  } catch (const DuplicateKeyError& e) {
    rethrowDuplicate("outbound route " + record.name, e);
  }
  if (db_.changes() == 0) return false;
  writeTrunks(record.id, record.trunkIds);
  transaction.commit();
  return true;
}

bool SqliteOutboundRouteRepository::remove(std::int64_t id) {
  Statement s(db_, "DELETE FROM outbound_routes WHERE id = ?1");  // trunk list by cascade
  s.bind(1, id).run();
  return db_.changes() > 0;
}

std::vector<std::string> SqliteOutboundRouteRepository::routesUsing(std::int64_t trunkId) {
  Statement s(db_,
              "SELECT r.name FROM outbound_route_trunks t JOIN outbound_routes r "
              "ON r.id = t.route_id WHERE t.trunk_id = ?1 ORDER BY r.position, r.id");
  s.bind(1, trunkId);
  std::vector<std::string> out;
  while (s.step()) out.push_back(s.text(0));
  return out;
}

// ========================================================= inbound numbers

std::vector<InboundNumberRecord> SqliteInboundNumberRepository::list() {
  Statement s(db_, std::string(kInboundSelect) + "ORDER BY n.number");
  std::vector<InboundNumberRecord> out;
  while (s.step()) out.push_back(readInbound(s));
  return out;
}

std::optional<InboundNumberRecord> SqliteInboundNumberRepository::findById(std::int64_t id) {
  Statement s(db_, std::string(kInboundSelect) + "WHERE n.id = ?1");
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return readInbound(s);
}

std::optional<InboundNumberRecord> SqliteInboundNumberRepository::findByNumber(
    std::string_view number) {
  Statement s(db_, std::string(kInboundSelect) + "WHERE n.number = ?1");
  s.bind(1, number);
  if (!s.step()) return std::nullopt;
  return readInbound(s);
}

InboundNumberRecord SqliteInboundNumberRepository::insert(const InboundNumberRecord& record) {
  Statement s(db_,
              "INSERT INTO inbound_numbers (number, extension_id, trunk_id) VALUES (?1, ?2, ?3)");
  s.bind(1, record.number).bind(2, record.extensionId).bind(3, record.trunkId);
  try {
    s.run();
  } catch (const DuplicateKeyError& e) {
    rethrowDuplicate("inbound number " + record.number, e);
  }
  return *findById(db_.lastInsertRowid());
}

bool SqliteInboundNumberRepository::update(const InboundNumberRecord& record) {
  Statement s(db_, "UPDATE inbound_numbers SET number = ?1, extension_id = ?2, trunk_id = ?3, " +
                       std::string(kTouch) + " WHERE id = ?4");
  s.bind(1, record.number).bind(2, record.extensionId).bind(3, record.trunkId).bind(4, record.id);
  try {
    s.run();
  } catch (const DuplicateKeyError& e) {
    rethrowDuplicate("inbound number " + record.number, e);
  }
  return db_.changes() > 0;
}

bool SqliteInboundNumberRepository::remove(std::int64_t id) {
  Statement s(db_, "DELETE FROM inbound_numbers WHERE id = ?1");
  s.bind(1, id).run();
  return db_.changes() > 0;
}

}  // namespace duplex::db
