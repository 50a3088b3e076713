// The admin API's routing: method + path in, status + JSON body out. Free of
// sockets so it can be tested without a server (STYLE.md 4). Internal to
// admin/. Any thread; no shared state.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duplex::admin {

struct ApiContext {
  std::string version;
};

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
  std::vector<std::pair<std::string, std::string>> headers;
};

// `target` is the request target as received ("/api/v1/health?x=1").
ApiResponse routeRequest(const ApiContext& context, std::string_view method,
                         std::string_view target);

// {"error": code, "detail": detail}, the body of every error response.
std::string errorBody(std::string_view code, std::string_view detail);

}  // namespace duplex::admin
