// The SQLite implementations of the repository interfaces. For: the daemon's
// wiring code, which creates them over a Database it owns; everyone else
// should hold the interface. Each object uses its Database's connection and
// must be used on that Database's thread and destroyed before it.
#pragma once

#include "db/binding_repository.h"
#include "db/call_record_repository.h"
#include "db/database.h"
#include "db/extension_repository.h"
#include "db/secret_repository.h"
#include "db/settings_repository.h"
#include "db/trunk_repository.h"

namespace duplex::db {

class SqliteExtensionRepository final : public ExtensionRepository {
 public:
  explicit SqliteExtensionRepository(Database& db) : db_(db) {}

  std::optional<ExtensionRecord> findByNumber(std::string_view number) override;
  std::optional<ExtensionRecord> findById(std::int64_t id) override;
  std::vector<ExtensionRecord> list() override;
  ExtensionRecord insert(const ExtensionRecord& record) override;
  bool update(const ExtensionRecord& record) override;
  bool remove(std::int64_t id) override;

 private:
  Database& db_;
};

class SqliteSettingsRepository final : public SettingsRepository {
 public:
  explicit SqliteSettingsRepository(Database& db) : db_(db) {}

  std::optional<SettingRecord> get(std::string_view key) override;
  void set(std::string_view key, std::string_view value, bool secret) override;
  std::vector<SettingRecord> all() override;
  bool remove(std::string_view key) override;

 private:
  Database& db_;
};

// The registrar's write-behind path: statements are prepared once and reused
// for every row of every batch, so a batch costs one transaction plus one
// bind/step per row.
class SqliteBindingRepository final : public BindingRepository {
 public:
  explicit SqliteBindingRepository(Database& db);

  void upsertMany(std::span<const BindingRecord> bindings) override;
  std::size_t removeMany(std::span<const BindingKey> keys) override;
  std::size_t removeAllOf(std::int64_t extensionId) override;
  std::vector<BindingRecord> loadUnexpired(std::int64_t now) override;
  std::size_t purgeExpired(std::int64_t now) override;

 private:
  Database& db_;
  Statement upsert_;
  Statement remove_;
};

class SqliteCallRecordRepository final : public CallRecordRepository {
 public:
  explicit SqliteCallRecordRepository(Database& db);

  std::int64_t insert(const CallRecord& record) override;
  CallRecordPage query(const CallRecordQuery& query) override;

 private:
  Database& db_;
  Statement insert_;  // one per finished call: worth keeping prepared
};

class SqliteSecretRepository final : public SecretRepository {
 public:
  explicit SqliteSecretRepository(Database& db) : db_(db) {}

  std::optional<std::vector<std::uint8_t>> get(std::string_view name) override;
  std::vector<std::uint8_t> getOrCreate(std::string_view name, std::size_t size) override;

 private:
  Database& db_;
};

// Trunks, outbound routes and inbound numbers (db/trunk_repository.h). Admin
// and start-up paths only: statements are prepared per call.
class SqliteTrunkRepository final : public TrunkRepository {
 public:
  explicit SqliteTrunkRepository(Database& db) : db_(db) {}

  std::vector<TrunkRecord> list() override;
  std::optional<TrunkRecord> findById(std::int64_t id) override;
  TrunkRecord insert(const TrunkRecord& record) override;
  bool update(const TrunkRecord& record) override;
  bool remove(std::int64_t id) override;

 private:
  Database& db_;
};

class SqliteOutboundRouteRepository final : public OutboundRouteRepository {
 public:
  explicit SqliteOutboundRouteRepository(Database& db) : db_(db) {}

  std::vector<OutboundRouteRecord> list() override;
  std::optional<OutboundRouteRecord> findById(std::int64_t id) override;
  OutboundRouteRecord insert(const OutboundRouteRecord& record) override;
  bool update(const OutboundRouteRecord& record) override;
  bool remove(std::int64_t id) override;
  std::vector<std::string> routesUsing(std::int64_t trunkId) override;

 private:
  std::vector<std::int64_t> trunksOf(std::int64_t routeId);
  void writeTrunks(std::int64_t routeId, const std::vector<std::int64_t>& trunkIds);

  Database& db_;
};

class SqliteInboundNumberRepository final : public InboundNumberRepository {
 public:
  explicit SqliteInboundNumberRepository(Database& db) : db_(db) {}

  std::vector<InboundNumberRecord> list() override;
  std::optional<InboundNumberRecord> findById(std::int64_t id) override;
  std::optional<InboundNumberRecord> findByNumber(std::string_view number) override;
  InboundNumberRecord insert(const InboundNumberRecord& record) override;
  bool update(const InboundNumberRecord& record) override;
  bool remove(std::int64_t id) override;

 private:
  Database& db_;
};

}  // namespace duplex::db
