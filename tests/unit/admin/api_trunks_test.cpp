// /api/v1/trunks, /api/v1/outbound-routes, /api/v1/inbound-numbers and the
// dialing.* settings through routeRequest() over an in-memory database: what
// an admin sends, what is stored, what comes back, and the live side told.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "admin/api_routes.h"
#include "db/admin_repository.h"
#include "db/sqlite_repositories.h"

namespace duplex::admin {
namespace {

using ::testing::HasSubstr;
using Json = Poco::JSON::Object::Ptr;

struct CountingLive : LiveChanges {
  int trunkChanges = 0;
  std::vector<std::string> lastSettings;
  void extensionsChanged(ExtensionsChange) override {}
  std::vector<std::string> settingsChanged(const std::vector<SettingChange>& changes) override {
    std::vector<std::string> keys;
    for (const auto& c : changes) keys.push_back(c.key);
    lastSettings = keys;
    return keys;
  }
  void trunksChanged() override { ++trunkChanges; }
};

constexpr const char* kTrunk =
    R"({"name":"sipgate","host":"sip.provider.example","username":"4930123","password":"s3cret"})";

class TrunkApi : public ::testing::Test {
 protected:
  void SetUp() override {
    services.version = "test";
    services.realm = "pbx.test";
    services.clock = [] { return std::int64_t{1'700'000'000}; };
    services.auth = &auth;
    services.live = &live;
    db::SqliteAdminRepository repo(db);
    const std::string password = *ensureAdminPassword(repo, 1000);
    ApiRequest r{
        "POST", "/api/v1/auth/login", "application/json",
        "",     "192.0.2.1",          R"({"username":"admin","password":")" + password + "\"}"};
    token = parse(routeRequest(services, db, r))->getValue<std::string>("token");
  }

  ApiResponse send(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    last = routeRequest(
        services, db,
        ApiRequest{method, target, "application/json", "Bearer " + token, "192.0.2.1", body});
    return last;
  }
  Json json(const std::string& method, const std::string& target, const std::string& body = "") {
    return parse(send(method, target, body));
  }
  static Json parse(const ApiResponse& r) {
    return Poco::JSON::Parser().parse(r.body).extract<Json>();
  }
  // "<status> <error> <field>" of the last response.
  std::string error() const {
    auto j = parse(last);
    return std::to_string(last.status) + " " + j->getValue<std::string>("error") + " " +
           (j->isNull("field") ? "-" : j->getValue<std::string>("field"));
  }
  std::string detail() const { return parse(last)->getValue<std::string>("detail"); }
  std::string createTrunk(const std::string& body = kTrunk) {
    auto j = json("POST", "/api/v1/trunks", body);
    EXPECT_EQ(last.status, 201) << last.body;
    return std::to_string(j->getValue<std::int64_t>("id"));
  }

  db::Database db{":memory:"};
  AdminAuth auth{AuthOptions{.sessionLifetime = 3600, .passwordIterations = 1000, .throttle = {}}};
  CountingLive live;
  ApiServices services;
  std::string token;
  ApiResponse last;
};

TEST_F(TrunkApi, CreateStoresEveryFieldAndNeverReturnsThePassword) {
  auto t = json("POST", "/api/v1/trunks", R"({
    "name":"provider","enabled":true,"host":"198.51.100.20","port":5080,"transport":"tcp",
    "username":"4930123","password":"s3cret","auth_username":"auth-1","realm":"prov.example",
    "register":true,"register_interval":300,"outbound_proxy":"proxy.example:5070",
    "caller_id":"+4930123","max_calls":4,"codecs":["PCMA","G722"],
    "from_domain":"voip.example","from_user":"4930123-0",
    "extra_addresses":["198.51.100.10","198.51.100.64/26"]})");
  ASSERT_EQ(last.status, 201) << last.body;
  EXPECT_FALSE(t->has("password"));
  EXPECT_TRUE(t->getValue<bool>("password_set"));
  EXPECT_EQ(t->getValue<int>("register_interval"), 300);
  EXPECT_EQ(t->getArray("codecs")->size(), 2u);
  const auto id = t->getValue<std::int64_t>("id");
  EXPECT_THAT(last.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                "Location", "/api/v1/trunks/" + std::to_string(id))));
  const auto stored = db::SqliteTrunkRepository(db).findById(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->password, "s3cret");
  EXPECT_EQ(stored->transport, "tcp");
  EXPECT_EQ(stored->outboundProxy, "proxy.example:5070");
  EXPECT_EQ(stored->maxCalls, 4);
  EXPECT_EQ(stored->extraAddresses.size(), 2u);
  EXPECT_EQ(live.trunkChanges, 1);

