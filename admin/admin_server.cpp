#include "admin/admin_server.h"

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/ThreadPool.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "admin/api_routes.h"

namespace duplex::admin {
namespace {

// Request bodies are not used yet; read at most this much so keep-alive stays in sync.
constexpr std::streamsize kMaxDrainedBody = 1 << 20;

std::shared_ptr<spdlog::logger> adminLogger() {
  auto logger = spdlog::get("admin");
  return logger ? logger : spdlog::default_logger();
}

std::string endpointText(const std::string& bind, std::uint16_t port) {
  const bool v6 = bind.find(':') != std::string::npos;
  return (v6 ? "[" + bind + "]" : bind) + ":" + std::to_string(port);
}

class ApiHandler : public Poco::Net::HTTPRequestHandler {
 public:
  ApiHandler(const ApiContext& context, std::shared_ptr<spdlog::logger> log)
      : context_(context), log_(std::move(log)) {}

  void handleRequest(Poco::Net::HTTPServerRequest& request,
                     Poco::Net::HTTPServerResponse& response) override {
    ApiResponse result;
    try {
      // Bodies are not used yet: drain small ones so keep-alive stays in sync;
      // after anything else, close the connection rather than read on.
      // (Poco reads a body without length up to the connection's end: a POST
      // without Content-Length, so that one must not be read.)
      const std::string& method = request.getMethod();
      const bool bodyless_method = method == "GET" || method == "HEAD" || method == "DELETE";
      if (request.hasContentLength() && request.getContentLength64() <= kMaxDrainedBody) {
        request.stream().ignore(kMaxDrainedBody);
      } else if (request.hasContentLength() || request.getChunkedTransferEncoding() ||
                 !bodyless_method) {
        response.setKeepAlive(false);
      }
      result = routeRequest(context_, request.getMethod(), request.getURI());
    } catch (const std::exception& e) {
      log_->error("{} {}: {}", request.getMethod(), request.getURI(), e.what());
      result = {500, errorBody("internal", "the server failed to handle the request"), {}};
    }
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(result.status));
    response.setContentType("application/json");
    response.setContentLength64(static_cast<Poco::Int64>(result.body.size()));
    for (const auto& [name, value] : result.headers) response.set(name, value);
    response.send() << result.body;
    log_->debug("{} {} -> {} ({})", request.getMethod(), request.getURI(), result.status,
                request.clientAddress().toString());
  }

 private:
  const ApiContext& context_;
  std::shared_ptr<spdlog::logger> log_;
};

class ApiHandlerFactory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit ApiHandlerFactory(ApiContext context)
      : context_(std::move(context)), log_(adminLogger()) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new ApiHandler(context_, log_);
  }

 private:
  ApiContext context_;
  std::shared_ptr<spdlog::logger> log_;
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
  Poco::Net::ServerSocket socket;
  try {
    const Poco::Net::SocketAddress address(options.bind, options.port);
    // Not ServerSocket(address): it sets SO_REUSEPORT, which would let a second
    // daemon share the port silently instead of failing.
    socket.bind(address, /*reuseAddress=*/true, /*reusePort=*/false);
    socket.listen(64);
  } catch (const Poco::Exception& e) {
    const int code = e.code() != 0 ? e.code() : errno;
    throw bindError(where, code, e.displayText());
  }
  impl_->port = socket.address().port();

  const int threads = options.threads < 1 ? 1 : options.threads;
  auto* params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(threads);
  params->setMaxQueued(64);
  params->setTimeout(Poco::Timespan(10, 0));
  params->setKeepAlive(true);
  params->setKeepAliveTimeout(Poco::Timespan(5, 0));
  params->setSoftwareVersion("Duplex PBX " + options.version);
  // One thread up front keeps the first request fast; the rest start on demand.
  impl_->pool = std::make_unique<Poco::ThreadPool>("admin", 1, threads, 60);
  impl_->server = std::make_unique<Poco::Net::HTTPServer>(
      new ApiHandlerFactory(ApiContext{options.version}), *impl_->pool, socket, params);
  impl_->server->start();
  adminLogger()->debug("admin HTTP listening on {} ({} threads)",
                       endpointText(options.bind, impl_->port), threads);
}

void AdminServer::stop() {
  if (!impl_->server) return;
  impl_->server->stopAll(/*abortCurrent=*/true);
  impl_->pool->joinAll();
  impl_->server.reset();
  impl_->pool.reset();
  adminLogger()->debug("admin HTTP stopped");
}

bool AdminServer::running() const {
  return impl_->server != nullptr;
}

std::uint16_t AdminServer::boundPort() const {
  return impl_->port;
}

}  // namespace duplex::admin
