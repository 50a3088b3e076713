#include "admin/api_routes.h"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/URI.h>

#include <array>

#include "admin/api_handlers.h"
#include "admin/json_fields.h"
#include "db/admin_repository.h"

namespace duplex::admin {
namespace {

enum class Access { open, read, full };

struct Route {
  std::string_view method;
  std::string_view pattern;  // "{x}" matches one non-empty segment
  Handler handler;
  Access access;
};

ApiResponse health(Call& call) {
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("status", "ok");
  body.set("version", call.services.version);
  return jsonResponse(200, body);
}

constexpr std::array kRoutes{
    Route{"GET", "/api/v1/health", health, Access::open},
    Route{"POST", "/api/v1/auth/login", login, Access::open},
    Route{"POST", "/api/v1/auth/logout", logout, Access::read},
    Route{"PUT", "/api/v1/auth/password", changePassword, Access::full},
    Route{"GET", "/api/v1/tokens", listTokens, Access::full},
    Route{"POST", "/api/v1/tokens", createToken, Access::full},
    Route{"DELETE", "/api/v1/tokens/{id}", deleteToken, Access::full},
    Route{"GET", "/api/v1/extensions", listExtensions, Access::read},
    Route{"POST", "/api/v1/extensions", createExtension, Access::full},
    Route{"POST", "/api/v1/extensions/bulk", createExtensions, Access::full},
    Route{"GET", "/api/v1/extensions/{number}", getExtension, Access::read},
    Route{"PATCH", "/api/v1/extensions/{number}", patchExtension, Access::full},
    Route{"DELETE", "/api/v1/extensions/{number}", deleteExtension, Access::full},
    Route{"GET", "/api/v1/trunks", listTrunks, Access::read},
    Route{"POST", "/api/v1/trunks", createTrunk, Access::full},
    Route{"GET", "/api/v1/trunks/{id}", getTrunk, Access::read},
    Route{"PATCH", "/api/v1/trunks/{id}", patchTrunk, Access::full},
    Route{"DELETE", "/api/v1/trunks/{id}", deleteTrunk, Access::full},
    Route{"GET", "/api/v1/outbound-routes", listOutboundRoutes, Access::read},
    Route{"POST", "/api/v1/outbound-routes", createOutboundRoute, Access::full},
    Route{"GET", "/api/v1/outbound-routes/{id}", getOutboundRoute, Access::read},
    Route{"PATCH", "/api/v1/outbound-routes/{id}", patchOutboundRoute, Access::full},
    Route{"DELETE", "/api/v1/outbound-routes/{id}", deleteOutboundRoute, Access::full},
    Route{"GET", "/api/v1/inbound-numbers", listInboundNumbers, Access::read},
    Route{"POST", "/api/v1/inbound-numbers", createInboundNumber, Access::full},
    Route{"GET", "/api/v1/inbound-numbers/{id}", getInboundNumber, Access::read},
    Route{"PATCH", "/api/v1/inbound-numbers/{id}", patchInboundNumber, Access::full},
    Route{"DELETE", "/api/v1/inbound-numbers/{id}", deleteInboundNumber, Access::full},
    Route{"GET", "/api/v1/settings", getSettings, Access::read},
    Route{"PATCH", "/api/v1/settings", patchSettings, Access::full},
    Route{"GET", "/api/v1/status", getStatus, Access::read},
    Route{"GET", "/api/v1/calls", listCalls, Access::read},
    Route{"GET", "/api/v1/calls.csv", exportCalls, Access::read},
    Route{"GET", "/api/v1/openapi.json", getOpenApi, Access::read},
};

// Matches `path` against `pattern`; the {x} segment goes to `param`.
bool matches(std::string_view pattern, std::string_view path, std::string& param) {
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty()) return false;
    const auto pEnd = pattern.find('/', 1);
    const auto sEnd = path.find('/', 1);
    const std::string_view pSeg = pattern.substr(0, pEnd);
    const std::string_view sSeg = path.substr(0, sEnd);
    if (pSeg.size() > 2 && pSeg[1] == '{') {
      if (sSeg.size() < 2) return false;
      param = std::string(sSeg.substr(1));
    } else if (pSeg != sSeg) {
      return false;
    }
    pattern = pEnd == pattern.npos ? std::string_view() : pattern.substr(pEnd);
    path = sEnd == path.npos ? std::string_view() : path.substr(sEnd);
  }
  return true;
}

