// ExtensionRepository: one contract suite run over the SQLite implementation
// and the in-memory fake, so other components' tests can trust the fake.
#include "db/extension_repository.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "db/sqlite_repositories.h"
#include "fakes/fake_extension_repository.h"
#include "test_support.h"

namespace duplex::db {
namespace {

using ::testing::HasSubstr;
using testing::sampleExtension;
using testing::TempDatabaseFile;

struct SqliteExtensions {
  TempDatabaseFile file;
  Database db{file.path()};
  SqliteExtensionRepository repo{db};
};

struct FakeExtensions {
  fakes::FakeExtensionRepository repo;
};

template <class Harness>
class ExtensionRepositoryContract : public ::testing::Test {
 protected:
  Harness h;
  ExtensionRepository& repo() { return h.repo; }
};

using Implementations = ::testing::Types<SqliteExtensions, FakeExtensions>;
TYPED_TEST_SUITE(ExtensionRepositoryContract, Implementations);

TYPED_TEST(ExtensionRepositoryContract, InsertThenFindReturnsEveryField) {
  const ExtensionRecord stored = this->repo().insert(sampleExtension("101"));
  EXPECT_GT(stored.id, 0);
  EXPECT_GT(stored.createdAt, 0);
  EXPECT_EQ(stored.createdAt, stored.updatedAt);

  ExtensionRecord expected = sampleExtension("101");
  expected.id = stored.id;
  expected.createdAt = stored.createdAt;
  expected.updatedAt = stored.updatedAt;
  EXPECT_EQ(stored, expected);
  EXPECT_EQ(this->repo().findByNumber("101"), expected);
  EXPECT_EQ(this->repo().findById(stored.id), expected);
}

TYPED_TEST(ExtensionRepositoryContract, DefaultsMatchTheSchema) {
  ExtensionRecord minimal;
  minimal.number = "102";
  minimal.ha1Md5 = "x";
  minimal.ha1Sha256 = "y";
  minimal.realm = "r";
  const ExtensionRecord stored = this->repo().insert(minimal);
  EXPECT_EQ(stored.maxContacts, 5);
  EXPECT_EQ(stored.forwardNoAnswerSeconds, 25);
  EXPECT_EQ(stored.permissions, CallPermission::national);
  EXPECT_TRUE(stored.enabled);
  EXPECT_EQ(stored.maxOutsideCalls, std::nullopt);
  EXPECT_EQ(stored.forwardUnconditional, std::nullopt);
}

TYPED_TEST(ExtensionRepositoryContract, MissingExtensionIsNullopt) {
  EXPECT_EQ(this->repo().findByNumber("999"), std::nullopt);
  EXPECT_EQ(this->repo().findById(42), std::nullopt);
}

TYPED_TEST(ExtensionRepositoryContract, DuplicateNumberIsADistinctError) {
  this->repo().insert(sampleExtension("101"));
  try {
    this->repo().insert(sampleExtension("101"));
    FAIL() << "inserted number 101 twice";
  } catch (const DuplicateKeyError& e) {
    EXPECT_THAT(e.what(), HasSubstr("extension number 101 already exists"));
  }
  EXPECT_EQ(this->repo().list().size(), 1u);
}

TYPED_TEST(ExtensionRepositoryContract, ListIsOrderedByNumber) {
  for (const char* n : {"300", "101", "200"}) this->repo().insert(sampleExtension(n));
  std::vector<std::string> numbers;
  for (const auto& e : this->repo().list()) numbers.push_back(e.number);
  EXPECT_THAT(numbers, ::testing::ElementsAre("101", "200", "300"));
}

TYPED_TEST(ExtensionRepositoryContract, UpdateReplacesFields) {
  ExtensionRecord r = this->repo().insert(sampleExtension("101"));
  r.displayName = "Sales";
  r.dnd = true;
  r.forwardUnconditional = "0049301234";
  r.forwardBusy.reset();
  r.permissions = CallPermission::international;
  r.maxOutsideCalls.reset();
  ASSERT_TRUE(this->repo().update(r));

  const auto found = this->repo().findById(r.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->displayName, "Sales");
  EXPECT_TRUE(found->dnd);
  EXPECT_EQ(found->forwardUnconditional, "0049301234");
  EXPECT_EQ(found->forwardBusy, std::nullopt);
  EXPECT_EQ(found->permissions, CallPermission::international);
  EXPECT_EQ(found->maxOutsideCalls, std::nullopt);
  EXPECT_EQ(found->createdAt, r.createdAt);
}

TYPED_TEST(ExtensionRepositoryContract, UpdateToATakenNumberIsADuplicate) {
  this->repo().insert(sampleExtension("101"));
  ExtensionRecord other = this->repo().insert(sampleExtension("102"));
  other.number = "101";
  EXPECT_THROW(this->repo().update(other), DuplicateKeyError);
  EXPECT_EQ(this->repo().findById(other.id)->number, "102");
}

TYPED_TEST(ExtensionRepositoryContract, UpdateOrRemoveOfMissingIdReturnsFalse) {
  ExtensionRecord ghost = sampleExtension("101");
  ghost.id = 77;
  EXPECT_FALSE(this->repo().update(ghost));
  EXPECT_FALSE(this->repo().remove(77));
}

TYPED_TEST(ExtensionRepositoryContract, RemoveDeletes) {
  const auto r = this->repo().insert(sampleExtension("101"));
  EXPECT_TRUE(this->repo().remove(r.id));
  EXPECT_EQ(this->repo().findByNumber("101"), std::nullopt);
  EXPECT_TRUE(this->repo().list().empty());
}

// ---- SQLite only

TEST(SqliteExtensionRepository, RemovingAnExtensionCascadesToItsBindings) {
  TempDatabaseFile file;
  Database db(file.path());
  SqliteExtensionRepository extensions(db);
  SqliteBindingRepository bindings(db);
  const auto a = extensions.insert(sampleExtension("101"));
  const auto b = extensions.insert(sampleExtension("102"));
  const std::vector<BindingRecord> batch{testing::sampleBinding(a.id, 1, 5000),
                                         testing::sampleBinding(a.id, 2, 5000),
                                         testing::sampleBinding(b.id, 3, 5000)};
  bindings.upsertMany(batch);

  ASSERT_TRUE(extensions.remove(a.id));
  const auto left = bindings.loadUnexpired(0);
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].extensionId, b.id);
}

TEST(SqliteExtensionRepository, InvalidValuesAreRejectedByTheSchema) {
  Database db(":memory:");
  SqliteExtensionRepository repo(db);
  ExtensionRecord bad = sampleExtension("101");
  bad.maxContacts = 0;
  try {
    repo.insert(bad);
    FAIL() << "max_contacts 0 accepted";
  } catch (const DuplicateKeyError&) {
    FAIL() << "a CHECK failure must not look like a duplicate";
  } catch (const DbError& e) {
    EXPECT_THAT(e.what(), HasSubstr("CHECK constraint failed"));
  }
}

TEST(SqliteExtensionRepository, PasswordIsNeverAColumn) {
  Database db(":memory:");
  EXPECT_EQ(db.queryText("SELECT COUNT(*) FROM pragma_table_info('extensions') "
                         "WHERE name LIKE '%password%'"),
            "0");
}

TEST(CallPermission, NamesRoundTrip) {
  for (auto p : {CallPermission::internal, CallPermission::local, CallPermission::national,
                 CallPermission::international}) {
    EXPECT_EQ(parseCallPermission(toString(p)), p);
  }
  EXPECT_EQ(parseCallPermission("galactic"), std::nullopt);
}

}  // namespace
}  // namespace duplex::db
