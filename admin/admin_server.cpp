#include "admin/admin_server.h"

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "admin/api_routes.h"
#include "admin/assets.h"
#include "admin/auth.h"
#include "db/database.h"

namespace duplex::admin {
namespace {

std::shared_ptr<spdlog::logger> adminLogger() {
  auto logger = spdlog::get("admin");
  return logger ? logger : spdlog::default_logger();
}

std::string endpointText(const std::string& bind, std::uint16_t port) {
  const bool v6 = bind.find(':') != std::string::npos;
  return (v6 ? "[" + bind + "]" : bind) + ":" + std::to_string(port);
}

std::int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One database connection per worker thread (db/db.h), opened on first use
// and closed with the server, after the workers have been joined.
class ThreadDatabases {
 public:
  explicit ThreadDatabases(std::string path) : path_(std::move(path)) {}
  db::Database& get() {
    std::lock_guard lock(mutex_);
    auto& slot = byThread_[std::this_thread::get_id()];
    if (!slot) slot = std::make_unique<db::Database>(path_);
    return *slot;
  }

 private:
  std::string path_;
  std::mutex mutex_;
  std::map<std::thread::id, std::unique_ptr<db::Database>> byThread_;
};

struct Shared {
  ApiServices services;
  std::unique_ptr<AdminAuth> auth;
  std::unique_ptr<ThreadDatabases> databases;
  std::mutex restartMutex;
  std::set<std::string> restartRequired;
  std::shared_ptr<spdlog::logger> log;
};

void send(Poco::Net::HTTPServerResponse& response, const ApiResponse& result, bool api) {
  response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(result.status));
  std::string type = result.contentType;
  if (type.rfind("text/", 0) == 0 && type.find("charset") == std::string::npos) {
    type += "; charset=utf-8";
  }
  response.setContentType(type);
  response.set("X-Content-Type-Options", "nosniff");
  response.set("Referrer-Policy", "no-referrer");
  response.set("X-Frame-Options", "DENY");
  if (api) {
    response.set("Cache-Control", "no-store");
  } else {
    response.set("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  }
  for (const auto& [name, value] : result.headers) response.set(name, value);
  if (result.status == 204 || result.status == 304) {
    response.setContentLength(0);
    response.send();
    return;
  }
  response.setContentLength64(static_cast<Poco::Int64>(result.body.size()));
  response.send() << result.body;
}

ApiResponse staticFile(const std::string& method, const std::string& path) {
  std::string name = path.substr(0, path.find('?'));
  if (name == "/" || name == "/index.html") name = "/index.html";
  const Asset* asset = name == "/openapi.json" ? nullptr : findAsset(name.substr(1));
  if (!asset) {
    return {404, errorBody("not_found", "", "no such resource: " + name), "application/json", {}};
  }
  if (method != "GET" && method != "HEAD") {
    return {405,
            errorBody("method_not_allowed", "",
                      method + " is not allowed on " + name + " (allowed: GET, HEAD)"),
            "application/json",
            {{"Allow", "GET, HEAD"}}};
  }
  return {200,
          method == "HEAD" ? std::string() : std::string(asset->body),
          std::string(asset->contentType),
          {}};
}

// Admin work yields the CPU to the SIP loop: each worker thread lowers its
// own priority (nice 10, Linux per-thread) before its first request, so a
// burst of API calls cannot delay SIP answers on a small machine.
void lowerThreadPriority() {
  thread_local bool lowered = false;
  if (lowered) return;
  lowered = true;
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 10);
}

class RequestHandler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit RequestHandler(Shared& shared) : shared_(shared) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    lowerThreadPriority();
    ApiResponse result;
    const std::string& uri = request.getURI();
    const bool api = uri.rfind("/api/", 0) == 0;
    try {
      if (!api) {
        drain(request, response);
        result = staticFile(request.getMethod(), uri);
      } else {
        ApiRequest in;
        in.method = request.getMethod();
        in.target = uri;
        in.contentType = request.get("Content-Type", "");
        in.authorization = request.get("Authorization", "");
        in.clientAddress = request.clientAddress().host().toString();
        if (!readBody(request, response, in.body)) {
          result = {
              413,
              errorBody("too_large", "",
                        "the body is larger than " + std::to_string(kMaxRequestBody) + " bytes"),
              "application/json",
              {}};
        } else {
          result = routeRequest(shared_.services, shared_.databases->get(), in);
        }
      }
    } catch (const std::exception& e) {
      shared_.log->error("{} {}: {}", request.getMethod(), uri, e.what());
      result = {500,
                errorBody("internal", "", "the server failed to handle the request"),
                "application/json",
                {}};
    }
    send(response, result, api);
    shared_.log->debug("{} {} -> {} ({})", request.getMethod(), uri, result.status,
                       request.clientAddress().toString());
  }

 private:
  // Reads the body up to the limit. False (and the connection is closed
  // afterwards) when it is larger.
  static bool readBody(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response, std::string& body) {
    const std::string& method = request.getMethod();
    const bool bodyless = method == "GET" || method == "HEAD" || method == "DELETE";
    if (request.hasContentLength()) {
      const auto length = request.getContentLength64();
      if (length > static_cast<Poco::Int64>(kMaxRequestBody)) {
        response.setKeepAlive(false);
        return false;
      }
      body.resize(static_cast<std::size_t>(length));
      request.stream().read(body.data(), length);
      body.resize(static_cast<std::size_t>(request.stream().gcount()));
      return true;
    }
    if (request.getChunkedTransferEncoding()) {
      char buffer[8192];
      while (request.stream()) {
        request.stream().read(buffer, sizeof buffer);
        body.append(buffer, static_cast<std::size_t>(request.stream().gcount()));
        if (body.size() > kMaxRequestBody) {
          response.setKeepAlive(false);
          return false;
        }
      }
      return true;
    }
    // No length and not chunked: Poco would read to the connection's end.
    if (!bodyless) response.setKeepAlive(false);
    return true;
  }

