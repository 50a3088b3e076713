// The admin HTTP server: the REST API (/api/v1/...) on a Poco HTTPServer with
// a small thread pool of its own. For now it serves GET /api/v1/health; every
// other path answers 404 with a JSON error (the full API arrives with the
// admin issue).
//
// For: the daemon (pbx/app), which starts it after the SIP stack and stops it
// first. Thread: start() and stop() from one thread (the main thread);
// requests run on the pool's threads. Errors: start() throws AdminError.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace duplex::admin {

class AdminError : public std::runtime_error {
 public:
  enum class Kind {
    kAddressInUse,         // the port is taken (EADDRINUSE)
    kAddressNotAvailable,  // the bind address is not one of this machine's (EADDRNOTAVAIL)
    kPermissionDenied,     // a port below 1024 without the right to bind it (EACCES)
    kOther,
  };
  AdminError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  Kind kind() const { return kind_; }

 private:
  Kind kind_;
};

struct AdminServerOptions {
  std::string bind = "127.0.0.1";  // IP literal
  std::uint16_t port = 8080;       // 0 = any free port
  int threads = 2;                 // worker threads (1-16)
  std::string version;             // reported by GET /api/v1/health
};

class AdminServer {
 public:
  explicit AdminServer(AdminServerOptions options);
  ~AdminServer();  // stop()
  AdminServer(const AdminServer&) = delete;
  AdminServer& operator=(const AdminServer&) = delete;

  // Binds bind:port and starts accepting. Throws AdminError whose message
  // names the address and port ("cannot listen on 127.0.0.1:8080: the port is
  // already in use").
  void start();
  // Stops accepting, aborts open connections and joins the workers. Idempotent.
  void stop();

  bool running() const;
  // The port actually bound (the real one when options.port was 0); 0 before start().
  std::uint16_t boundPort() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace duplex::admin
