#include "registrar/binding_writer.h"

#include <spdlog/spdlog.h>

#include <functional>
#include <iterator>
#include <stdexcept>
#include <vector>

#include "db/database.h"
#include "db/sqlite_repositories.h"

namespace duplex::registrar {
namespace {

using Clock = std::chrono::steady_clock;

spdlog::logger& writerLog() {
  std::shared_ptr<spdlog::logger> named = spdlog::get("registrar");
  return named ? *named : *spdlog::default_logger_raw();
}

// SQLite's primary result code SQLITE_CONSTRAINT; DbError::code() carries the
// extended code (e.g. SQLITE_CONSTRAINT_FOREIGNKEY), whose low byte is this.
// Named here rather than including sqlite3.h: the registrar sees db/ only.
constexpr int kSqliteConstraint = 19;

bool isConstraint(int code) {
  return (code & 0xff) == kSqliteConstraint;
}

struct WriteOutcome {
  std::optional<std::string> error;  // set: nothing was committed
  std::uint64_t rejected = 0;
  std::string rejectedExample;
};

// One transaction: removals, then upserts. A constraint failure (the
// extension of a queued binding was deleted) would fail every retry, so the
// batch is then written row by row, each upsert a savepoint of its own
// (Transaction nests), and only the refused rows are left out.
WriteOutcome writeBatch(db::Database& database, db::BindingRepository& repository,
                        std::span<const db::BindingRecord> upserts,
                        std::span<const db::BindingKey> removals) {
  WriteOutcome out;
  try {
    try {
      db::Transaction tx(database);
      repository.removeMany(removals);
      repository.upsertMany(upserts);
      tx.commit();
    } catch (const db::DbError& e) {
      if (!isConstraint(e.code())) throw;
      db::Transaction tx(database);
      repository.removeMany(removals);
      for (const db::BindingRecord& record : upserts) {
        try {
          repository.upsertMany(std::span(&record, 1));
        } catch (const db::DbError& row) {
          if (!isConstraint(row.code())) throw;
          if (out.rejected++ == 0) out.rejectedExample = row.what();
        }
      }
      tx.commit();
    }
  } catch (const std::exception& e) {
    out = WriteOutcome{};
    out.error = e.what();
  } catch (...) {
    out = WriteOutcome{};
    out.error = "unknown exception";
  }
  return out;
}

}  // namespace

std::size_t BindingWriter::KeyRefHash::operator()(const KeyRef& k) const {
  return std::hash<std::string_view>{}(k.key) ^
         (static_cast<std::size_t>(k.extensionId) * 0x9e3779b97f4a7c15ULL);
}

BindingWriter::BindingWriter(std::string databasePath, Options options) : options_(options) {
  if (options_.flushInterval.count() <= 0 || options_.maxBatch == 0 || options_.maxPending == 0) {
    throw std::invalid_argument(
        "BindingWriter: flushInterval, maxBatch and maxPending must be positive");
  }
  std::promise<void> opened;
  std::future<void> result = opened.get_future();
  thread_ = std::thread([this, path = std::move(databasePath), &opened] { run(path, opened); });
  try {
    result.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

BindingWriter::~BindingWriter() {
  stop();
}

void BindingWriter::onBindingsChanged(std::span<const db::BindingRecord> upserts,
                                      std::span<const db::BindingKey> removals) {
  if (upserts.empty() && removals.empty()) return;
  std::uint64_t dropped = 0;
  bool startedDropping = false;
  bool firstAfterStop = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) {
      dropped = upserts.size() + removals.size();
      firstAfterStop = !std::exchange(droppedAfterStop_, true);
    } else {
      const std::uint64_t seq = ++handedOver_;
      for (const db::BindingKey& key : removals) {
        if (!stageLocked(key.extensionId, key.key, nullptr, seq)) ++dropped;
      }
      for (const db::BindingRecord& record : upserts) {
        if (!stageLocked(record.extensionId, record.key(), &record, seq)) ++dropped;
      }
      if (dropped > 0) {
        startedDropping = !std::exchange(queueFull_, true);
        droppedWhileFull_ += dropped;
      }
      pending_.store(queue_.size(), std::memory_order_relaxed);
      wake = queue_.size() >= options_.maxBatch;
    }
  }
  if (wake) wakeWriter_.notify_one();
  if (dropped == 0) return;
  changesDropped_.fetch_add(dropped, std::memory_order_relaxed);
  if (startedDropping) {
    writerLog().warn(
        "binding writer: {} binding changes queued, the limit; changes of further bindings are "
        "dropped until the database catches up (their next refresh queues them again)",
        options_.maxPending);
  }
  if (firstAfterStop) {
    writerLog().error("binding writer: binding changes handed over after stop() are dropped");
  }
}

bool BindingWriter::stageLocked(std::int64_t extensionId, std::string_view key,
                                const db::BindingRecord* upsert, std::uint64_t seq) {
  const auto found = index_.find(KeyRef{extensionId, key});
  if (found != index_.end()) {
    // Coalesce: the later change wins; the entry keeps its place and firstSeq,
    // so a flush() waiting for the earlier change waits for this one.
    Change& change = *found->second;
    if (upsert != nullptr) {
      change.upsert = *upsert;  // assigns in place, reusing the strings' storage
    } else {
      change.upsert.reset();
    }
    return true;
  }
  if (queue_.size() >= options_.maxPending) return false;
  queue_.push_back(Change{db::BindingKey{extensionId, std::string(key)},
                          upsert != nullptr ? std::optional(*upsert) : std::nullopt, seq});
  const auto node = std::prev(queue_.end());
  index_.emplace(KeyRef{extensionId, node->key.key}, node);
  return true;
}

void BindingWriter::takeBatchLocked(ChangeList& batch) {
  const std::size_t count = std::min(queue_.size(), options_.maxBatch);
  const auto end = std::next(queue_.begin(), static_cast<std::ptrdiff_t>(count));
  for (auto it = queue_.begin(); it != end; ++it) {
    index_.erase(KeyRef{it->key.extensionId, it->key.key});
  }
  batch.splice(batch.end(), queue_, queue_.begin(), end);
  inFlightFirstSeq_ = batch.front().firstSeq;
  pending_.store(queue_.size(), std::memory_order_relaxed);
}

// A failed batch goes back to the front: it is older than everything queued
// since. Where a key was changed again meanwhile, the newer change stays and
// takes over the older firstSeq (and place), so flush() still waits for it.
void BindingWriter::putBackLocked(ChangeList& batch) {
  while (!batch.empty()) {
    const auto last = std::prev(batch.end());
    const auto found = index_.find(KeyRef{last->key.extensionId, last->key.key});
    if (found != index_.end()) {
      found->second->firstSeq = last->firstSeq;
      queue_.splice(queue_.begin(), queue_, found->second);
      batch.erase(last);
    } else {
      queue_.splice(queue_.begin(), batch, last);
      index_.emplace(KeyRef{queue_.front().key.extensionId, queue_.front().key.key},
                     queue_.begin());
    }
  }
  pending_.store(queue_.size(), std::memory_order_relaxed);
}

bool BindingWriter::durableLocked(std::uint64_t target) const {
  return (inFlightFirstSeq_ == 0 || inFlightFirstSeq_ > target) &&
         (queue_.empty() || queue_.front().firstSeq > target);
}

void BindingWriter::run(const std::string& databasePath, std::promise<void>& opened) {
  // Declared in this order so that the repository (its prepared statements)
  // is destroyed before the connection.
  std::optional<db::Database> database;
  std::optional<db::SqliteBindingRepository> repository;
  try {
    db::DatabaseOptions dbOptions;
    dbOptions.busyTimeout = options_.busyTimeout;
    database.emplace(databasePath, dbOptions);
    repository.emplace(*database);
  } catch (...) {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    opened.set_exception(std::current_exception());
    return;
  }
  opened.set_value();  // `opened` dies with the constructor from here on

  std::vector<db::BindingRecord> upserts;
  std::vector<db::BindingKey> removals;
  std::uint64_t droppedAtStop = 0;
  bool retrying = false;
  std::unique_lock lock(mutex_);
  for (;;) {
    const Clock::time_point deadline = Clock::now() + options_.flushInterval;
    if (retrying) {
      // A failing database is retried once per interval, whoever asks sooner.
      while (Clock::now() < deadline) wakeWriter_.wait_until(lock, deadline);
    } else {
      wakeWriter_.wait_until(lock, deadline, [this] {
        return stopping_ ||
               (!queue_.empty() && (queue_.size() >= options_.maxBatch || flushWaiters_ > 0));
      });
    }
    if (queue_.empty()) {
      if (stopping_) break;
      continue;
    }
    ChangeList batch;
    takeBatchLocked(batch);
    bool drained = false;
    std::uint64_t droppedWhileFull = 0;
    if (queueFull_ && queue_.size() < options_.maxPending) {
      queueFull_ = false;
      drained = true;
      droppedWhileFull = std::exchange(droppedWhileFull_, 0);
    }
    lock.unlock();

    if (drained) {
      writerLog().info("binding writer: queue below its limit again; {} binding changes dropped",
                       droppedWhileFull);
    }
    upserts.clear();
    removals.clear();
    for (const Change& change : batch) {
      if (change.upsert) {
        upserts.push_back(*change.upsert);
      } else {
        removals.push_back(change.key);
      }
    }
    const WriteOutcome outcome = writeBatch(*database, *repository, upserts, removals);
    if (outcome.error) {
      noteFailure(*outcome.error);
    } else {
      batchesWritten_.fetch_add(1, std::memory_order_relaxed);
      rowsWritten_.fetch_add(batch.size() - outcome.rejected, std::memory_order_relaxed);
      noteSuccess();
      if (outcome.rejected > 0) {
        rowsRejected_.fetch_add(outcome.rejected, std::memory_order_relaxed);
        writerLog().warn("binding writer: {} bindings refused by the database and dropped: {}",
                         outcome.rejected, outcome.rejectedExample);
      }
    }

    lock.lock();
    inFlightFirstSeq_ = 0;
    retrying = outcome.error.has_value();
    if (retrying) {
      putBackLocked(batch);
      if (stopping_ && Clock::now() >= stopDeadline_) {
        droppedAtStop = queue_.size();
        queue_.clear();
        index_.clear();
        pending_.store(0, std::memory_order_relaxed);
        break;
      }
    }
    written_.notify_all();
  }
  stopped_ = true;
  lock.unlock();
  written_.notify_all();
  if (droppedAtStop > 0) {
    changesDropped_.fetch_add(droppedAtStop, std::memory_order_relaxed);
    writerLog().error(
        "binding writer: stopping with the database still failing; {} queued binding changes "
        "dropped (phones re-register): {}",
        droppedAtStop, stats().lastError);
  }
}

void BindingWriter::noteFailure(const std::string& message) {
  failedAttempts_.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard lock(errorMutex_);
    lastError_ = message;
  }
  if (!failing_.exchange(true)) {
    writerLog().warn(
        "binding writer: writing bindings failed; the batch stays queued and is retried every "
        "{} ms: {}",
        options_.flushInterval.count(), message);
  }
}