ApiResponse errorResponse(int status, std::string_view code, std::string_view field,
                          std::string_view detail) {
  return {status, errorBody(code, field, detail), "application/json", {}};
}

}  // namespace

std::string errorBody(std::string_view code, std::string_view field, std::string_view detail) {
  Poco::JSON::Object body(Poco::JSON_PRESERVE_KEY_ORDER);
  body.set("error", std::string(code));
  if (field.empty()) {
    body.set("field", Poco::Dynamic::Var());
  } else {
    body.set("field", std::string(field));
  }
  body.set("detail", std::string(detail));
  return toJson(body);
}

std::vector<std::string> routeList() {
  std::vector<std::string> out;
  for (const Route& r : kRoutes)
    out.push_back(std::string(r.method) + " " + std::string(r.pattern));
  return out;
}

ApiResponse jsonResponse(int status, const Poco::JSON::Object& body) {
  return {status, toJson(body), "application/json", {}};
}

Poco::JSON::Object::Ptr requestObject(const Call& call) {
  return parseObject(call.request.body);
}

ApiResponse routeRequest(ApiServices& services, db::Database& db, const ApiRequest& request) {
  const std::string_view target = request.target;
  const std::string path(target.substr(0, target.find('?')));
  std::string param;
  const Route* found = nullptr;
  std::string allowed;
  for (const Route& route : kRoutes) {
    std::string p;
    if (!matches(route.pattern, path, p)) continue;
    if (route.method == request.method) {
      found = &route;
      param = std::move(p);
      break;
    }
    if (allowed.find(route.method) == std::string::npos) {
      allowed += (allowed.empty() ? "" : ", ") + std::string(route.method);
    }
  }
  if (!found) {
    if (allowed.empty()) {
      return errorResponse(404, "not_found", "", "no such resource: " + path);
    }
    auto response = errorResponse(
        405, "method_not_allowed", "",
        request.method + " is not allowed on " + path + " (allowed: " + allowed + ")");
    response.headers.emplace_back("Allow", allowed);
    return response;
  }

  Call call{services, db, request, {}, std::move(param), std::nullopt, services.clock()};
  try {
    if (found->access != Access::open) {
      db::SqliteAdminRepository repo(db);
      call.principal = services.auth->authenticate(repo, request.authorization, call.now);
      if (!call.principal) {
        auto response =
            errorResponse(401, "unauthorized", "",
                          request.authorization.empty()
                              ? "this resource needs a bearer token (POST /api/v1/auth/login)"
                              : "the bearer token is unknown, expired or revoked");
        response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"duplex\"");
        return response;
      }
      if (found->access == Access::full && call.principal->scope != Scope::full) {
        return errorResponse(403, "forbidden", "",
                             "this token has the read scope; " + request.method + " " + path +
                                 " needs a token with the full scope");
      }
    }
    if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
      if (request.body.size() > kMaxRequestBody) {
        return errorResponse(
            413, "too_large", "",
            "the body is larger than " + std::to_string(kMaxRequestBody) + " bytes");
      }
      // A body must be JSON; a bodyless POST (logout) needs no Content-Type.
      const std::string type = request.contentType.substr(0, request.contentType.find(';'));
      if (!request.body.empty() && type != "application/json") {
        return errorResponse(415, "unsupported_media_type", "",
                             "the body must be application/json (Content-Type: " +
                                 (request.contentType.empty() ? "none" : request.contentType) +
                                 ")");
      }
    }
    try {
      Poco::URI uri(request.target);
      for (auto& [key, value] : uri.getQueryParameters()) call.query[key] = value;
    } catch (const Poco::Exception& e) {
      return errorResponse(400, "invalid_field", "", "malformed query string: " + e.message());
    }
    return found->handler(call);
  } catch (const ApiError& e) {
    return errorResponse(e.status(), e.code(), e.field(), e.what());
  }
}

}  // namespace duplex::admin
