// The batched write-behind of bindings, on a real database file: what is
// handed over is on disk after flush(), coalescing, ordering of removals,
// stop(), retry of a failed batch, refused rows, the queue limit, and crash
// safety of a writer killed under load. No sleeps decide a result: flush()
// and flushFor() wait for the writer. Plus a measured throughput (reported,
// not asserted).
#include "registrar/binding_writer.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>
#include <unordered_map>
#include <vector>

#include "db/sqlite_repositories.h"
#include "unit/db/test_support.h"

namespace duplex::registrar {
namespace {

using db::testing::sampleBinding;
using db::testing::sampleExtension;
using db::testing::TempDatabaseFile;
using namespace std::chrono_literals;

constexpr std::int64_t kExpiry = 4'000'000'000;

// A database file with one extension; `extensionId` is its id.
class BindingWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db::Database database(file.path());
    extensionId = db::SqliteExtensionRepository(database).insert(sampleExtension("101")).id;
  }

  db::BindingRecord binding(int n) const { return sampleBinding(extensionId, n, kExpiry); }
  db::BindingKey keyOf(int n) const { return {extensionId, binding(n).key()}; }

  // What a fresh connection sees, ids cleared so records compare with what
  // was handed over.
  std::vector<db::BindingRecord> stored() const {
    db::Database database(file.path());
    std::vector<db::BindingRecord> rows = db::SqliteBindingRepository(database).loadUnexpired(0);
    for (db::BindingRecord& row : rows) row.id = 0;
    return rows;
  }

  static BindingWriter::Options slowTicks() {
    BindingWriter::Options options;
    options.flushInterval = 1h;  // only flush() and stop() make it write
    return options;
  }

  TempDatabaseFile file;
  std::int64_t extensionId = 0;
};

void upsert(BindingSink& sink, const db::BindingRecord& record) {
  sink.onBindingsChanged(std::span(&record, 1), {});
}

void remove(BindingSink& sink, const db::BindingKey& key) {
  sink.onBindingsChanged({}, std::span(&key, 1));
}

TEST_F(BindingWriterTest, HandedOverRecordsAreOnDiskAfterFlush) {
  BindingWriter writer(file.path(), slowTicks());
  std::vector<db::BindingRecord> records = {binding(1), binding(2), binding(3)};
  records[1].instanceId = "<urn:uuid:00000000-0000-1000-8000-000000000002>";
  records[2].q = 0.7;
  records[2].connectionId = 42;
  writer.onBindingsChanged(records, {});
  EXPECT_EQ(writer.stats().pending, 3u);
  writer.flush();

  std::vector<db::BindingRecord> rows = stored();
  ASSERT_EQ(rows.size(), 3u);
  for (const db::BindingRecord& record : records) {
    EXPECT_NE(std::find(rows.begin(), rows.end(), record), rows.end()) << record.contactUri;
  }
  const BindingWriter::Stats stats = writer.stats();
  EXPECT_EQ(stats.batchesWritten, 1u);
  EXPECT_EQ(stats.rowsWritten, 3u);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_FALSE(stats.failing);
  EXPECT_EQ(stats.lastError, "");
}

TEST_F(BindingWriterTest, RefreshStormOfOneBindingWritesOneRowWithTheLastValues) {
  BindingWriter writer(file.path(), slowTicks());
  db::BindingRecord record = binding(7);
  for (std::uint32_t i = 1; i <= 1000; ++i) {
    record.cseq = i;
    record.expiresAt = kExpiry + i;
    record.sourcePort = static_cast<std::uint16_t>(30000 + i);
    upsert(writer, record);
  }
  EXPECT_EQ(writer.stats().pending, 1u);
  writer.flush();

  const std::vector<db::BindingRecord> rows = stored();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0], record);
  EXPECT_EQ(rows[0].cseq, 1000u);
  EXPECT_EQ(writer.stats().batchesWritten, 1u);
  EXPECT_EQ(writer.stats().rowsWritten, 1u);
}

TEST_F(BindingWriterTest, LastChangeOfAKeyWinsWithinABatch) {
  BindingWriter writer(file.path(), slowTicks());
  upsert(writer, binding(1));
  upsert(writer, binding(2));
  writer.flush();

  remove(writer, keyOf(1));    // on disk before: removed
  upsert(writer, binding(3));  // upsert then removal in one batch: never written
  remove(writer, keyOf(3));
  remove(writer, keyOf(4));  // removal then upsert: the upsert wins
  upsert(writer, binding(4));
  writer.flush();

  const std::vector<db::BindingRecord> rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], binding(2));
  EXPECT_EQ(rows[1], binding(4));
  EXPECT_EQ(writer.stats().batchesWritten, 2u);
}

