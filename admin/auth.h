// Authentication of the admin API: the admin login (one user, "admin"),
// bearer tokens (sessions from a login, API tokens for scripts with a scope)
// and the login throttle per source address.
//
// Tokens are 32 random bytes (base64url) with a prefix saying what they are
// ("dxs_" session, "dxa_" API token); only their SHA-256 is stored
// (db/admin_repository.h), so they are checked by one indexed lookup and a
// stolen database holds no usable token. Sessions expire after
// AuthOptions::sessionLifetime; API tokens when the admin says (or never);
// both are revocable (logout, DELETE /api/v1/tokens/{id}, password reset).
//
// Throttle: each failed login from an address counts for `failureWindow`.
// From the `slowAfter`-th failure on, the next attempt is accepted only after
// a pause that doubles each time (2 s, 4 s, 8 s ...); after `blockAfter`
// failures the address is blocked for `blockFor`. Attempts that come too
// early are answered 429 with Retry-After without checking the password, so
// a guesser cannot spend our CPU on PBKDF2 either.
//
// For: the admin API handlers and the daemon's first start. Thread: any; the
// throttle is guarded by a mutex, the repository passed in belongs to the
// calling thread (db/db.h). Time is passed in (unix seconds) for tests.
// Errors: db::DbError from the repository; nothing else is thrown.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "db/admin_repository.h"

namespace duplex::admin {

inline constexpr std::string_view kAdminUser = "admin";

enum class Scope { read, full };
std::string_view toString(Scope scope);
std::optional<Scope> parseScope(std::string_view text);

struct Principal {
  std::int64_t tokenId = 0;
  std::string kind;  // "session" or "api"
  Scope scope = Scope::read;
};

struct ThrottleOptions {
  std::int64_t failureWindow = 900;  // seconds a failure counts
  int slowAfter = 3;                 // failures before pauses start
  int blockAfter = 10;               // failures before the block
  std::int64_t blockFor = 900;       // seconds
};

class LoginThrottle {
 public:
  explicit LoginThrottle(ThrottleOptions options = {}) : options_(options) {}
  // 0 if `address` may try now, else the seconds to wait.
  std::int64_t retryAfter(const std::string& address, std::int64_t now);
  void failed(const std::string& address, std::int64_t now);
  void succeeded(const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    std::int64_t lastFailure = 0;
    std::int64_t notBefore = 0;
  };
  void forgetOld(std::int64_t now);

  ThrottleOptions options_;
  std::mutex mutex_;
  std::map<std::string, Entry, std::less<>> entries_;
};

struct AuthOptions {
  std::int64_t sessionLifetime = 12 * 3600;  // seconds
  int passwordIterations = 0;                // 0 = kPasswordIterations
  ThrottleOptions throttle;
};

struct LoginResult {
  enum class Outcome { ok, badCredentials, throttled };
  Outcome outcome = Outcome::badCredentials;
  std::string token;            // ok: the session token, shown once
  std::int64_t expiresAt = 0;   // ok
  std::int64_t retryAfter = 0;  // throttled: seconds
};

struct IssuedToken {
  db::AdminTokenRecord record;
  std::string token;  // shown once
};

class AdminAuth {
 public:
  explicit AdminAuth(AuthOptions options = {});

  // `clock` (unix seconds) is read before the check and again after a wrong
  // password, so the pause counts from the answer, not from the request
  // (PBKDF2 alone takes a good part of a second).
  LoginResult login(db::AdminRepository& repo, std::string_view user, std::string_view password,
                    const std::string& address, const std::function<std::int64_t()>& clock);
  // From an Authorization header value ("Bearer <token>"); nullopt when
  // missing, malformed, unknown or expired.
  std::optional<Principal> authenticate(db::AdminRepository& repo, std::string_view authorization,
                                        std::int64_t now);
  IssuedToken createApiToken(db::AdminRepository& repo, std::string_view name, Scope scope,
                             std::optional<std::int64_t> expiresAt, std::int64_t now);
  // True if the password is right (no throttling: the caller is logged in).
  bool checkPassword(db::AdminRepository& repo, std::string_view password);
  // Stores a new password hash and ends every session.
  void setPassword(db::AdminRepository& repo, std::string_view password);

  int passwordIterations() const { return iterations_; }

 private:
  AuthOptions options_;
  int iterations_;
  LoginThrottle throttle_;
};

// First start: if there is no admin user, creates one with a generated
// password and returns it (to print once); nullopt when one exists.
std::optional<std::string> ensureAdminPassword(db::AdminRepository& repo, int iterations = 0);
// `duplex --admin.reset_password`: a new generated password, every session
// ended; returns the password.
std::string resetAdminPassword(db::AdminRepository& repo, int iterations = 0);
// Writes `password` to `path` readable by the owner only (mode 0600, replaced
// atomically). Throws std::runtime_error naming the file.
void writePasswordFile(const std::string& path, std::string_view password);

}  // namespace duplex::admin
