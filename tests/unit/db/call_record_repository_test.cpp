// CallRecordRepository on SQLite: what the admin API's call list asks for.
#include "db/call_record_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "db/sqlite_repositories.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDatabaseFile;

constexpr std::int64_t kT0 = 1'700'000'000;

CallRecord call(std::string caller, std::string callee, std::int64_t startAt,
                Disposition disposition) {
  CallRecord r;
  r.callId = caller + "-" + callee + "-" + std::to_string(startAt);
  r.caller = std::move(caller);
  r.callee = std::move(callee);
  r.dialled = r.callee;
  r.startAt = startAt;
  r.endAt = startAt + 30;
  r.durationS = 30;
  r.disposition = disposition;
  if (disposition == Disposition::answered) {
    r.answerAt = startAt + 5;
    r.billableS = 25;
  }
  r.hangupSide = "caller";
  r.hangupCause = "BYE";
  return r;
}

class SqliteCallRecordRepositoryTest : public ::testing::Test {
 protected:
  TempDatabaseFile file;
  Database db{file.path()};
  SqliteCallRecordRepository repo{db};

  // Ten calls, one a minute: 101 <-> 102 answered, 101 -> 103 busy,
  // 104 -> 101 no answer, ...
  void insertSample() {
    repo.insert(call("101", "102", kT0 + 0, Disposition::answered));
    repo.insert(call("101", "103", kT0 + 60, Disposition::busy));
    repo.insert(call("104", "101", kT0 + 120, Disposition::noAnswer));
    repo.insert(call("102", "101", kT0 + 180, Disposition::answered));
    repo.insert(call("103", "104", kT0 + 240, Disposition::cancelled));
    repo.insert(call("101", "0301234", kT0 + 300, Disposition::failed));
    repo.insert(call("102", "103", kT0 + 360, Disposition::answered));
    repo.insert(call("104", "102", kT0 + 420, Disposition::busy));
    repo.insert(call("103", "101", kT0 + 480, Disposition::answered));
    repo.insert(call("102", "104", kT0 + 540, Disposition::noAnswer));
  }

  std::vector<std::int64_t> startOffsets(const CallRecordPage& page) {
    std::vector<std::int64_t> out;
    for (const auto& r : page.records) out.push_back(r.startAt - kT0);
    return out;
  }
};

TEST_F(SqliteCallRecordRepositoryTest, InsertRoundTripsEveryField) {
  CallRecord r = call("101", "102", kT0, Disposition::answered);
  r.dialled = "*102";
  r.forwardSteps = R"([{"from":"102","to":"103","reason":"busy"}])";
  r.mediaFacts = R"({"legs":[{"advertised":"192.168.1.20:4000","actual":"203.0.113.7:4000"}]})";
  r.diagnosis = "leg B sent no RTP: phone behind NAT without keep-alive";
  r.trunk = "main";
  r.sentNumber = "+4930123456";
  r.id = repo.insert(r);
  EXPECT_GT(r.id, 0);

  const auto page = repo.query({});
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0], r);
}

TEST_F(SqliteCallRecordRepositoryTest, NoFilterListsNewestFirstWithTotal) {
  insertSample();
  const auto page = repo.query({});
  EXPECT_EQ(page.total, 10);
  EXPECT_THAT(startOffsets(page), ElementsAre(540, 480, 420, 360, 300, 240, 180, 120, 60, 0));
}

TEST_F(SqliteCallRecordRepositoryTest, TimeRangeIsHalfOpen) {
  insertSample();
  const auto page = repo.query({.from = kT0 + 60, .to = kT0 + 240});
  EXPECT_EQ(page.total, 3);
  EXPECT_THAT(startOffsets(page), ElementsAre(180, 120, 60));
}

TEST_F(SqliteCallRecordRepositoryTest, ExtensionMatchesCallerOrCallee) {
  insertSample();
  const auto page = repo.query({.extension = "101"});
  EXPECT_EQ(page.total, 6);
  EXPECT_THAT(startOffsets(page), ElementsAre(480, 300, 180, 120, 60, 0));
}

TEST_F(SqliteCallRecordRepositoryTest, DispositionFilter) {
  insertSample();
  const auto page = repo.query({.disposition = Disposition::busy});
  EXPECT_EQ(page.total, 2);
  EXPECT_THAT(startOffsets(page), ElementsAre(420, 60));
}

TEST_F(SqliteCallRecordRepositoryTest, FiltersCombine) {
  insertSample();
  const auto page =
      repo.query({.from = kT0 + 100, .extension = "101", .disposition = Disposition::answered});
  EXPECT_EQ(page.total, 2);
  EXPECT_THAT(startOffsets(page), ElementsAre(480, 180));
}

TEST_F(SqliteCallRecordRepositoryTest, PagingWalksAllRecordsOnce) {
  insertSample();
  std::vector<std::int64_t> seen;
  for (int offset = 0;; offset += 4) {
    const auto page = repo.query({.limit = 4, .offset = offset});
    EXPECT_EQ(page.total, 10);
    if (page.records.empty()) break;
    EXPECT_LE(page.records.size(), 4u);
    const auto offsets = startOffsets(page);
    seen.insert(seen.end(), offsets.begin(), offsets.end());
  }
  EXPECT_THAT(seen, ElementsAre(540, 480, 420, 360, 300, 240, 180, 120, 60, 0));
}

TEST_F(SqliteCallRecordRepositoryTest, SameStartTimeIsOrderedById) {
  const auto first = repo.insert(call("101", "102", kT0, Disposition::answered));
  const auto second = repo.insert(call("101", "103", kT0, Disposition::answered));
  const auto page = repo.query({.limit = 1, .offset = 1});
  ASSERT_EQ(page.records.size(), 1u);
  EXPECT_EQ(page.records[0].id, first);
  EXPECT_GT(second, first);
}

TEST_F(SqliteCallRecordRepositoryTest, AbsurdPageSizesAreClamped) {
  insertSample();
  EXPECT_EQ(repo.query({.limit = 0}).records.size(), 1u);
  EXPECT_EQ(repo.query({.limit = -5, .offset = -3}).records.size(), 1u);
  EXPECT_EQ(repo.query({.limit = 1'000'000}).records.size(), 10u);
}

TEST_F(SqliteCallRecordRepositoryTest, InvalidJsonIsRejected) {
  CallRecord r = call("101", "102", kT0, Disposition::answered);
  r.mediaFacts = "{not json";
  try {
    repo.insert(r);
    FAIL() << "invalid media_facts JSON stored";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("CHECK constraint failed"));
  }
  EXPECT_EQ(repo.query({}).total, 0);
}

TEST_F(SqliteCallRecordRepositoryTest, ExtensionFilterUsesIndexesNotAScan) {
  Statement plan(db,
                 "EXPLAIN QUERY PLAN SELECT id FROM call_records "
                 "WHERE caller = '101' OR callee = '101' ORDER BY start_at DESC");
  std::string details;
  while (plan.step()) details += plan.text(3) + "\n";
  EXPECT_THAT(details, HasSubstr("call_records_caller"));
  EXPECT_THAT(details, HasSubstr("call_records_callee"));
}

TEST(Disposition, NamesRoundTrip) {
  for (auto d : {Disposition::answered, Disposition::busy, Disposition::noAnswer,
                 Disposition::failed, Disposition::cancelled}) {
    EXPECT_EQ(parseDisposition(toString(d)), d);
  }
  EXPECT_EQ(toString(Disposition::noAnswer), "no_answer");
  EXPECT_EQ(parseDisposition("no answer"), std::nullopt);
}

}  // namespace
}  // namespace duplex::db
