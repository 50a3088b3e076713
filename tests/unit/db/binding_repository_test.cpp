// BindingRepository: a contract suite over SQLite and the fake, then the
// SQLite write-behind path at registrar scale.
#include "db/binding_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "db/sqlite_repositories.h"
#include "fakes/fake_binding_repository.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using testing::sampleBinding;
using testing::sampleExtension;
using testing::TempDatabaseFile;

constexpr std::int64_t kNow = 1'700'000'000;

struct SqliteBindings {
  TempDatabaseFile file;
  Database db{file.path()};
  SqliteBindingRepository repo{db};
  std::vector<std::int64_t> extensionIds;

  SqliteBindings() {
    SqliteExtensionRepository extensions(db);
    for (const char* n : {"101", "102", "103"}) {
      extensionIds.push_back(extensions.insert(sampleExtension(n)).id);
    }
  }
};

struct FakeBindings {
  fakes::FakeBindingRepository repo;
  std::vector<std::int64_t> extensionIds{1, 2, 3};
};

template <class Harness>
class BindingRepositoryContract : public ::testing::Test {
 protected:
  Harness h;
  BindingRepository& repo() { return h.repo; }
  std::int64_t ext(int i) const { return h.extensionIds.at(static_cast<std::size_t>(i)); }
  void upsert(std::vector<BindingRecord> batch) { repo().upsertMany(batch); }
};

using Implementations = ::testing::Types<SqliteBindings, FakeBindings>;
TYPED_TEST_SUITE(BindingRepositoryContract, Implementations);

TYPED_TEST(BindingRepositoryContract, UpsertThenLoadReturnsEveryField) {
  BindingRecord b = sampleBinding(this->ext(0), 1, kNow + 3600);
  b.instanceId = "<urn:uuid:00000000-0000-1000-8000-000A95A0E128>";
  b.q = 0.7;
  b.connectionId = 12;
  b.transport = "tcp";
  this->upsert({b});

  const auto loaded = this->repo().loadUnexpired(kNow);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_GT(loaded[0].id, 0);
  BindingRecord expected = b;
  expected.id = loaded[0].id;
  EXPECT_EQ(loaded[0], expected);
}

TYPED_TEST(BindingRepositoryContract, RebootedPhoneWithInstanceIdReplacesItsBinding) {
  BindingRecord before = sampleBinding(this->ext(0), 1, kNow + 100);
  before.instanceId = "<urn:uuid:phone-a>";
  this->upsert({before});

  // After a reboot the phone registers from a new port with a new Call-ID.
  BindingRecord after = before;
  after.contactUri = "sip:101@192.168.1.20:5077";
  after.callId = "after-reboot";
  after.cseq = 1;
  after.expiresAt = kNow + 3600;
  this->upsert({after});

  const auto loaded = this->repo().loadUnexpired(kNow);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].contactUri, "sip:101@192.168.1.20:5077");
  EXPECT_EQ(loaded[0].callId, "after-reboot");
  EXPECT_EQ(loaded[0].expiresAt, kNow + 3600);
}

TYPED_TEST(BindingRepositoryContract, WithoutInstanceIdTheContactIsTheKey) {
  BindingRecord first = sampleBinding(this->ext(0), 1, kNow + 100);
  BindingRecord refresh = first;
  refresh.cseq = 99;
  refresh.expiresAt = kNow + 200;
  BindingRecord otherContact = sampleBinding(this->ext(0), 2, kNow + 100);
  BindingRecord sameContactOtherExtension = first;
  sameContactOtherExtension.extensionId = this->ext(1);
  this->upsert({first, refresh, otherContact, sameContactOtherExtension});

  const auto loaded = this->repo().loadUnexpired(kNow);
  ASSERT_EQ(loaded.size(), 3u);
  EXPECT_EQ(loaded[0].cseq, 99u);  // ordered by extension, then key
  EXPECT_EQ(loaded[2].extensionId, this->ext(1));
}

TYPED_TEST(BindingRepositoryContract, LoadUnexpiredSkipsExpiredAndPurgeDeletesThem) {
  this->upsert({sampleBinding(this->ext(0), 1, kNow - 1), sampleBinding(this->ext(0), 2, kNow),
                sampleBinding(this->ext(0), 3, kNow + 1)});
  const auto live = this->repo().loadUnexpired(kNow);
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].expiresAt, kNow + 1);

  EXPECT_EQ(this->repo().purgeExpired(kNow), 2u);
  EXPECT_EQ(this->repo().purgeExpired(kNow), 0u);
  EXPECT_EQ(this->repo().loadUnexpired(0).size(), 1u);
}

