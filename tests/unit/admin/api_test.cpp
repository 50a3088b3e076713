// The admin API's routes without a socket: routeRequest() over an in-memory
// database, a recording LiveChanges, and a clock the test advances.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <regex>

#include "admin/api_routes.h"
#include "admin/assets.h"
#include "admin/password_hash.h"
#include "db/admin_repository.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = Poco::JSON::Object::Ptr;

struct RecordingLive : LiveChanges {
  std::vector<ExtensionsChange> extensions;
  std::vector<std::vector<SettingChange>> settings;
  void extensionsChanged(ExtensionsChange change) override {
    extensions.push_back(std::move(change));
  }
  std::vector<std::string> settingsChanged(const std::vector<SettingChange>& changes) override {
    settings.push_back(changes);
    std::vector<std::string> live;
    for (const auto& c : changes) {
      if (c.key == "log.level") live.push_back(c.key);
    }
    return live;
  }
};

struct FakeCalls : ActiveCallsView {
  std::string json = R"([{"legs":[{"state":"confirmed"}],"diagnosis":"one-way audio"}])";
  std::string activeCallsJson() override { return json; }
};

class Api : public ::testing::Test {
 protected:
  void SetUp() override {
    services.version = "1.2.3";
    services.realm = "pbx.test";
    services.startedAt = now - 42;
    services.clock = [this] { return now; };
    services.auth = &auth;
    services.live = &live;
    services.noteRestartRequired = [this](const std::vector<std::string>& keys) {
      restart.insert(restart.end(), keys.begin(), keys.end());
    };
    services.restartRequired = [this] { return restart; };
    db::SqliteAdminRepository repo(db);
    password = *ensureAdminPassword(repo, 1000);
    token = login(password)->getValue<std::string>("token");
  }

  Json login(const std::string& pw, const std::string& from = "192.0.2.1") {
    ApiRequest r{"POST",
                 "/api/v1/auth/login",
                 "application/json",
                 "",
                 from,
                 R"({"username":"admin","password":")" + pw + "\"}"};
    last = routeRequest(services, db, r);
    return parse(last);
  }

  ApiResponse send(const std::string& method, const std::string& target,
                   const std::string& body = "", std::optional<std::string> bearer = {},
                   const std::string& type = "application/json") {
    ApiRequest r{method, target, type, "Bearer " + bearer.value_or(token), "192.0.2.1", body};
    last = routeRequest(services, db, r);
    return last;
  }
  Json json(const std::string& method, const std::string& target, const std::string& body = "") {
    return parse(send(method, target, body));
  }
  static Json parse(const ApiResponse& r) {
    return Poco::JSON::Parser().parse(r.body).extract<Json>();
  }
  // The error of the last response: "<status> <error> <field>".
  std::string error() const {
    auto j = parse(last);
    return std::to_string(last.status) + " " + j->getValue<std::string>("error") + " " +
           (j->isNull("field") ? "-" : j->getValue<std::string>("field"));
  }
  std::string detail() const { return parse(last)->getValue<std::string>("detail"); }

  db::Database db{":memory:"};
  AdminAuth auth{AuthOptions{.sessionLifetime = 3600, .passwordIterations = 1000, .throttle = {}}};
  RecordingLive live;
  ApiServices services;
  std::vector<std::string> restart;
  std::int64_t now = 1'700'000'000;
  std::string password;
  std::string token;
  ApiResponse last;
};