  auto got = json("GET", "/api/v1/trunks/" + std::to_string(id));
  EXPECT_EQ(got->getValue<std::string>("name"), "provider");
  EXPECT_FALSE(got->has("password"));
  EXPECT_THAT(send("GET", "/api/v1/trunks").body, ::testing::Not(HasSubstr("s3cret")));
}

TEST_F(TrunkApi, RequiredFieldsAndValidationNameTheField) {
  send("POST", "/api/v1/trunks", R"({"name":"x","host":"h.example","username":"u"})");
  EXPECT_EQ(error(), "400 missing_field password");
  const std::pair<std::string, std::string> bad[] = {
      {R"("host":"not a host")", "host"},
      {R"("port":70000)", "port"},
      {R"("transport":"tls")", "transport"},
      {R"("register_interval":30)", "register_interval"},
      {R"("register_interval":3601)", "register_interval"},
      {R"("outbound_proxy":"proxy:notaport")", "outbound_proxy"},
      {R"("caller_id":"abc")", "caller_id"},
      {R"("max_calls":-1)", "max_calls"},
      {R"("codecs":"PCMA")", "codecs"},
      {R"("codecs":["PCMA","pcma"])", "codecs[1]"},
      {R"("extra_addresses":["198.51.100.300"])", "extra_addresses[0]"},
      {R"("username":"a b")", "username"},
      {R"("password":"")", "password"},
      {R"("enabled":"yes")", "enabled"},
      {R"("colour":"red")", "colour"},
  };
  for (const auto& [member, field] : bad) {
    std::string body = kTrunk;
    body.insert(body.size() - 1, "," + member);
    send("POST", "/api/v1/trunks", body);
    EXPECT_EQ(last.status, 400) << member;
    EXPECT_EQ(parse(last)->getValue<std::string>("field"), field) << member << " " << last.body;
  }
  EXPECT_EQ(live.trunkChanges, 0);
  EXPECT_TRUE(db::SqliteTrunkRepository(db).list().empty());
}

TEST_F(TrunkApi, PatchChangesOnlyTheFieldsSent) {
  const std::string id = createTrunk();
  auto t = json("PATCH", "/api/v1/trunks/" + id, R"({"max_calls":null,"register":false})");
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_TRUE(t->isNull("max_calls"));
  EXPECT_FALSE(t->getValue<bool>("register"));
  EXPECT_EQ(t->getValue<std::string>("host"), "sip.provider.example");
  EXPECT_EQ(db::SqliteTrunkRepository(db).findById(std::stoll(id))->password, "s3cret");
  json("PATCH", "/api/v1/trunks/" + id, R"({"password":"n3w"})");
  EXPECT_EQ(db::SqliteTrunkRepository(db).findById(std::stoll(id))->password, "n3w");
  send("PATCH", "/api/v1/trunks/" + id, R"({"host":null})");
  EXPECT_EQ(error(), "400 invalid_field host");
  EXPECT_EQ(live.trunkChanges, 3);
}

