// Admin login, bearer tokens and the login throttle, on an in-memory database
// with the clock passed in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "admin/auth.h"
#include "admin/password_hash.h"
#include "db/admin_repository.h"

namespace duplex::admin {
namespace {

constexpr std::int64_t kT0 = 1'700'000'000;

// A clock that always answers `t`.
std::function<std::int64_t()> at(std::int64_t t) {
  return [t] { return t; };
}

class Auth : public ::testing::Test {
 protected:
  db::Database db{":memory:"};
  db::SqliteAdminRepository repo{db};
  AdminAuth auth{AuthOptions{.sessionLifetime = 3600, .passwordIterations = 1000, .throttle = {}}};
  std::string password = *ensureAdminPassword(repo, 1000);
};

TEST_F(Auth, FirstStartGeneratesOnceAndStoresOnlyAHash) {
  EXPECT_EQ(ensureAdminPassword(repo, 1000), std::nullopt);
  const auto user = repo.findUser("admin");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->passwordHash.find(password), std::string::npos);
  EXPECT_TRUE(verifyPassword(password, user->passwordHash));
}

TEST_F(Auth, LoginGivesAnExpiringSessionToken) {
  const LoginResult r = auth.login(repo, "admin", password, "192.0.2.7", at(kT0));
  ASSERT_EQ(r.outcome, LoginResult::Outcome::ok);
  EXPECT_EQ(r.expiresAt, kT0 + 3600);
  EXPECT_EQ(r.token.rfind("dxs_", 0), 0u);
  const auto p = auth.authenticate(repo, "Bearer " + r.token, kT0 + 3599);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scope, Scope::full);
  EXPECT_EQ(p->kind, "session");
  EXPECT_FALSE(auth.authenticate(repo, "Bearer " + r.token, kT0 + 3600));
  // Only the hash is stored.
  EXPECT_FALSE(repo.findToken(r.token));
  EXPECT_TRUE(repo.findToken(sha256Hex(r.token)));
}

TEST_F(Auth, MalformedAuthorizationHeadersAreRefused) {
  const LoginResult r = auth.login(repo, "admin", password, "192.0.2.7", at(kT0));
  for (const std::string& h :
       std::vector<std::string>{"", "Bearer", "Bearer ", "Basic " + r.token, r.token,
                                "Bearer " + r.token + "x", "Bearer short"}) {
    EXPECT_FALSE(auth.authenticate(repo, h, kT0)) << h;
  }
  EXPECT_TRUE(auth.authenticate(repo, "bearer " + r.token, kT0));
}

TEST_F(Auth, WrongUserOrPasswordFails) {
  EXPECT_EQ(auth.login(repo, "admin", password + "x", "a", at(kT0)).outcome,
            LoginResult::Outcome::badCredentials);
  EXPECT_EQ(auth.login(repo, "root", password, "b", at(kT0)).outcome,
            LoginResult::Outcome::badCredentials);
}

TEST_F(Auth, FailuresSlowDownThenBlockOneAddressOnly) {
  const std::string attacker = "203.0.113.9";
  std::int64_t now = kT0;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(auth.login(repo, "admin", "guess", attacker, at(now)).outcome,
              LoginResult::Outcome::badCredentials);
  }
  // Third failure: from now on a pause before each attempt, doubling.
  EXPECT_EQ(auth.login(repo, "admin", "guess", attacker, at(now)).outcome,
            LoginResult::Outcome::badCredentials);
  LoginResult r = auth.login(repo, "admin", password, attacker, at(now));
  EXPECT_EQ(r.outcome, LoginResult::Outcome::throttled);
  EXPECT_EQ(r.retryAfter, 2);
  // Another address is not affected.
  EXPECT_EQ(auth.login(repo, "admin", password, "192.0.2.1", at(now)).outcome,
            LoginResult::Outcome::ok);
  std::int64_t expectedPause = 2;
  for (int failures = 3; failures < 9; ++failures) {
    now += expectedPause;
    EXPECT_EQ(auth.login(repo, "admin", "guess", attacker, at(now)).outcome,
              LoginResult::Outcome::badCredentials);
    expectedPause *= 2;
    EXPECT_EQ(auth.login(repo, "admin", password, attacker, at(now)).retryAfter, expectedPause);
  }
  now += expectedPause;
  EXPECT_EQ(auth.login(repo, "admin", "guess", attacker, at(now)).outcome,
            LoginResult::Outcome::badCredentials);  // the tenth
  r = auth.login(repo, "admin", password, attacker, at(now + 899));
  EXPECT_EQ(r.outcome, LoginResult::Outcome::throttled);
  EXPECT_EQ(r.retryAfter, 1);
  EXPECT_EQ(auth.login(repo, "admin", password, attacker, at(now + 900)).outcome,
            LoginResult::Outcome::ok);
}

TEST_F(Auth, ApiTokensHaveAScopeAndCanBeRevoked) {
  const IssuedToken t = auth.createApiToken(repo, "backup script", Scope::read, std::nullopt, kT0);
  EXPECT_EQ(t.token.rfind("dxa_", 0), 0u);
  auto p = auth.authenticate(repo, "Bearer " + t.token, kT0 + 10 * 365 * 86400);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->scope, Scope::read);
  EXPECT_EQ(p->kind, "api");
  EXPECT_TRUE(repo.removeToken(t.record.id));
  EXPECT_FALSE(auth.authenticate(repo, "Bearer " + t.token, kT0));
}

TEST_F(Auth, PasswordResetEndsSessionsButKeepsApiTokens) {
  const LoginResult session = auth.login(repo, "admin", password, "a", at(kT0));
  const IssuedToken api = auth.createApiToken(repo, "x", Scope::full, kT0 + 100, kT0);
  const std::string fresh = resetAdminPassword(repo, 1000);
  EXPECT_NE(fresh, password);
  EXPECT_FALSE(auth.authenticate(repo, "Bearer " + session.token, kT0));
  EXPECT_TRUE(auth.authenticate(repo, "Bearer " + api.token, kT0));
  EXPECT_FALSE(auth.authenticate(repo, "Bearer " + api.token, kT0 + 100));
  EXPECT_EQ(auth.login(repo, "admin", password, "a", at(kT0)).outcome,
            LoginResult::Outcome::badCredentials);
  EXPECT_EQ(auth.login(repo, "admin", fresh, "b", at(kT0)).outcome, LoginResult::Outcome::ok);
}

TEST(PasswordFile, IsReadableByTheOwnerOnly) {
  const auto dir = std::filesystem::temp_directory_path() / ("duplex-admin-" + generateToken(""));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "admin-password.txt").string();
  writePasswordFile(path, "Secret123abc");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "admin password (user admin): Secret123abc\n");
  writePasswordFile(path, "Other456defg");  // replaced, still 0600
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_THROW(writePasswordFile((dir / "no/such/dir/x").string(), "x"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace duplex::admin
