// BindingWriter: the batched write-behind of registration bindings (DESIGN.md
// "Threads and data flow": writes off the SIP loop's hot path). The Registrar
// hands every change of its binding set to onBindingsChanged() on the SIP
// loop; the writer only queues it, coalesced by binding key, and a thread of
// its own writes the queue to SQLite every flush interval, one transaction
// per batch. A kill -9 under load loses at most the changes of the last
// interval or two (200 ms by default) and never corrupts the database: every
// batch commits whole or not at all (WAL mode, db/database.h).
//
// For: pbx/app (wiring: one writer per daemon, the Registrar's BindingSink;
// flush() and stop() at shutdown), tests and tools.
//
// Threads:
//   - onBindingsChanged(): the SIP loop (any single thread). Copies the
//     records into the pending queue under a mutex and returns; it never
//     touches SQLite, never blocks on disk, never throws for a write error.
//   - flush(), flushFor(), stop(), the destructor: any thread but the SIP loop
//     (they wait for the disk). Not concurrently with the destructor.
//   - stats(): any thread, any time.
//   - The writer thread owns its db::Database and SqliteBindingRepository
//     (one connection per thread, db/db.h); nothing else touches them.
//
// Coalescing: the queue holds at most one change per (extension, key): the
// last upsert or removal handed over wins, so a refresh storm of one binding
// writes one row per flush. Removals are written before upserts; within one
// change set a key is never in both (BindingSink).
//
// Errors:
//   - Constructor: db::DbError (and subclasses: SchemaTooNewError,
//     MigrationError) if the database cannot be opened or migrated;
//     std::invalid_argument for a zero flush interval, batch size or queue
//     limit; std::system_error if the thread cannot start.
//   - A failed batch (SQLITE_BUSY beyond the busy timeout, disk full, I/O
//     error): logged once when writing starts failing and once when it
//     recovers; the batch goes back to the queue, older than anything queued
//     since, and is retried every flush interval. Never lost silently.
//   - Rows the database refuses (a constraint failure: the extension was
//     deleted while its binding was queued): retrying cannot help, so the
//     batch is written row by row, the refused rows are dropped, counted in
//     Stats::rowsRejected and logged as a warning.
//   - Queue full (Options::maxPending keys, the database stalled for long):
//     changes of keys already queued still coalesce; changes of new keys are
//     dropped and counted in Stats::changesDropped; logged once when the
//     queue fills and once when it drains. The in-memory binding stays right
//     and its next refresh queues it again.
//   - stop() with the database still failing: retries for
//     Options::stopRetryFor, then logs an error naming how many changes it
//     drops (Stats::changesDropped) and returns.
//   - Changes handed over after stop() are dropped, counted and logged once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>

#include "db/binding_repository.h"
#include "registrar/registrar.h"

namespace duplex::registrar {

class BindingWriter final : public BindingSink {
 public:
  struct Options {
    // How often the writer thread commits what is queued.
    std::chrono::milliseconds flushInterval{200};
    // Most keys per transaction; the writer also wakes early when this many
    // are queued. Keeps each commit short for the admin API's writers.
    std::size_t maxBatch = 5000;
    // Most keys queued (see Errors: queue full).
    std::size_t maxPending = 200'000;
    // db::DatabaseOptions::busyTimeout of the writer's connection.
    std::chrono::milliseconds busyTimeout{5000};
    // How long stop() keeps retrying a failing database before dropping.
    std::chrono::milliseconds stopRetryFor{10'000};
  };

  // A snapshot of the counters; every field read atomically on its own.
  struct Stats {
    std::uint64_t batchesWritten = 0;  // committed transactions
    std::uint64_t rowsWritten = 0;     // upserts + removals committed
    std::uint64_t failedAttempts = 0;  // batches rolled back, to be retried
    std::uint64_t rowsRejected = 0;    // refused by a constraint, dropped
    std::uint64_t changesDropped = 0;  // queue full, after stop(), or at stop()
    std::size_t pending = 0;           // keys queued, not counting the batch in flight
    bool failing = false;              // the last attempt failed
    std::string lastError;             // message of the latest failure; empty if none yet
  };