TEST_F(Api, EveryRouteButHealthAndLoginRefusesWithoutAToken) {
  int checked = 0;
  for (const std::string& route : routeList()) {
    const auto space = route.find(' ');
    const std::string method = route.substr(0, space);
    const std::string path =
        std::regex_replace(route.substr(space + 1), std::regex("\\{[a-z]+\\}"), "1");
    if (path == "/api/v1/health" || path == "/api/v1/auth/login") continue;
    for (const std::string& header :
         {std::string(), std::string("Bearer dxs_forged_token_value_123")}) {
      const ApiResponse r = routeRequest(
          services, db, ApiRequest{method, path, "application/json", header, "x", "{}"});
      EXPECT_EQ(r.status, 401) << route;
      EXPECT_EQ(parse(r)->getValue<std::string>("error"), "unauthorized") << route;
    }
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST_F(Api, SessionExpiresAndLogoutRevokes) {
  EXPECT_EQ(send("GET", "/api/v1/extensions").status, 200);
  now += 3600;
  EXPECT_EQ(send("GET", "/api/v1/extensions").status, 401);
  token = login(password)->getValue<std::string>("token");
  // As the page sends it: no body, no Content-Type.
  EXPECT_EQ(send("POST", "/api/v1/auth/logout", "", std::nullopt, "").status, 204);
  EXPECT_EQ(send("GET", "/api/v1/extensions").status, 401);
}

TEST_F(Api, LoginErrorsAndThrottle) {
  login("wrong");
  EXPECT_EQ(error(), "401 unauthorized password");
  login("wrong");
  login("wrong");
  login(password);
  EXPECT_EQ(error(), "429 too_many_attempts -");
  EXPECT_THAT(last.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Retry-After", "2")));
  now += 1;
  login(password);
  EXPECT_EQ(error(), "429 too_many_attempts -");
  now += 1;
  EXPECT_TRUE(login(password)->has("token"));
  last = routeRequest(services, db,
                      ApiRequest{"POST", "/api/v1/auth/login", "application/json", "", "x",
                                 R"({"username":"admin"})"});
  EXPECT_EQ(error(), "400 missing_field password");
}

TEST_F(Api, ReadScopeTokensMayOnlyRead) {
  auto created = json("POST", "/api/v1/tokens", R"({"name":"monitor","scope":"read"})");
  ASSERT_EQ(last.status, 201);
  const std::string readToken = created->getValue<std::string>("token");
  EXPECT_EQ(send("GET", "/api/v1/extensions", "", readToken).status, 200);
  EXPECT_EQ(send("GET", "/api/v1/status", "", readToken).status, 200);
  send("POST", "/api/v1/extensions", R"({"number":"101"})", readToken);
  EXPECT_EQ(error(), "403 forbidden -");
  EXPECT_EQ(send("GET", "/api/v1/tokens", "", readToken).status, 403);
  // Listed without the token text; deleting revokes it.
  auto list = json("GET", "/api/v1/tokens")->getArray("tokens");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_FALSE(list->getObject(0)->has("token"));
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("scope"), "read");
  const auto id = std::to_string(created->getValue<std::int64_t>("id"));
  EXPECT_EQ(send("DELETE", "/api/v1/tokens/" + id).status, 204);
  EXPECT_EQ(send("GET", "/api/v1/extensions", "", readToken).status, 401);
  EXPECT_EQ(send("DELETE", "/api/v1/tokens/" + id).status, 404);
  send("POST", "/api/v1/tokens", R"({"name":"x","scope":"admin"})");
  EXPECT_EQ(error(), "400 invalid_field scope");
}

TEST_F(Api, CreateStoresHa1ForTheRealmAndTellsTheLiveSide) {
  auto r = json("POST", "/api/v1/extensions",
                R"({"number":"101","display_name":"Alice","sip_password":"tulip-Anchor-93"})");
  ASSERT_EQ(last.status, 201) << last.body;
  EXPECT_FALSE(r->has("sip_password"));
  EXPECT_FALSE(r->getValue<bool>("password_generated"));
  db::SqliteExtensionRepository repo(db);
  const auto stored = repo.findByNumber("101");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->displayName, "Alice");
  EXPECT_EQ(stored->realm, "pbx.test");
  EXPECT_EQ(stored->ha1Md5, md5Hex("101:pbx.test:tulip-Anchor-93"));
  EXPECT_EQ(stored->ha1Sha256, sha256Hex("101:pbx.test:tulip-Anchor-93"));
  ASSERT_EQ(live.extensions.size(), 1u);
  ASSERT_EQ(live.extensions[0].current.size(), 1u);
  EXPECT_EQ(live.extensions[0].current[0].number, "101");
  EXPECT_TRUE(live.extensions[0].dropBindingsOf.empty());
}

TEST_F(Api, OmittedPasswordIsGeneratedAndShownOnce) {
  auto r = json("POST", "/api/v1/extensions", R"({"number":"102"})");
  ASSERT_EQ(last.status, 201);
  const std::string generated = r->getValue<std::string>("sip_password");
  EXPECT_EQ(generated.size(), 20u);
  db::SqliteExtensionRepository repo(db);
  EXPECT_EQ(repo.findByNumber("102")->ha1Sha256, sha256Hex("102:pbx.test:" + generated));
  EXPECT_FALSE(json("GET", "/api/v1/extensions/102")->has("sip_password"));
  EXPECT_EQ(send("GET", "/api/v1/extensions").body.find(generated), std::string::npos);
}

TEST_F(Api, ValidationNamesTheField) {
  struct Case {
    std::string body;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {R"({})", "400 missing_field number"},
           {R"({"number":"10a"})", "400 invalid_field number"},
           {R"({"number":101})", "400 invalid_field number"},
           {R"({"number":"101","enabled":"yes"})", "400 invalid_field enabled"},
           {R"({"number":"101","max_contacts":0})", "400 invalid_field max_contacts"},
           {R"({"number":"101","max_contacts":2.5})", "400 invalid_field max_contacts"},
           {R"({"number":"101","forward_busy":"not a number"})", "400 invalid_field forward_busy"},
           {R"({"number":"101","forward_busy":"101"})", "400 invalid_field forward_busy"},
           {R"({"number":"101","permissions":"world"})", "400 invalid_field permissions"},
           {R"({"number":"101","colour":"red"})", "400 unknown_field colour"},
           {R"({"number":"101","sip_password":"short"})", "400 weak_password sip_password"},
           {R"({"number":"101","sip_password":"onlylowercaseletters"})",
            "400 weak_password sip_password"},
           {R"({"number":"1234","sip_password":"xx-1234-Secret"})",
            "400 weak_password sip_password"},
           {R"({"number":"101","sip_password":"Password2024!"})", "400 weak_password sip_password"},
           {R"([1,2])", "400 invalid_json -"},
           {R"({"number":)", "400 invalid_json -"},
       }) {
    send("POST", "/api/v1/extensions", c.body);
    EXPECT_EQ(error(), c.expected) << c.body;
  }
  send("POST", "/api/v1/extensions", R"({"number":"101","sip_password":"Password2024!"})");
  EXPECT_EQ(detail(), "sip_password is a commonly used password");
  send("POST", "/api/v1/extensions", R"({"number":"101"})", std::nullopt, "text/plain");
  EXPECT_EQ(error(), "415 unsupported_media_type -");
  send("POST", "/api/v1/extensions", std::string(kMaxRequestBody + 1, ' '));
  EXPECT_EQ(error(), "413 too_large -");
  EXPECT_TRUE(db::SqliteExtensionRepository(db).list().empty());
  EXPECT_TRUE(live.extensions.empty());
}

