#include "admin/auth.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "admin/password_hash.h"

namespace duplex::admin {
namespace {

constexpr std::string_view kSessionPrefix = "dxs_";
constexpr std::string_view kApiPrefix = "dxa_";

int iterationsOr(int iterations) {
  return iterations > 0 ? iterations : kPasswordIterations;
}

}  // namespace

std::string_view toString(Scope scope) {
  return scope == Scope::read ? "read" : "full";
}

std::optional<Scope> parseScope(std::string_view text) {
  if (text == "read") return Scope::read;
  if (text == "full") return Scope::full;
  return std::nullopt;
}

void LoginThrottle::forgetOld(std::int64_t now) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    const bool stale =
        now - it->second.lastFailure >= options_.failureWindow && now >= it->second.notBefore;
    it = stale ? entries_.erase(it) : std::next(it);
  }
}

std::int64_t LoginThrottle::retryAfter(const std::string& address, std::int64_t now) {
  std::lock_guard lock(mutex_);
  forgetOld(now);
  auto it = entries_.find(address);
  if (it == entries_.end() || now >= it->second.notBefore) return 0;
  return it->second.notBefore - now;
}

void LoginThrottle::failed(const std::string& address, std::int64_t now) {
  std::lock_guard lock(mutex_);
  forgetOld(now);
  Entry& e = entries_[address];
  ++e.failures;
  e.lastFailure = now;
  if (e.failures >= options_.blockAfter) {
    e.notBefore = now + options_.blockFor;
  } else if (e.failures >= options_.slowAfter) {
    e.notBefore = now + (std::int64_t{2} << std::min(e.failures - options_.slowAfter, 20));
  }
}

void LoginThrottle::succeeded(const std::string& address) {
  std::lock_guard lock(mutex_);
  entries_.erase(address);
}

AdminAuth::AdminAuth(AuthOptions options)
    : options_(options),
      iterations_(iterationsOr(options.passwordIterations)),
      throttle_(options.throttle) {}

LoginResult AdminAuth::login(db::AdminRepository& repo, std::string_view user,
                             std::string_view password, const std::string& address,
                             const std::function<std::int64_t()>& clock) {
  LoginResult result;
  const std::int64_t now = clock();
  if (const std::int64_t wait = throttle_.retryAfter(address, now); wait > 0) {
    result.outcome = LoginResult::Outcome::throttled;
    result.retryAfter = wait;
    return result;
  }
  const auto stored = repo.findUser(kAdminUser);
  if (user != kAdminUser || !stored || !verifyPassword(password, stored->passwordHash)) {
    throttle_.failed(address, clock());
    return result;
  }
  throttle_.succeeded(address);
  repo.purgeExpired(now);
  db::AdminTokenRecord record;
  result.token = generateToken(kSessionPrefix);
  record.tokenHash = sha256Hex(result.token);
  record.kind = "session";
  record.scope = "full";
  record.createdAt = now;
  record.expiresAt = now + options_.sessionLifetime;
  repo.insertToken(record);
  result.outcome = LoginResult::Outcome::ok;
  result.expiresAt = *record.expiresAt;
  return result;
}

std::optional<Principal> AdminAuth::authenticate(db::AdminRepository& repo,
                                                 std::string_view authorization, std::int64_t now) {
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kBearer.size());
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.size() < 20 || token.size() > 200) return std::nullopt;
  const auto record = repo.findToken(sha256Hex(token));
  if (!record) return std::nullopt;
  if (record->expiresAt && *record->expiresAt <= now) return std::nullopt;
  const auto scope = parseScope(record->scope);
  if (!scope) return std::nullopt;
  return Principal{record->id, record->kind, *scope};
}

IssuedToken AdminAuth::createApiToken(db::AdminRepository& repo, std::string_view name, Scope scope,
                                      std::optional<std::int64_t> expiresAt, std::int64_t now) {
  IssuedToken issued;
  issued.token = generateToken(kApiPrefix);
  issued.record.tokenHash = sha256Hex(issued.token);
  issued.record.kind = "api";
  issued.record.scope = std::string(toString(scope));
  issued.record.name = std::string(name);
  issued.record.createdAt = now;
  issued.record.expiresAt = expiresAt;
  issued.record.id = repo.insertToken(issued.record);
  return issued;
}

bool AdminAuth::checkPassword(db::AdminRepository& repo, std::string_view password) {
  const auto stored = repo.findUser(kAdminUser);
  return stored && verifyPassword(password, stored->passwordHash);
}

void AdminAuth::setPassword(db::AdminRepository& repo, std::string_view password) {
  repo.setPassword(kAdminUser, hashPassword(password, iterations_));
  repo.removeTokensOfKind("session");
}

std::optional<std::string> ensureAdminPassword(db::AdminRepository& repo, int iterations) {
  if (repo.findUser(kAdminUser)) return std::nullopt;
  std::string password = generatePassword(20);
  repo.setPassword(kAdminUser, hashPassword(password, iterationsOr(iterations)));
  return password;
}

std::string resetAdminPassword(db::AdminRepository& repo, int iterations) {
  std::string password = generatePassword(20);
  repo.setPassword(kAdminUser, hashPassword(password, iterationsOr(iterations)));
  repo.removeTokensOfKind("session");
  return password;
}

void writePasswordFile(const std::string& path, std::string_view password) {
  const std::string temp = path + ".tmp";
  ::unlink(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + temp + ": " + std::strerror(errno));
  }
  const std::string text = "admin password (user admin): " + std::string(password) + "\n";
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
                  ::fchmod(fd, 0600) == 0 && ::fsync(fd) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok || ::rename(temp.c_str(), path.c_str()) != 0) {
    ::unlink(temp.c_str());
    throw std::runtime_error("cannot write " + path + ": " + std::strerror(ok ? errno : error));
  }
}

}  // namespace duplex::admin