TEST_F(BindingWriterTest, StopWritesWhatIsQueuedAndLaterChangesAreDropped) {
  BindingWriter writer(file.path(), slowTicks());
  for (int n = 0; n < 100; ++n) upsert(writer, binding(n));
  remove(writer, keyOf(0));
  writer.stop();
  EXPECT_EQ(stored().size(), 99u);

  upsert(writer, binding(500));  // after stop(): dropped, counted, no hang
  writer.flush();
  writer.stop();
  EXPECT_EQ(writer.stats().changesDropped, 1u);
  EXPECT_EQ(stored().size(), 99u);
}

TEST_F(BindingWriterTest, BatchFailingOnALockedDatabaseIsRetriedAndNewerChangesWin) {
  BindingWriter::Options options;
  options.flushInterval = 20ms;
  options.busyTimeout = 20ms;
  BindingWriter writer(file.path(), options);
  db::Database locker(file.path());
  locker.exec("BEGIN EXCLUSIVE");  // the write lock: every writer BEGIN gets SQLITE_BUSY

  db::BindingRecord record = binding(1);
  upsert(writer, record);
  upsert(writer, binding(2));
  EXPECT_FALSE(writer.flushFor(100ms));
  // Attempts run every interval; wait for two without assuming a speed.
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       writer.stats().failedAttempts < 2 && std::chrono::steady_clock::now() < deadline;) {
    std::this_thread::sleep_for(5ms);
  }
  BindingWriter::Stats stats = writer.stats();
  EXPECT_GE(stats.failedAttempts, 2u);
  EXPECT_TRUE(stats.failing);
  EXPECT_NE(stats.lastError.find("locked"), std::string::npos) << stats.lastError;
  EXPECT_EQ(stats.batchesWritten, 0u);

  record.cseq = 99;  // a refresh while the failed batch waits: it supersedes it
  upsert(writer, record);
  locker.exec("ROLLBACK");
  writer.flush();

  const std::vector<db::BindingRecord> rows = stored();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], record);
  EXPECT_EQ(rows[1], binding(2));
  stats = writer.stats();
  EXPECT_FALSE(stats.failing);
  EXPECT_EQ(stats.pending, 0u);
  EXPECT_GE(stats.batchesWritten, 1u);
}

TEST_F(BindingWriterTest, RowsOfADeletedExtensionAreDroppedNotRetriedForever) {
  BindingWriter writer(file.path(), slowTicks());
  db::BindingRecord orphan = sampleBinding(extensionId + 1000, 1, kExpiry);
  upsert(writer, binding(1));
  upsert(writer, orphan);
  upsert(writer, binding(2));
  writer.flush();

  EXPECT_EQ(stored().size(), 2u);
  const BindingWriter::Stats stats = writer.stats();
  EXPECT_EQ(stats.rowsRejected, 1u);
  EXPECT_EQ(stats.rowsWritten, 2u);
  EXPECT_EQ(stats.batchesWritten, 1u);
  EXPECT_FALSE(stats.failing);
}

TEST_F(BindingWriterTest, FullQueueDropsNewKeysButStillCoalescesQueuedOnes) {
  BindingWriter::Options options = slowTicks();
  options.maxPending = 10;
  BindingWriter writer(file.path(), options);
  for (int n = 0; n < 15; ++n) upsert(writer, binding(n));
  db::BindingRecord refreshed = binding(3);
  refreshed.cseq = 77;
  upsert(writer, refreshed);
  EXPECT_EQ(writer.stats().pending, 10u);
  EXPECT_EQ(writer.stats().changesDropped, 5u);
  writer.flush();

  const std::vector<db::BindingRecord> rows = stored();
  EXPECT_EQ(rows.size(), 10u);
  EXPECT_NE(std::find(rows.begin(), rows.end(), refreshed), rows.end());
  upsert(writer, binding(20));  // drained: accepted again
  writer.flush();
  EXPECT_EQ(stored().size(), 11u);
}

TEST_F(BindingWriterTest, LargeBacklogIsWrittenInBatchesOfAtMostMaxBatch) {
  BindingWriter::Options options = slowTicks();
  options.maxBatch = 100;
  BindingWriter writer(file.path(), options);
  for (int n = 0; n < 1000; ++n) upsert(writer, binding(n));
  writer.flush();
  EXPECT_EQ(stored().size(), 1000u);
  EXPECT_GE(writer.stats().batchesWritten, 10u);
  EXPECT_EQ(writer.stats().rowsWritten, 1000u);
}

TEST_F(BindingWriterTest, UnopenableDatabaseThrowsFromTheConstructor) {
  EXPECT_THROW(BindingWriter("/nonexistent-dir/duplex.db"), db::DbError);
}