TEST_F(Api, DuplicateIs409AndBulkIsAllOrNothing) {
  send("POST", "/api/v1/extensions", R"({"number":"101"})");
  send("POST", "/api/v1/extensions", R"({"number":"101"})");
  EXPECT_EQ(error(), "409 conflict number");
  send("POST", "/api/v1/extensions/bulk",
       R"({"extensions":[{"number":"201"},{"number":"101"},{"number":"202"}]})");
  EXPECT_EQ(error(), "409 conflict extensions[1].number");
  send("POST", "/api/v1/extensions/bulk", R"({"extensions":[{"number":"201"},{"number":"201"}]})");
  EXPECT_EQ(error(), "409 conflict extensions[1].number");
  send("POST", "/api/v1/extensions/bulk", R"({"extensions":[{"number":"201"},{"number":"x"}]})");
  EXPECT_EQ(error(), "400 invalid_field extensions[1].number");
  EXPECT_EQ(db::SqliteExtensionRepository(db).list().size(), 1u);

  auto r = json("POST", "/api/v1/extensions/bulk",
                R"({"extensions":[{"number":"201"},{"number":"202","display_name":"B"},)"
                R"({"number":"203","sip_password":"tulip-Anchor-93"}]})");
  ASSERT_EQ(last.status, 201) << last.body;
  const auto created = r->getArray("extensions");
  ASSERT_EQ(created->size(), 3u);
  EXPECT_TRUE(created->getObject(0)->has("sip_password"));
  EXPECT_FALSE(created->getObject(2)->has("sip_password"));
  EXPECT_EQ(db::SqliteExtensionRepository(db).list().size(), 4u);
  EXPECT_EQ(live.extensions.back().current.size(), 4u);
}

