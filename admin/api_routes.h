// The admin API's routing: a request (method, target, headers that matter,
// body, client address) in, status + body out. Free of sockets so it is
// tested without a server (STYLE.md 4); admin_server.cpp adapts Poco to it.
//
// Every route but GET /api/v1/health and POST /api/v1/auth/login needs a
// bearer token (401 otherwise); tokens with scope "read" may only GET (403).
// Errors are JSON {"error": code, "field": name or null, "detail": words}:
//   400 invalid_json, invalid_field, unknown_field, missing_field, weak_password
//   401 unauthorized     403 forbidden        404 not_found
//   405 method_not_allowed (with Allow)      409 conflict (duplicate extension, trunk
//                                            name, route name or inbound number;
//                                            trunk still used)
//   413 too_large         415 unsupported_media_type
//   429 too_many_attempts (with Retry-After) 500 internal (db failure; logged)
//
// For: admin_server.cpp, unit tests. Thread: any admin worker; `db` is the
// calling thread's connection (db/db.h); ApiServices is shared and
// thread-safe (AdminAuth locks; the views and LiveChanges are thread-safe by
// contract).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/auth.h"
#include "admin/live_changes.h"
#include "admin/status_sources.h"
#include "db/database.h"

namespace duplex::admin {

inline constexpr std::size_t kMaxRequestBody = 1 << 20;  // 413 above

struct ApiRequest {
  std::string method;
  std::string target;  // as received: "/api/v1/calls?limit=10"
  std::string contentType;
  std::string authorization;
  std::string clientAddress;  // IP literal, for the login throttle
  std::string body;
};

struct ApiResponse {
  int status = 200;
  std::string body;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// A precise client error, thrown inside handlers and turned into a response
// by routeRequest() (never past it).
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string field, const std::string& detail)
      : std::runtime_error(detail),
        status_(status),
        code_(std::move(code)),
        field_(std::move(field)) {}
  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::string& field() const { return field_; }  // "" = not about one field

 private:
  int status_;
  std::string code_;
  std::string field_;
};

struct ApiServices {
  std::string version;
  std::string realm;                    // the digest realm new HA1 values are made for
  std::int64_t startedAt = 0;           // unix seconds
  std::function<std::int64_t()> clock;  // unix seconds
  AdminAuth* auth = nullptr;
  LiveChanges* live = nullptr;  // nullptr: changes apply at the next start
  StatusSources status;
  // Setting keys stored since start that only apply at the next start.
  std::function<void(const std::vector<std::string>&)> noteRestartRequired;
  // Keys just applied live: the running value is the stored one again, so
  // they leave the restart list.
  std::function<void(const std::vector<std::string>&)> noteAppliedLive;
  std::function<std::vector<std::string>()> restartRequired;
};

ApiResponse routeRequest(ApiServices& services, db::Database& db, const ApiRequest& request);

// {"error": code, "field": field or null, "detail": detail}
std::string errorBody(std::string_view code, std::string_view field, std::string_view detail);

// Every route as "METHOD /api/v1/path/{param}" (for the OpenAPI test).
std::vector<std::string> routeList();

}  // namespace duplex::admin
