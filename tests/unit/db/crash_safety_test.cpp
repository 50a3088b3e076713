// Crash safety of the binding write-behind: a process killed in the middle of
// writing leaves a consistent file that holds every batch it had committed.
// With WAL and synchronous=NORMAL a commit is in the OS page cache when
// COMMIT returns, so a process crash (not a power cut) must lose nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

#include "db/sqlite_repositories.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using testing::sampleBinding;
using testing::sampleExtension;
using testing::TempDatabaseFile;

constexpr int kBatchSize = 200;
constexpr int kBatchesBeforeKill = 25;
constexpr std::int64_t kExpiry = 4'000'000'000;

std::string batchCallId(int batch, int i) {
  return "batch-" + std::to_string(batch) + "-" + std::to_string(i);
}

// The child: write batches forever, reporting each one after its commit.
[[noreturn]] void writeBatchesUntilKilled(const std::string& path, std::int64_t extensionId,
                                          int reportFd) {
  try {
    Database db(path);
    SqliteBindingRepository repo(db);
    std::vector<BindingRecord> batch(kBatchSize);
    for (int n = 0;; ++n) {
      for (int i = 0; i < kBatchSize; ++i) {
        batch[static_cast<std::size_t>(i)] =
            sampleBinding(extensionId, n * kBatchSize + i, kExpiry);
        batch[static_cast<std::size_t>(i)].callId = batchCallId(n, i);
      }
      repo.upsertMany(batch);
      if (write(reportFd, &n, sizeof n) != static_cast<ssize_t>(sizeof n)) _exit(3);
    }
  } catch (...) {
    _exit(2);
  }
}

TEST(CrashSafety, KilledWriterLosesNoCommittedBatchAndLeavesNoPartialOne) {
  TempDatabaseFile file;
  std::int64_t extensionId = 0;
  {
    // Closed before fork: an SQLite connection must not cross a fork.
    Database db(file.path());
    extensionId = SqliteExtensionRepository(db).insert(sampleExtension("101")).id;
  }

  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    writeBatchesUntilKilled(file.path(), extensionId, fds[1]);
  }
  close(fds[1]);

  std::set<int> reported;
  int n = 0;
  while (static_cast<int>(reported.size()) < kBatchesBeforeKill &&
         read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) {
    reported.insert(n);
  }
  ASSERT_EQ(static_cast<int>(reported.size()), kBatchesBeforeKill)
      << "the writer died on its own before being killed";
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  // Batches reported between our last read and the kill.
  while (read(fds[0], &n, sizeof n) == static_cast<ssize_t>(sizeof n)) reported.insert(n);
  close(fds[0]);

  Database db(file.path());
  EXPECT_EQ(db.queryText("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.queryText("PRAGMA foreign_key_check"), std::nullopt);

  std::map<int, int> rowsPerBatch;
  for (const auto& b : SqliteBindingRepository(db).loadUnexpired(0)) {
    const auto dash = b.callId.find('-', 6);
    ++rowsPerBatch[std::stoi(b.callId.substr(6, dash - 6))];
  }
  for (int batch : reported) {
    const auto it = rowsPerBatch.find(batch);
    EXPECT_TRUE(it != rowsPerBatch.end() && it->second == kBatchSize)
        << "committed batch " << batch << " lost";
  }
  for (const auto& [batch, rows] : rowsPerBatch) {
    EXPECT_EQ(rows, kBatchSize) << "batch " << batch << " is partial";
  }
  // At most the one batch in flight at the kill may be present unreported.
  EXPECT_LE(rowsPerBatch.size(), reported.size() + 1);
  RecordProperty("batches_committed", static_cast<int>(reported.size()));
}

}  // namespace
}  // namespace duplex::db