TEST_F(Api, PatchChangesOnlyTheFieldsSent) {
  send("POST", "/api/v1/extensions",
       R"({"number":"101","display_name":"Alice","dnd":true,"forward_busy":"102",)"
       R"("sip_password":"tulip-Anchor-93","max_contacts":3})");
  db::SqliteExtensionRepository repo(db);
  const auto before = *repo.findByNumber("101");
  auto r = json("PATCH", "/api/v1/extensions/101", R"({"display_name":"Alice B."})");
  ASSERT_EQ(last.status, 200) << last.body;
  auto after = *repo.findByNumber("101");
  EXPECT_EQ(after.displayName, "Alice B.");
  after.displayName = before.displayName;
  after.updatedAt = before.updatedAt;
  EXPECT_EQ(after, before);  // everything else, HA1 included, untouched

  json("PATCH", "/api/v1/extensions/101",
       R"({"forward_busy":null,"sip_password":"river-Stone-4711"})");
  after = *repo.findByNumber("101");
  EXPECT_EQ(after.forwardBusy, std::nullopt);
  EXPECT_EQ(after.ha1Md5, md5Hex("101:pbx.test:river-Stone-4711"));
  EXPECT_TRUE(after.dnd);

  r = json("PATCH", "/api/v1/extensions/101", R"({"sip_password":null})");
  EXPECT_EQ(repo.findByNumber("101")->ha1Sha256,
            sha256Hex("101:pbx.test:" + r->getValue<std::string>("sip_password")));

  send("PATCH", "/api/v1/extensions/101", R"({"number":"105"})");
  EXPECT_EQ(error(), "400 invalid_field number");
  send("PATCH", "/api/v1/extensions/999", R"({"dnd":false})");
  EXPECT_EQ(error(), "404 not_found -");
}

