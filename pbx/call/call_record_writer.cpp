// The write-behind of call records; see call_record_writer.h.
#include "pbx/call/call_record_writer.h"

#include <pthread.h>

#include <spdlog/spdlog.h>

#include <future>
#include <vector>

#include "db/database.h"
#include "db/error.h"
#include "db/sqlite_repositories.h"

namespace duplex::call {
namespace {

std::shared_ptr<spdlog::logger> logger() {
  auto log = spdlog::get("app");
  return log ? log : spdlog::default_logger();
}

constexpr int kSqliteConstraint = 19;  // SQLITE_CONSTRAINT, the primary code

}  // namespace

CallRecordWriter::CallRecordWriter(std::string db_path, Options options) : options_(options) {
  std::promise<void> opened;
  auto ready = opened.get_future();
  thread_ = std::thread([this, path = std::move(db_path), p = std::move(opened)]() mutable {
    pthread_setname_np(pthread_self(), "cdr");
    try {
      db::Database probe(path);  // fail the constructor, not the thread, on a bad path
    } catch (...) {
      p.set_exception(std::current_exception());
      return;
    }
    p.set_value();
    run(std::move(path));
  });
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

CallRecordWriter::~CallRecordWriter() {
  stop();
}

void CallRecordWriter::write(db::CallRecord record) {
  std::lock_guard lock(mutex_);
  if (stopping_) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(record));
  ++queued_total_;
  wake_.notify_one();
}

void CallRecordWriter::flush() {
  std::unique_lock lock(mutex_);
  const std::uint64_t target = queued_total_;
  wake_.notify_one();
  idle_.wait(lock, [&] { return done_total_ >= target || stopped_; });
}

void CallRecordWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      if (!thread_.joinable()) return;
    }
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

std::uint64_t CallRecordWriter::written() const {
  std::lock_guard lock(mutex_);
  return written_;
}

std::uint64_t CallRecordWriter::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void CallRecordWriter::run(std::string db_path) {
  db::Database db(db_path);
  db::SqliteCallRecordRepository repo(db);
  bool failing = false;
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait_for(lock, options_.flushInterval, [&] { return !queue_.empty() || stopping_; });
    if (queue_.empty()) {
      if (stopping_) break;
      continue;
    }
    std::vector<db::CallRecord> batch(std::make_move_iterator(queue_.begin()),
                                      std::make_move_iterator(queue_.end()));
    queue_.clear();
    lock.unlock();
    std::size_t ok = 0;
    std::size_t refused = 0;
    bool retry = false;
    try {
      db.exec("BEGIN");
      for (const db::CallRecord& r : batch) {
        try {
          repo.insert(r);
          ++ok;
        } catch (const db::DbError& e) {
          if ((e.code() & 0xff) != kSqliteConstraint) throw;
          ++refused;
          logger()->warn("call record {} refused by the database: {}", r.callId, e.what());
        }
      }
      db.exec("COMMIT");
      if (failing) logger()->info("call records: writing works again");
      failing = false;
    } catch (const db::DbError& e) {
      try {
        db.exec("ROLLBACK");
      } catch (const db::DbError&) {
      }
      if (!failing) logger()->error("call records: write failed, retrying: {}", e.what());
      failing = true;
      retry = true;
      ok = 0;
    }
    lock.lock();
    if (retry) {
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) queue_.push_front(std::move(*it));
      if (stopping_) {  // one last try happens on the next round; then give up
        dropped_ += queue_.size();
        done_total_ += queue_.size();
        queue_.clear();
        idle_.notify_all();
        break;
      }
      continue;
    }
    written_ += ok;
    dropped_ += refused;
    done_total_ += batch.size();
    idle_.notify_all();
  }
  stopped_ = true;
  idle_.notify_all();
}

}  // namespace duplex::call
