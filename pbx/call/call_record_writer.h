// Call records (CDRs) written off the SIP thread (DESIGN.md "writes off the
// SIP loop's hot path"): call control hands each finished call's record to a
// CallRecordSink on the SIP loop; CallRecordWriter queues it and a thread of
// its own inserts the queue into SQLite, one transaction per batch.
//
// "Never lost on a crash of one call": a record is built and queued the
// moment its call ends, independent of every other call; the writer thread
// commits within Options::flushInterval. A failed insert is retried every
// interval (logged once when failing starts and once on recovery); a record
// the database refuses outright (constraint failure) is logged and dropped.
//
// Threads: write() on the SIP loop (a mutex-guarded push, never waits for the
// disk); flush()/stop()/destructor on any other thread; the writer thread
// owns its db::Database. Errors: the constructor throws db::DbError when the
// database cannot be opened, std::system_error when the thread cannot start.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "db/call_record_repository.h"

namespace duplex::call {

class CallRecordSink {
 public:
  virtual ~CallRecordSink() = default;
  // SIP loop: must only queue.
  virtual void write(db::CallRecord record) = 0;
};

class CallRecordWriter final : public CallRecordSink {
 public:
  struct Options {
    std::chrono::milliseconds flushInterval{200};
  };
  explicit CallRecordWriter(std::string db_path, Options options);
  explicit CallRecordWriter(std::string db_path)
      : CallRecordWriter(std::move(db_path), Options{}) {}
  ~CallRecordWriter() override;
  CallRecordWriter(const CallRecordWriter&) = delete;
  CallRecordWriter& operator=(const CallRecordWriter&) = delete;

  void write(db::CallRecord record) override;
  // Waits until everything queued before the call is committed (or failed).
  void flush();
  // Flushes and ends the thread; later write()s are dropped and counted.
  void stop();

  std::uint64_t written() const;
  std::uint64_t dropped() const;

 private:
  void run(std::string db_path);

  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<db::CallRecord> queue_;
  std::uint64_t queued_total_ = 0;
  std::uint64_t done_total_ = 0;
  std::uint64_t written_ = 0;
  std::uint64_t dropped_ = 0;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread thread_;
};

}  // namespace duplex::call