TEST_F(Api, DisablingOrDeletingDropsBindings) {
  send("POST", "/api/v1/extensions", R"({"number":"101"})");
  send("POST", "/api/v1/extensions", R"({"number":"102"})");
  db::SqliteExtensionRepository repo(db);
  const auto id101 = repo.findByNumber("101")->id;
  const auto id102 = repo.findByNumber("102")->id;
  json("PATCH", "/api/v1/extensions/101", R"({"enabled":false})");
  EXPECT_THAT(live.extensions.back().dropBindingsOf, ElementsAre(id101));
  json("PATCH", "/api/v1/extensions/101", R"({"display_name":"still off"})");
  EXPECT_TRUE(live.extensions.back().dropBindingsOf.empty());

  db::SqliteBindingRepository bindings(db);
  db::BindingRecord b;
  b.extensionId = id102;
  b.aor = "sip:102@pbx.test";
  b.contactUri = "sip:102@192.0.2.5:5060";
  b.callId = "c";
  b.cseq = 1;
  b.expiresAt = now + 600;
  b.transport = "udp";
  b.localIp = "192.0.2.1";
  b.localPort = 5060;
  b.sourceIp = "192.0.2.5";
  b.sourcePort = 5060;
  b.userAgent = "TestPhone";
  bindings.upsertMany(std::span(&b, 1));
  auto status = json("GET", "/api/v1/status");
  ASSERT_EQ(status->getArray("registrations")->size(), 1u);
  auto reg = status->getArray("registrations")->getObject(0);
  EXPECT_EQ(reg->getValue<std::string>("extension"), "102");
  EXPECT_EQ(reg->getValue<std::string>("source"), "192.0.2.5:5060");
  EXPECT_EQ(reg->getValue<std::string>("user_agent"), "TestPhone");
  EXPECT_EQ(reg->getValue<int>("expires_in_s"), 600);

  EXPECT_EQ(send("DELETE", "/api/v1/extensions/102").status, 204);
  EXPECT_THAT(live.extensions.back().dropBindingsOf, ElementsAre(id102));
  EXPECT_EQ(live.extensions.back().current.size(), 1u);
  EXPECT_TRUE(bindings.loadUnexpired(now).empty());
  EXPECT_EQ(send("GET", "/api/v1/extensions/102").status, 404);
  EXPECT_EQ(send("DELETE", "/api/v1/extensions/102").status, 404);
}