  // Opens `databasePath` on the writer thread (migrating it if needed) and
  // returns once it is open. Throws as listed in the header comment.
  explicit BindingWriter(std::string databasePath, Options options);
  explicit BindingWriter(std::string databasePath) : BindingWriter(std::move(databasePath), {}) {}
  // stop().
  ~BindingWriter() override;
  BindingWriter(const BindingWriter&) = delete;
  BindingWriter& operator=(const BindingWriter&) = delete;

  // SIP loop: queue the changes; cheap, never blocks on SQLite.
  void onBindingsChanged(std::span<const db::BindingRecord> upserts,
                         std::span<const db::BindingKey> removals) override;

  // Blocks until every change handed over before the call is committed (or
  // superseded by a later change that is). Wakes the writer at once. Waits
  // as long as the database keeps failing; returns at once after stop().
  void flush();
  // flush() with a limit: true if everything was committed in time.
  bool flushFor(std::chrono::milliseconds timeout);
  // Writes what is queued (see Errors for a failing database), then ends the
  // writer thread. Idempotent.
  void stop();

  Stats stats() const;

 private:
  // A queued change: the record to upsert, or nullopt for a removal.
  // `firstSeq` is the hand-over of the oldest change coalesced into it that
  // is not yet on disk; the queue is ordered by it.
  struct Change {
    db::BindingKey key;
    std::optional<db::BindingRecord> upsert;
    std::uint64_t firstSeq = 0;
  };
  using ChangeList = std::list<Change>;
  // Index key pointing into the list node's own key (nodes never move).
  struct KeyRef {
    std::int64_t extensionId;
    std::string_view key;
    bool operator==(const KeyRef&) const = default;
  };
  struct KeyRefHash {
    std::size_t operator()(const KeyRef& k) const;
  };

  void run(const std::string& databasePath, std::promise<void>& opened);
  // Under mutex_. False if the change was dropped (queue full).
  bool stageLocked(std::int64_t extensionId, std::string_view key, const db::BindingRecord* upsert,
                   std::uint64_t seq);
  void takeBatchLocked(ChangeList& batch);
  void putBackLocked(ChangeList& batch);
  bool durableLocked(std::uint64_t target) const;
  bool waitDurable(std::optional<std::chrono::steady_clock::time_point> deadline);
  void noteFailure(const std::string& message);
  void noteSuccess();

  const Options options_;

  mutable std::mutex mutex_;
  std::condition_variable wakeWriter_;  // work to do, flush requested, stop
  std::condition_variable written_;     // a batch committed or failed
  ChangeList queue_;                    // ordered by firstSeq
  std::unordered_map<KeyRef, ChangeList::iterator, KeyRefHash> index_;
  std::uint64_t handedOver_ = 0;        // seq of the latest onBindingsChanged()
  std::uint64_t inFlightFirstSeq_ = 0;  // 0: no batch in flight
  int flushWaiters_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;  // writer thread ended: nothing will be written
  bool queueFull_ = false;
  std::uint64_t droppedWhileFull_ = 0;
  bool droppedAfterStop_ = false;
  std::chrono::steady_clock::time_point stopDeadline_{};

  std::atomic<std::uint64_t> batchesWritten_{0};
  std::atomic<std::uint64_t> rowsWritten_{0};
  std::atomic<std::uint64_t> failedAttempts_{0};
  std::atomic<std::uint64_t> rowsRejected_{0};
  std::atomic<std::uint64_t> changesDropped_{0};
  std::atomic<std::size_t> pending_{0};
  std::atomic<bool> failing_{false};
  mutable std::mutex errorMutex_;
  std::string lastError_;

  std::thread thread_;  // started in the constructor's body, after every member exists
};

}  // namespace duplex::registrar