TEST_F(TrunkApi, MissingDuplicateAndWrongMethod) {
  EXPECT_EQ(send("GET", "/api/v1/trunks/99").status, 404);
  EXPECT_EQ(send("GET", "/api/v1/trunks/abc").status, 404);
  EXPECT_EQ(send("PATCH", "/api/v1/trunks/99", "{}").status, 404);
  EXPECT_EQ(send("DELETE", "/api/v1/trunks/99").status, 404);
  createTrunk();
  send("POST", "/api/v1/trunks", kTrunk);
  EXPECT_EQ(error(), "409 conflict name");
  send("PUT", "/api/v1/trunks/1", kTrunk);
  EXPECT_EQ(last.status, 405);
  EXPECT_THAT(last.headers, ::testing::Contains(std::pair<std::string, std::string>(
                                "Allow", "GET, PATCH, DELETE")));
}

TEST_F(TrunkApi, RoutesValidatePatternsAndTrunks) {
  const std::string a = createTrunk();
  const std::string b =
      createTrunk(R"({"name":"backup","host":"198.51.100.21","username":"u","password":"p"})");
  auto r = json("POST", "/api/v1/outbound-routes",
                R"({"name":"national","pattern":"0Z.","trunks":[)" + b + "," + a +
                    R"(],"strip":1,"prefix":"+49","caller_id":"+4930123"})");
  ASSERT_EQ(last.status, 201) << last.body;
  EXPECT_EQ(r->getValue<int>("position"), 10);
  EXPECT_EQ(r->getArray("trunks")->getElement<std::int64_t>(0), std::stoll(b));
  auto second = json("POST", "/api/v1/outbound-routes",
                     R"({"name":"intl","pattern":"/^00[1-9][0-9]+$","trunks":[)" + a + "]}");
  ASSERT_EQ(last.status, 201) << last.body;
  EXPECT_EQ(second->getValue<int>("position"), 20);  // after the last one

  const std::pair<std::string, std::string> bad[] = {
      {R"("pattern":"_0X.")", "pattern"},   {R"("pattern":"0x.")", "pattern"},
      {R"("pattern":"0.X")", "pattern"},    {R"("pattern":"0[]")", "pattern"},
      {R"("pattern":"0[5-1]")", "pattern"}, {R"("pattern":"/(unclosed")", "pattern"},
      {R"("pattern":"0A")", "pattern"},     {R"("trunks":[])", "trunks"},
      {R"("trunks":[999])", "trunks[0]"},   {R"("trunks":[1,1])", "trunks[1]"},
      {R"("trunks":["1"])", "trunks[0]"},   {R"("strip":21)", "strip"},
      {R"("prefix":"9a")", "prefix"},       {R"("caller_id":"x")", "caller_id"},
  };
  for (const auto& [member, field] : bad) {
    send("POST", "/api/v1/outbound-routes",
         R"({"name":"r","pattern":"9X.","trunks":[1],)" + member + "}");
    EXPECT_EQ(last.status, 400) << member;
    EXPECT_EQ(parse(last)->getValue<std::string>("field"), field) << member << " " << last.body;
  }
  send("POST", "/api/v1/outbound-routes", R"({"name":"national","pattern":"9","trunks":[1]})");
  EXPECT_EQ(error(), "409 conflict name");
  send("POST", "/api/v1/outbound-routes", R"({"name":"x","trunks":[1]})");
  EXPECT_EQ(error(), "400 missing_field pattern");

  const std::string rid = std::to_string(r->getValue<std::int64_t>("id"));
  auto patched = json("PATCH", "/api/v1/outbound-routes/" + rid, R"({"position":30})");
  EXPECT_EQ(patched->getValue<int>("position"), 30);
  EXPECT_EQ(patched->getValue<std::string>("prefix"), "+49");
  auto list = json("GET", "/api/v1/outbound-routes")->getArray("outbound_routes");
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->getObject(0)->getValue<std::string>("name"), "intl");

  // The trunk a route uses cannot go; the error names the route.
  send("DELETE", "/api/v1/trunks/" + b);
  EXPECT_EQ(error(), "409 conflict -");
  EXPECT_THAT(detail(), HasSubstr("outbound route national"));
  EXPECT_EQ(send("DELETE", "/api/v1/outbound-routes/" + rid).status, 204);
  EXPECT_EQ(send("DELETE", "/api/v1/trunks/" + b).status, 204);
  EXPECT_EQ(send("GET", "/api/v1/outbound-routes/" + rid).status, 404);
}