TEST_F(Api, SettingsAreValidatedStoredAndSecretsNeverReturned) {
  auto r = json("PATCH", "/api/v1/settings",
                R"({"sip.port":5070,"nat.upnp":true,"local_networks":["192.168.1.0/24"],)"
                R"("dyndns.password":"hunter2-secret","log.level":"debug"})");
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(r->getObject("settings")->getValue<int>("sip.port"), 5070);
  EXPECT_TRUE(r->getObject("secrets_set")->getValue<bool>("dyndns.password"));
  EXPECT_EQ(last.body.find("hunter2"), std::string::npos);
  ASSERT_EQ(r->getArray("applied_live")->size(), 1u);
  EXPECT_EQ(r->getArray("applied_live")->getElement<std::string>(0), "log.level");
  EXPECT_EQ(r->getArray("needs_restart")->size(), 4u);
  const std::string get = send("GET", "/api/v1/settings").body;
  EXPECT_EQ(get.find("hunter2"), std::string::npos);
  EXPECT_THAT(get, HasSubstr(R"("local_networks":["192.168.1.0/24"])"));
  EXPECT_THAT(get, HasSubstr(R"("restart_required":["dyndns.password","local_networks","nat.upnp",)"
                             R"("sip.port"])"));
  db::SqliteSettingsRepository repo(db);
  EXPECT_EQ(repo.get("dyndns.password")->value, "hunter2-secret");
  EXPECT_TRUE(repo.get("dyndns.password")->secret);
  EXPECT_EQ(repo.get("local_networks")->value, "192.168.1.0/24");

  for (const auto& [body, expected] : std::vector<std::pair<std::string, std::string>>{
           {R"({"sip.port":70000})", "400 invalid_field sip.port"},
           {R"({"sip.port":"5060"})", "400 invalid_field sip.port"},
           {R"({"nat.upnp":1})", "400 invalid_field nat.upnp"},
           {R"({"local_networks":["192.168.1.0/33"]})", "400 invalid_field local_networks"},
           {R"({"nat.stun_servers":["stun.example.org:99999"]})",
            "400 invalid_field nat.stun_servers"},
           {R"({"sip.udp":"yes"})", "400 invalid_field sip.udp"},
           {R"({"media.timeout":2})", "400 invalid_field media.timeout"},
           {R"({"dyndns.provider":"ftp://x"})", "400 invalid_field dyndns.provider"},
           {R"({"main_address":"bad host!"})", "400 invalid_field main_address"},
           {R"({"media.rtp_port_min":20000,"media.rtp_port_max":10000})",
            "400 invalid_field media.rtp_port_min"},
           // Values duplex.conf would refuse at the next start are refused now.
           {R"({"call.follow_redirects":true})", "400 invalid_field call.follow_redirects"},
           {R"({"nat.upnp_budget":0})", "400 invalid_field nat.upnp_budget"},
           {R"({"no.such":1})", "400 unknown_field no.such"},
           {R"({})", "400 invalid_json -"},
       }) {
    send("PATCH", "/api/v1/settings", body);
    EXPECT_EQ(error(), expected) << body;
  }
  EXPECT_EQ(repo.get("sip.port")->value, "5070");  // failed PATCHes changed nothing
  json("PATCH", "/api/v1/settings",
       R"({"sip.port":null,"nat.stun_servers":["stun.example.org:3478","[2001:db8::1]"]})");
  EXPECT_FALSE(repo.get("sip.port"));
  EXPECT_EQ(repo.get("nat.stun_servers")->value, "stun.example.org:3478,[2001:db8::1]");
  json("PATCH", "/api/v1/settings", R"({"media.timeout":90})");
  EXPECT_EQ(repo.get("media.timeout")->value, "90s");  // as duplex.conf writes it
  EXPECT_EQ(json("GET", "/api/v1/settings")->getObject("settings")->getValue<int>("media.timeout"),
            90);
}

TEST_F(Api, StatusShowsWhatIsAvailable) {
  auto s = json("GET", "/api/v1/status");
  EXPECT_EQ(s->getValue<std::string>("version"), "1.2.3");
  EXPECT_EQ(s->getValue<int>("uptime_s"), 42);
  EXPECT_FALSE(s->getObject("active_calls")->getValue<bool>("available"));
  EXPECT_FALSE(s->getObject("nat")->getValue<bool>("available"));
  FakeCalls calls;
  services.status.calls = &calls;
  s = json("GET", "/api/v1/status");
  EXPECT_EQ(s->getArray("active_calls")->getObject(0)->getValue<std::string>("diagnosis"),
            "one-way audio");
  calls.json = "{broken";
  s = json("GET", "/api/v1/status");
  EXPECT_FALSE(s->getObject("active_calls")->getValue<bool>("available"));
}

TEST_F(Api, CallsFilterPageAndExport) {
  db::SqliteCallRecordRepository repo(db);
  for (int i = 0; i < 5; ++i) {
    db::CallRecord r;
    r.callId = "call-" + std::to_string(i);
    r.caller = i % 2 ? "101" : "102";
    r.callee = "103";
    r.dialled = "103";
    r.startAt = 1000 + i * 100;
    r.endAt = r.startAt + 30;
    r.durationS = 30;
    r.disposition = i == 4 ? db::Disposition::busy : db::Disposition::answered;
    r.hangupCause = i == 3 ? "BYE, \"normal\"" : "BYE";
    repo.insert(r);
  }
  auto page = json("GET", "/api/v1/calls?limit=2&offset=1");
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_EQ(page->getValue<int>("total"), 5);
  ASSERT_EQ(page->getArray("records")->size(), 2u);
  EXPECT_EQ(page->getArray("records")->getObject(0)->getValue<std::string>("call_id"), "call-3");
  page = json("GET", "/api/v1/calls?extension=101");
  EXPECT_EQ(page->getValue<int>("total"), 2);
  page = json("GET", "/api/v1/calls?disposition=busy");
  EXPECT_EQ(page->getValue<int>("total"), 1);
  page = json("GET", "/api/v1/calls?from=1100&to=1300");
  EXPECT_EQ(page->getValue<int>("total"), 2);
  page = json("GET", "/api/v1/calls?from=1970-01-01T00:18:20Z");
  EXPECT_EQ(page->getValue<int>("total"), 4);
  for (const auto& [query, expected] : std::vector<std::pair<std::string, std::string>>{
           {"limit=0", "400 invalid_field limit"},
           {"limit=abc", "400 invalid_field limit"},
           {"disposition=lost", "400 invalid_field disposition"},
           {"from=yesterday", "400 invalid_field from"},
           {"from=2000&to=1000", "400 invalid_field to"},
           {"sort=up", "400 unknown_field sort"},
       }) {
    send("GET", "/api/v1/calls?" + query);
    EXPECT_EQ(error(), expected) << query;
  }
  const ApiResponse csv = send("GET", "/api/v1/calls.csv?extension=101");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.contentType, "text/csv; charset=utf-8");
  EXPECT_THAT(csv.body, HasSubstr("id,call_id,caller,"));
  EXPECT_THAT(
      csv.body,
      HasSubstr(",call-3,101,103,103,1300,,1330,30,0,answered,,\"BYE, \"\"normal\"\"\",\r\n"));
  EXPECT_EQ(std::count(csv.body.begin(), csv.body.end(), '\n'), 3);
}

