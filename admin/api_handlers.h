// The handlers behind admin/api_routes.h, one per route, grouped by resource
// in api_auth.cpp, api_extensions.cpp, api_trunks.cpp, api_dialplan.cpp,
// api_settings.cpp, api_status.cpp, api_calls.cpp. Internal to admin/. Thread: as routeRequest().
// Each throws ApiError for client errors and lets db::DbError through (500).
#pragma once

#include <Poco/JSON/Object.h>

#include <map>
#include <optional>
#include <string>

#include "admin/api_routes.h"

namespace duplex::admin {

struct Call {
  ApiServices& services;
  db::Database& db;
  const ApiRequest& request;
  std::map<std::string, std::string> query;
  std::string param;  // the {number} / {id} path segment, if the route has one
  std::optional<Principal> principal;
  std::int64_t now = 0;
};

using Handler = ApiResponse (*)(Call&);

ApiResponse jsonResponse(int status, const Poco::JSON::Object& body);
// The request body as an object, after the 415 check.
Poco::JSON::Object::Ptr requestObject(const Call& call);

ApiResponse login(Call& call);
ApiResponse logout(Call& call);
ApiResponse changePassword(Call& call);
ApiResponse listTokens(Call& call);
ApiResponse createToken(Call& call);
ApiResponse deleteToken(Call& call);

ApiResponse listExtensions(Call& call);
ApiResponse createExtension(Call& call);
ApiResponse createExtensions(Call& call);
ApiResponse getExtension(Call& call);
ApiResponse patchExtension(Call& call);
ApiResponse deleteExtension(Call& call);

ApiResponse listTrunks(Call& call);
ApiResponse createTrunk(Call& call);
ApiResponse getTrunk(Call& call);
ApiResponse patchTrunk(Call& call);
ApiResponse deleteTrunk(Call& call);

ApiResponse listOutboundRoutes(Call& call);
ApiResponse createOutboundRoute(Call& call);
ApiResponse getOutboundRoute(Call& call);
ApiResponse patchOutboundRoute(Call& call);
ApiResponse deleteOutboundRoute(Call& call);

ApiResponse listInboundNumbers(Call& call);
ApiResponse createInboundNumber(Call& call);
ApiResponse getInboundNumber(Call& call);
ApiResponse patchInboundNumber(Call& call);
ApiResponse deleteInboundNumber(Call& call);

ApiResponse getSettings(Call& call);
ApiResponse patchSettings(Call& call);

ApiResponse getStatus(Call& call);

ApiResponse listCalls(Call& call);
ApiResponse exportCalls(Call& call);

ApiResponse getOpenApi(Call& call);

}  // namespace duplex::admin
