// The admin HTTP server over a real socket (port 0, loopback) with Poco's
// HTTP client, and its routing table without a socket.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <sstream>

#include "admin/admin_server.h"
#include "admin/api_routes.h"

namespace duplex::admin {
namespace {

using ::testing::HasSubstr;

struct Reply {
  int status = 0;
  std::string reason;
  std::string content_type;
  std::string body;
  Poco::JSON::Object::Ptr json() const {
    return Poco::JSON::Parser().parse(body).extract<Poco::JSON::Object::Ptr>();
  }
};

Reply request(std::uint16_t port, const std::string& method, const std::string& path,
              const std::string& body = "") {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  session.setTimeout(Poco::Timespan(5, 0));
  Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!body.empty()) req.setContentLength(static_cast<std::streamsize>(body.size()));
  session.sendRequest(req) << body;
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = response.getStatus();
  reply.reason = response.getReason();
  reply.content_type = response.getContentType();
  Poco::StreamCopier::copyToString(in, reply.body);
  return reply;
}

AdminServerOptions loopbackAnyPort() {
  AdminServerOptions options;
  options.bind = "127.0.0.1";
  options.port = 0;
  options.threads = 2;
  options.version = "9.8.7";
  return options;
}

TEST(AdminServer, HealthOnARealSocket) {
  AdminServer server(loopbackAnyPort());
  EXPECT_EQ(server.boundPort(), 0);
  server.start();
  ASSERT_TRUE(server.running());
  ASSERT_NE(server.boundPort(), 0);

  const Reply reply = request(server.boundPort(), "GET", "/api/v1/health");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.reason, "OK");
  EXPECT_EQ(reply.content_type, "application/json");
  EXPECT_EQ(reply.body, R"({"status":"ok","version":"9.8.7"})");
  server.stop();
  EXPECT_FALSE(server.running());
}

TEST(AdminServer, UnknownPathIs404Json) {
  AdminServer server(loopbackAnyPort());
  server.start();
  const Reply reply = request(server.boundPort(), "GET", "/api/v1/nothing?x=1");
  EXPECT_EQ(reply.status, 404);
  EXPECT_EQ(reply.reason, "Not Found");
  EXPECT_EQ(reply.content_type, "application/json");
  const auto json = reply.json();
  EXPECT_EQ(json->getValue<std::string>("error"), "not_found");
  EXPECT_EQ(json->getValue<std::string>("detail"), "no such resource: /api/v1/nothing");
}

TEST(AdminServer, WrongMethodIs405AndBodiesAreDrained) {
  AdminServer server(loopbackAnyPort());
  server.start();
  const Reply reply = request(server.boundPort(), "POST", "/api/v1/health", R"({"a":1})");
  EXPECT_EQ(reply.status, 405);
  EXPECT_EQ(reply.json()->getValue<std::string>("error"), "method_not_allowed");
}

TEST(AdminServer, KeepAliveServesSeveralRequests) {
  AdminServer server(loopbackAnyPort());
  server.start();
  Poco::Net::HTTPClientSession session("127.0.0.1", server.boundPort());
  session.setKeepAlive(true);
  for (int i = 0; i < 3; ++i) {
    Poco::Net::HTTPRequest req("GET", "/api/v1/health", Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(req);
    Poco::Net::HTTPResponse response;
    std::string body;
    Poco::StreamCopier::copyToString(session.receiveResponse(response), body);
    EXPECT_EQ(response.getStatus(), 200) << i;
  }
}

TEST(AdminServer, PortInUseIsANamedError) {
  Poco::Net::ServerSocket taken;
  taken.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, false);
  taken.listen();
  AdminServerOptions options = loopbackAnyPort();
  options.port = taken.address().port();
  AdminServer server(options);
  try {
    server.start();
    FAIL() << "started on a taken port";
  } catch (const AdminError& e) {
    EXPECT_EQ(e.kind(), AdminError::Kind::kAddressInUse);
    EXPECT_EQ(std::string(e.what()), "cannot listen on 127.0.0.1:" + std::to_string(options.port) +
                                         ": the port is already in use");
  }
  EXPECT_FALSE(server.running());
}

TEST(AdminServer, AddressNotOnThisMachine) {
  AdminServerOptions options = loopbackAnyPort();
  options.bind = "192.0.2.1";  // TEST-NET-1, never local
  AdminServer server(options);
  try {
    server.start();
    FAIL() << "bound a foreign address";
  } catch (const AdminError& e) {
    EXPECT_EQ(e.kind(), AdminError::Kind::kAddressNotAvailable);
    EXPECT_THAT(e.what(), HasSubstr("192.0.2.1:0"));
  }
}

TEST(AdminServer, StopIsIdempotentAndRestartable) {
  AdminServer server(loopbackAnyPort());
  server.stop();
  server.start();
  server.stop();
  server.stop();
  server.start();
  EXPECT_EQ(request(server.boundPort(), "GET", "/api/v1/health").status, 200);
}

}  // namespace
}  // namespace duplex::admin