  static void drain(Poco::Net::HTTPServerRequest& request,
                    Poco::Net::HTTPServerResponse& response) {
    std::string ignored;
    readBody(request, response, ignored);
  }

  Shared& shared_;
};

class HandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(Shared& shared) : shared_(shared) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new RequestHandler(shared_);
  }

 private:
  Shared& shared_;
};

AdminError bindError(const std::string& where, int code, const std::string& text) {
  switch (code) {
    case EADDRINUSE:
      return {AdminError::Kind::kAddressInUse,
              "cannot listen on " + where + ": the port is already in use"};
    case EADDRNOTAVAIL:
      return {AdminError::Kind::kAddressNotAvailable,
              "cannot listen on " + where + ": the address is not one of this machine's"};
    case EACCES:
      return {AdminError::Kind::kPermissionDenied,
              "cannot listen on " + where +
                  ": permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)"};
    default:
      return {AdminError::Kind::kOther, "cannot listen on " + where + ": " + text};
  }
}

}  // namespace

struct AdminServer::Impl {
  AdminServerOptions options;
  Shared shared;
  std::unique_ptr<Poco::ThreadPool> pool;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  std::uint16_t port = 0;
};

AdminServer::AdminServer(AdminServerOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
}

AdminServer::~AdminServer() {
  stop();
}

void AdminServer::start() {
  if (impl_->server) return;
  const auto& options = impl_->options;
  const std::string where = endpointText(options.bind, options.port);

  Shared& shared = impl_->shared;
  shared.log = adminLogger();
  shared.auth = std::make_unique<AdminAuth>(AuthOptions{
      .sessionLifetime = options.sessionLifetime,
      .passwordIterations = options.passwordIterations,
      .throttle = {},
  });
  // Without a file (tests of the server alone) each worker gets a private
  // empty database: routing and errors work, logins do not.
  shared.databases =
      std::make_unique<ThreadDatabases>(options.dbPath.empty() ? ":memory:" : options.dbPath);
  shared.services.version = options.version;
  shared.services.realm = options.realm;
  shared.services.startedAt = unixNow();
  shared.services.clock = unixNow;
  shared.services.auth = shared.auth.get();
  shared.services.live = options.live;
  shared.services.status = options.status;
  shared.services.noteRestartRequired = [&shared](const std::vector<std::string>& keys) {
    std::lock_guard lock(shared.restartMutex);
    shared.restartRequired.insert(keys.begin(), keys.end());
  };
  shared.services.noteAppliedLive = [&shared](const std::vector<std::string>& keys) {
    std::lock_guard lock(shared.restartMutex);
    for (const auto& k : keys) shared.restartRequired.erase(k);
  };
  shared.services.restartRequired = [&shared] {
    std::lock_guard lock(shared.restartMutex);
    return std::vector<std::string>(shared.restartRequired.begin(), shared.restartRequired.end());
  };

  std::unique_ptr<Poco::Net::ServerSocket> socket;
  if (options.https) {
    try {
      Poco::Net::Context::Ptr context =
          new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, options.keyFile,
                                 options.certFile, "", Poco::Net::Context::VERIFY_NONE, 9, false,
                                 "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!DSS");
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      socket = std::make_unique<Poco::Net::SecureServerSocket>(context);
    } catch (const Poco::Exception& e) {
      throw AdminError(AdminError::Kind::kTls, "cannot use the certificate " + options.certFile +
                                                   " with key " + options.keyFile + ": " +
                                                   e.displayText());
    }
  } else {
    socket = std::make_unique<Poco::Net::ServerSocket>();
  }
  try {
    const Poco::Net::SocketAddress address(options.bind, options.port);
    // Not ServerSocket(address): it sets SO_REUSEPORT, which would let a second
    // daemon share the port silently instead of failing.
    socket->bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
    socket->listen(64);
  } catch (const Poco::Exception& e) {
    const int code = e.code() != 0 ? e.code() : errno;
    throw bindError(where, code, e.displayText());
  }
  impl_->port = socket->address().port();

  const int threads = options.threads < 1 ? 1 : options.threads;
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(threads);
  params->setMaxQueued(256);
  params->setTimeout(Poco::Timespan(10, 0));
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(5, 0));
  params->setMaxKeepAliveRequests(1000);
  params->setSoftwareVersion("Duplex PBX " + options.version);
  // Every worker up front and never retired: each holds its own database
  // connection (ThreadDatabases), which a retired thread would leave open.
  impl_->pool = std::make_unique<Poco::ThreadPool>("admin", threads, threads, 60);
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(shared), *impl_->pool,
                                                          *socket, params);
  impl_->server->start();
  adminLogger()->debug("admin {} listening on {} ({} threads)", options.https ? "HTTPS" : "HTTP",
                       endpointText(options.bind, impl_->port), threads);
}

void AdminServer::stop() {
  if (!impl_->server) return;
  impl_->server->stopAll(/*abortCurrent=*/true);
  impl_->pool->joinAll();
  impl_->server.reset();
  impl_->pool.reset();
  impl_->shared.databases.reset();
  adminLogger()->debug("admin HTTP stopped");
}

bool AdminServer::running() const {
  return impl_->server != nullptr;
}

std::uint16_t AdminServer::boundPort() const {
  return impl_->port;
}

}  // namespace duplex::admin
