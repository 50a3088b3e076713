// POST /api/v1/auth/login, /auth/logout, PUT /auth/password, /tokens.
#include <Poco/JSON/Array.h>

#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "admin/password_hash.h"
#include "db/admin_repository.h"

namespace duplex::admin {
namespace {

Poco::JSON::Object tokenJson(const db::AdminTokenRecord& t) {
  Poco::JSON::Object o(Poco::JSON_PRESERVE_KEY_ORDER);
  o.set("id", t.id);
  o.set("name", t.name);
  o.set("scope", t.scope);
  o.set("created_at", t.createdAt);
  if (t.expiresAt) {
    o.set("expires_at", *t.expiresAt);
  } else {
    o.set("expires_at", Poco::Dynamic::Var());
  }
  return o;
}

std::string requiredString(const Poco::JSON::Object& body, const std::string& name,
                           std::size_t maxLength) {
  auto value = stringField(body, name, maxLength);
  if (!value) throw ApiError(400, "missing_field", name, name + " is required");
  return *value;
}

}  // namespace

ApiResponse login(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, {"username", "password"});
  const std::string user = requiredString(*body, "username", 64);
  const std::string password = requiredString(*body, "password", 256);
  db::SqliteAdminRepository repo(call.db);
  const LoginResult result = call.services.auth->login(
      repo, user, password, call.request.clientAddress, call.services.clock);
  if (result.outcome == LoginResult::Outcome::throttled) {
    ApiResponse response{
        429,
        errorBody("too_many_attempts", "",
                  "too many failed logins from " + call.request.clientAddress + "; try again in " +
                      std::to_string(result.retryAfter) + " s"),
        "application/json",
        {{"Retry-After", std::to_string(result.retryAfter)}}};
    return response;
  }
  if (result.outcome == LoginResult::Outcome::badCredentials) {
    return {401,
            errorBody("unauthorized", "password", "wrong user name or password"),
            "application/json",
            {}};
  }
  Poco::JSON::Object out(Poco::JSON_PRESERVE_KEY_ORDER);
  out.set("token", result.token);
  out.set("token_type", "Bearer");
  out.set("scope", "full");
  out.set("expires_at", result.expiresAt);
  return jsonResponse(200, out);
}

ApiResponse logout(Call& call) {
  db::SqliteAdminRepository repo(call.db);
  repo.removeToken(call.principal->tokenId);
  return {204, "", "application/json", {}};
}

ApiResponse changePassword(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, {"current_password", "new_password"});
  const std::string current = requiredString(*body, "current_password", 256);
  const std::string fresh = requiredString(*body, "new_password", 256);
  db::SqliteAdminRepository repo(call.db);
  if (!call.services.auth->checkPassword(repo, current)) {
    throw ApiError(400, "invalid_field", "current_password", "current_password is wrong");
  }
  if (fresh.size() < 12) {
    throw ApiError(400, "weak_password", "new_password",
                   "new_password must be at least 12 characters long");
  }
  call.services.auth->setPassword(repo, fresh);
  return {204, "", "application/json", {}};
}

ApiResponse listTokens(Call& call) {
  db::SqliteAdminRepository repo(call.db);
  repo.purgeExpired(call.now);
  Poco::JSON::Array tokens;
  for (const auto& t : repo.listTokens("api")) tokens.add(tokenJson(t));
  Poco::JSON::Object out;
  out.set("tokens", tokens);
  return jsonResponse(200, out);
}

ApiResponse createToken(Call& call) {
  const auto body = requestObject(call);
  rejectUnknownFields(*body, {"name", "scope", "expires_in_days"});
  const std::string name = requiredString(*body, "name", 64);
  const std::string scopeText = requiredString(*body, "scope", 8);
  const auto scope = parseScope(scopeText);
  if (!scope) throw ApiError(400, "invalid_field", "scope", "scope must be \"read\" or \"full\"");
  std::optional<std::int64_t> expiresAt;
  if (!isNull(*body, "expires_in_days")) {
    if (auto days = intField(*body, "expires_in_days", 1, 3650)) {
      expiresAt = call.now + *days * 86400;
    }
  }
  db::SqliteAdminRepository repo(call.db);
  const IssuedToken issued =
      call.services.auth->createApiToken(repo, name, *scope, expiresAt, call.now);
  Poco::JSON::Object out = tokenJson(issued.record);
  out.set("token", issued.token);
  ApiResponse response = jsonResponse(201, out);
  response.headers.emplace_back("Location", "/api/v1/tokens/" + std::to_string(issued.record.id));
  return response;
}

ApiResponse deleteToken(Call& call) {
  std::int64_t id = 0;
  try {
    std::size_t used = 0;
    id = std::stoll(call.param, &used);
    if (used != call.param.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw ApiError(404, "not_found", "", "no such token: " + call.param);
  }
  db::SqliteAdminRepository repo(call.db);
  const auto tokens = repo.listTokens("api");
  const bool isApi =
      std::any_of(tokens.begin(), tokens.end(), [&](const auto& t) { return t.id == id; });
  if (!isApi || !repo.removeToken(id)) {
    throw ApiError(404, "not_found", "", "no such token: " + call.param);
  }
  return {204, "", "application/json", {}};
}

}  // namespace duplex::admin