TYPED_TEST(BindingRepositoryContract, RemoveManyDeletesByKeyAndSkipsMissing) {
  BindingRecord withInstance = sampleBinding(this->ext(0), 1, kNow + 100);
  withInstance.instanceId = "<urn:uuid:phone-a>";
  const BindingRecord plain = sampleBinding(this->ext(0), 2, kNow + 100);
  const BindingRecord keep = sampleBinding(this->ext(1), 3, kNow + 100);
  this->upsert({withInstance, plain, keep});

  const std::vector<BindingKey> keys{{this->ext(0), "<urn:uuid:phone-a>"},
                                     {this->ext(0), plain.contactUri},
                                     {this->ext(2), "sip:nobody@nowhere"}};
  EXPECT_EQ(this->repo().removeMany(keys), 2u);
  const auto loaded = this->repo().loadUnexpired(kNow);
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].contactUri, keep.contactUri);
}

TYPED_TEST(BindingRepositoryContract, RemoveAllOfOneExtension) {
  this->upsert({sampleBinding(this->ext(0), 1, kNow + 100),
                sampleBinding(this->ext(0), 2, kNow + 100),
                sampleBinding(this->ext(1), 3, kNow + 100)});
  EXPECT_EQ(this->repo().removeAllOf(this->ext(0)), 2u);
  EXPECT_EQ(this->repo().loadUnexpired(kNow).size(), 1u);
}

TYPED_TEST(BindingRepositoryContract, EmptyBatchesAreNoOps) {
  this->repo().upsertMany({});
  EXPECT_EQ(this->repo().removeMany({}), 0u);
  EXPECT_TRUE(this->repo().loadUnexpired(0).empty());
}

// ---- SQLite only

TEST(SqliteBindingRepository, BatchWithUnknownExtensionIsRolledBackWhole) {
  SqliteBindings h;
  const std::vector<BindingRecord> batch{sampleBinding(h.extensionIds[0], 1, kNow + 100),
                                         sampleBinding(9999, 2, kNow + 100)};
  try {
    h.repo.upsertMany(batch);
    FAIL() << "binding for a missing extension accepted";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("FOREIGN KEY constraint failed"));
  }
  EXPECT_TRUE(h.repo.loadUnexpired(0).empty());
  // The reused statement still works after the failure.
  h.repo.upsertMany(std::span(batch).first(1));
  EXPECT_EQ(h.repo.loadUnexpired(0).size(), 1u);
}

TEST(SqliteBindingRepository, TenThousandBindingsInOneBatchAndReload) {
  SqliteBindings h;
  std::vector<BindingRecord> batch;
  batch.reserve(10'000);
  for (int i = 0; i < 10'000; ++i) {
    BindingRecord b =
        sampleBinding(h.extensionIds[static_cast<std::size_t>(i % 3)], i, kNow + 60 + i % 3600);
    if (i % 2 == 0) b.instanceId = "<urn:uuid:" + std::to_string(i) + ">";
    batch.push_back(std::move(b));
  }

  const auto start = std::chrono::steady_clock::now();
  h.repo.upsertMany(batch);
  const auto insertMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  // The registrar's refresh of every binding: same keys, new expiry.
  for (auto& b : batch) b.expiresAt += 3600;
  const auto again = std::chrono::steady_clock::now();
  h.repo.upsertMany(batch);
  const auto updateMs =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - again).count();
  RecordProperty("insert_10000_ms", std::to_string(insertMs));
  RecordProperty("update_10000_ms", std::to_string(updateMs));
  std::printf("[          ] 10,000-binding upsert: insert %.1f ms, update %.1f ms\n", insertMs,
              updateMs);
  // Generous bound: the write-behind must keep up with a busy registrar even
  // on a slow disk or a sanitizer build; typical is tens of milliseconds.
  EXPECT_LT(insertMs, 5000.0);

  // Reload through a fresh connection, as the daemon does at start-up.
  Database reopened(h.file.path());
  SqliteBindingRepository reloaded(reopened);
  auto loaded = reloaded.loadUnexpired(kNow);
  ASSERT_EQ(loaded.size(), 10'000u);
  std::sort(loaded.begin(), loaded.end(),
            [](const auto& a, const auto& b) { return a.callId < b.callId; });
  std::sort(batch.begin(), batch.end(),
            [](const auto& a, const auto& b) { return a.callId < b.callId; });
  for (std::size_t i = 0; i < batch.size(); ++i) {
    batch[i].id = loaded[i].id;
    ASSERT_EQ(loaded[i], batch[i]) << "binding " << i;
  }
}

}  // namespace
}  // namespace duplex::db
