#include "admin/api_routes.h"

#include <Poco/JSON/Object.h>

#include <sstream>

namespace duplex::admin {
namespace {

std::string stringify(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

ApiResponse health(const ApiContext& context) {
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("status", "ok");
  body.set("version", context.version);
  return {200, stringify(body), {}};
}

}  // namespace

std::string errorBody(std::string_view code, std::string_view detail) {
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("error", std::string(code));
  body.set("detail", std::string(detail));
  return stringify(body);
}

ApiResponse routeRequest(const ApiContext& context, std::string_view method,
                         std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/api/v1/health") {
    if (method == "GET") return health(context);
    return {405,
            errorBody("method_not_allowed", std::string(method) + " is not allowed on " +
                                                std::string(path) + " (allowed: GET)"),
            {{"Allow", "GET"}}};
  }
  return {
      404,
      errorBody("not_found", "no such resource: " + std::string(method) + " " + std::string(path)),
      {}};
}

}  // namespace duplex::admin