TEST_F(TrunkApi, InboundNumbersNeedAnExtensionAndAreUnique) {
  db::ExtensionRecord e;
  e.number = "101";
  e.ha1Md5 = e.ha1Sha256 = e.realm = "x";
  db::SqliteExtensionRepository(db).insert(e);
  const std::string a = createTrunk();
  auto n = json("POST", "/api/v1/inbound-numbers",
                R"({"number":"+4930123456","extension":"101","trunk":)" + a + "}");
  ASSERT_EQ(last.status, 201) << last.body;
  EXPECT_EQ(n->getValue<std::string>("extension"), "101");
  EXPECT_EQ(n->getValue<std::int64_t>("trunk"), std::stoll(a));
  send("POST", "/api/v1/inbound-numbers", R"({"number":"+4930123456","extension":"101"})");
  EXPECT_EQ(error(), "409 conflict number");
  send("POST", "/api/v1/inbound-numbers", R"({"number":"4930","extension":"555"})");
  EXPECT_EQ(error(), "400 invalid_field extension");
  send("POST", "/api/v1/inbound-numbers", R"({"number":"49-30","extension":"101"})");
  EXPECT_EQ(error(), "400 invalid_field number");
  send("POST", "/api/v1/inbound-numbers", R"({"number":"4930","extension":"101","trunk":77})");
  EXPECT_EQ(error(), "400 invalid_field trunk");
  send("POST", "/api/v1/inbound-numbers", R"({"number":"4930"})");
  EXPECT_EQ(error(), "400 missing_field extension");

  const std::string id = std::to_string(n->getValue<std::int64_t>("id"));
  auto patched = json("PATCH", "/api/v1/inbound-numbers/" + id, R"({"trunk":null})");
  EXPECT_TRUE(patched->isNull("trunk"));
  EXPECT_EQ(patched->getValue<std::string>("number"), "+4930123456");
  json("PATCH", "/api/v1/inbound-numbers/" + id, R"({"trunk":)" + a + "}");
  send("DELETE", "/api/v1/trunks/" + a);
  EXPECT_EQ(error(), "409 conflict -");
  EXPECT_THAT(detail(), HasSubstr("inbound number +4930123456"));
  EXPECT_EQ(send("DELETE", "/api/v1/inbound-numbers/" + id).status, 204);
  EXPECT_EQ(json("GET", "/api/v1/inbound-numbers")->getArray("inbound_numbers")->size(), 0u);
}

TEST_F(TrunkApi, DialingSettingsAreValidatedStoredAndLive) {
  auto r = json("PATCH", "/api/v1/settings",
                R"({"dialing.international_prefixes":["011","+"],"dialing.allow_premium":true,)"
                R"("dialing.national_prefix":"1","dialing.inbound_default":"101"})");
  ASSERT_EQ(last.status, 200) << last.body;
  auto values = r->getObject("settings");
  EXPECT_EQ(values->getArray("dialing.international_prefixes")->size(), 2u);
  EXPECT_TRUE(values->getValue<bool>("dialing.allow_premium"));
  EXPECT_EQ(r->getArray("applied_live")->size(), 4u);
  EXPECT_EQ(db::SqliteSettingsRepository(db).get("dialing.international_prefixes")->value, "011,+");
  send("PATCH", "/api/v1/settings", R"({"dialing.premium_prefixes":["09x0"]})");
  EXPECT_EQ(error(), "400 invalid_field dialing.premium_prefixes");
  send("PATCH", "/api/v1/settings", R"({"dialing.national_prefix":"0a"})");
  EXPECT_EQ(error(), "400 invalid_field dialing.national_prefix");
  EXPECT_TRUE(
      json("GET", "/api/v1/settings")->getObject("settings")->has("dialing.premium_prefixes"));
}

}  // namespace
}  // namespace duplex::admin