TEST_F(Api, NotFoundAndMethodNotAllowed) {
  send("GET", "/api/v1/nothing");
  EXPECT_EQ(error(), "404 not_found -");
  send("PUT", "/api/v1/extensions");
  EXPECT_EQ(error(), "405 method_not_allowed -");
  EXPECT_THAT(last.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Allow", "GET, POST")));
  send("GET", "/api/v1/extensions/abc");
  EXPECT_EQ(error(), "404 not_found -");
}

TEST_F(Api, OddInputNeverFailsTheServer) {
  send("POST", "/api/v1/extensions", R"({"number":"101"})");
  const std::vector<std::string> bodies = {
      "",
      "null",
      "[]",
      "{}",
      "1",
      "\"x\"",
      "{\"number\":null}",
      "{\"a\":",
      std::string(5000, '['),
      "{\"number\":\"101\",\"enabled\":null}",
      "{\"extensions\":[null,1,\"x\",[]]}",
      "{\"extensions\":{}}",
      "{\"sip.port\":1e99}",
      "{\"max_contacts\":9223372036854775808}",
      "{\"display_name\":\"\\u0000\"}",
      "{\"local_networks\":[1]}",
      "{\"scope\":\"read\",\"name\":\"x\",\"expires_in_days\":-1}",
      "\xff\xfe",
      "{\"number\":\"101\"}{"};
  int checked = 0;
  for (const std::string& route : routeList()) {
    const auto space = route.find(' ');
    const std::string method = route.substr(0, space);
    for (const char* param : {"101", "1", "%zz", "x"}) {
      const std::string path =
          std::regex_replace(route.substr(space + 1), std::regex("\\{[a-z]+\\}"), param);
      if (path.find("/auth/logout") != std::string::npos) continue;  // would end the session
      for (const std::string& body : bodies) {
        for (const char* query : {"", "?limit=%zz&x", "?from=&to=&offset=-1"}) {
          const ApiResponse r = send(method, path + query, body);
          EXPECT_LT(r.status, 500) << route << " " << body << " -> " << r.body;
          if (r.contentType == "application/json" && !r.body.empty()) {
            EXPECT_NO_THROW(Poco::JSON::Parser().parse(r.body)) << route << " " << body;
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

TEST(OpenApi, DocumentsEveryRoute) {
  const Asset* doc = findAsset("openapi.json");
  ASSERT_NE(doc, nullptr);
  const auto root = Poco::JSON::Parser().parse(std::string(doc->body)).extract<Json>();
  EXPECT_EQ(root->getValue<std::string>("openapi").rfind("3.", 0), 0u);
  const auto paths = root->getObject("paths");
  ASSERT_TRUE(paths);
  for (const std::string& route : routeList()) {
    const auto space = route.find(' ');
    std::string method = route.substr(0, space);
    std::transform(method.begin(), method.end(), method.begin(), ::tolower);
    const std::string path = route.substr(space + 1);
    ASSERT_TRUE(paths->has(path)) << path;
    EXPECT_TRUE(paths->getObject(path)->has(method)) << route;
  }
}

}  // namespace
}  // namespace duplex::admin