// Crash safety. The child streams changes of 1,000 bindings from one thread
// (the SIP loop); another thread calls flush() in a loop and reports the last
// change handed over before each flush() began. Change n refreshes binding
// n % 1000 with cseq n + 1.
constexpr int kCrashKeys = 1000;
constexpr int kReportsBeforeKill = 20;

[[noreturn]] void streamChangesUntilKilled(const std::string& path, std::int64_t extensionId,
                                           int reportFd) {
  try {
    BindingWriter::Options options;
    options.flushInterval = 50ms;
    BindingWriter writer(path, options);
    std::atomic<std::int64_t> lastHandedOver{-1};
    std::thread flusher([&] {
      for (;;) {
        const std::int64_t n = lastHandedOver.load();
        writer.flush();
        if (n >= 0 && write(reportFd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) _exit(3);
      }
    });
    for (std::int64_t n = 0;; ++n) {
      db::BindingRecord record =
          sampleBinding(extensionId, static_cast<int>(n % kCrashKeys), kExpiry);
      record.cseq = static_cast<std::uint32_t>(n + 1);
      upsert(writer, record);
      lastHandedOver.store(n);
    }
  } catch (...) {
    _exit(2);
  }
}

TEST_F(BindingWriterTest, KilledUnderLoadLosesNoFlushedChangeAndLeavesAConsistentFile) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();  // no connection or thread of ours is open here
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    streamChangesUntilKilled(file.path(), extensionId, fds[1]);
  }
  close(fds[1]);
  std::int64_t flushed = -1;
  std::int64_t n = 0;
  int reports = 0;
  while (reports < kReportsBeforeKill && read(fds[0], &n, sizeof n) == sizeof n) {
    flushed = std::max(flushed, n);
    ++reports;
  }
  ASSERT_EQ(reports, kReportsBeforeKill) << "the child died on its own";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  while (read(fds[0], &n, sizeof n) == sizeof n) flushed = std::max(flushed, n);
  close(fds[0]);

  {
    db::Database database(file.path());
    EXPECT_EQ(database.queryText("PRAGMA integrity_check"), "ok");
  }
  const std::vector<db::BindingRecord> rows = stored();
  ASSERT_LE(rows.size(), static_cast<std::size_t>(kCrashKeys));
  std::unordered_map<std::string, int> keyOfUri;
  for (int k = 0; k < kCrashKeys; ++k)
    keyOfUri[sampleBinding(extensionId, k, kExpiry).contactUri] = k;
  std::vector<std::int64_t> cseqOf(kCrashKeys, 0);
  for (const db::BindingRecord& row : rows) cseqOf.at(keyOfUri.at(row.contactUri)) = row.cseq;
  // Binding k's last change at or before `flushed` must be on disk (or a later one).
  for (int k = 0; k < kCrashKeys && k <= flushed; ++k) {
    const std::int64_t last = flushed - (flushed - k) % kCrashKeys;
    EXPECT_GE(cseqOf[k], last + 1) << "binding " << k << " lost change " << last;
  }
  RecordProperty("changes_flushed_before_kill", static_cast<int>(flushed + 1));
}

// Throughput: 10,000 distinct bindings refreshed in a loop, one change set per
// REGISTER as the registrar hands them over, each round flushed.
TEST_F(BindingWriterTest, MeasuredThroughputOfTenThousandRefreshedBindings) {
  constexpr int kBindings = 10'000;
  constexpr int kRounds = 10;
  std::vector<db::BindingRecord> records;
  records.reserve(kBindings);
  for (int n = 0; n < kBindings; ++n) records.push_back(binding(n));

  BindingWriter writer(file.path());
  std::chrono::nanoseconds handOver{0};
  const auto start = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    const auto handOverStart = std::chrono::steady_clock::now();
    for (db::BindingRecord& record : records) {
      record.cseq += 1;
      upsert(writer, record);
    }
    handOver += std::chrono::steady_clock::now() - handOverStart;
    writer.flush();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const BindingWriter::Stats stats = writer.stats();
  EXPECT_EQ(stats.rowsWritten, static_cast<std::uint64_t>(kBindings) * kRounds);
  EXPECT_EQ(stored().size(), static_cast<std::size_t>(kBindings));
  const double rowsPerSecond = static_cast<double>(stats.rowsWritten) / seconds;
  const double nsPerHandOver =
      static_cast<double>(handOver.count()) / static_cast<double>(kBindings * kRounds);
  std::printf("[ measured ] %.0f rows/s written (%llu batches), %.0f ns per onBindingsChanged\n",
              rowsPerSecond, static_cast<unsigned long long>(stats.batchesWritten), nsPerHandOver);
  RecordProperty("rows_per_second", static_cast<int>(rowsPerSecond));
  RecordProperty("ns_per_hand_over", static_cast<int>(nsPerHandOver));
}

}  // namespace
}  // namespace duplex::registrar