void BindingWriter::noteSuccess() {
  if (failing_.exchange(false)) {
    writerLog().info("binding writer: writing bindings works again ({} failed attempts so far)",
                     failedAttempts_.load(std::memory_order_relaxed));
  }
}

bool BindingWriter::waitDurable(std::optional<Clock::time_point> deadline) {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = handedOver_;
  if (durableLocked(target) || stopped_) return durableLocked(target);
  ++flushWaiters_;
  wakeWriter_.notify_one();
  const auto done = [&] { return stopped_ || durableLocked(target); };
  if (deadline) {
    written_.wait_until(lock, *deadline, done);
  } else {
    written_.wait(lock, done);
  }
  --flushWaiters_;
  return durableLocked(target);
}

void BindingWriter::flush() {
  waitDurable(std::nullopt);
}

bool BindingWriter::flushFor(std::chrono::milliseconds timeout) {
  return waitDurable(Clock::now() + timeout);
}

void BindingWriter::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stopDeadline_ = Clock::now() + options_.stopRetryFor;
  }
  wakeWriter_.notify_one();
  thread_.join();
}

BindingWriter::Stats BindingWriter::stats() const {
  Stats s;
  s.batchesWritten = batchesWritten_.load(std::memory_order_relaxed);
  s.rowsWritten = rowsWritten_.load(std::memory_order_relaxed);
  s.failedAttempts = failedAttempts_.load(std::memory_order_relaxed);
  s.rowsRejected = rowsRejected_.load(std::memory_order_relaxed);
  s.changesDropped = changesDropped_.load(std::memory_order_relaxed);
  s.pending = pending_.load(std::memory_order_relaxed);
  s.failing = failing_.load(std::memory_order_relaxed);
  std::lock_guard lock(errorMutex_);
  s.lastError = lastError_;
  return s;
}

}  // namespace duplex::registrar
