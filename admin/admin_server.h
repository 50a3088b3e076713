// The admin HTTP(S) server: the REST API under /api/v1 (admin/api_routes.h)
// and the web page at / (admin/web/, built into the binary), on a Poco
// HTTPServer with a small thread pool of its own. Each worker thread opens
// its own connection to the database (db/db.h) on first use.
//
// For: the daemon (pbx/app), which starts it after the SIP stack and stops it
// first. Thread: start() and stop() from one thread (the main thread);
// requests run on the pool's threads; LiveChanges and the status views are
// called there. Errors: start() throws AdminError (bind failures; kTls for a
// certificate or key that cannot be loaded). A request never throws out of
// its handler: failures become JSON errors (500 logged).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "admin/live_changes.h"
#include "admin/status_sources.h"

namespace duplex::admin {

class AdminError : public std::runtime_error {
 public:
  enum class Kind {
    kAddressInUse,         // the port is taken (EADDRINUSE)
    kAddressNotAvailable,  // the bind address is not one of this machine's (EADDRNOTAVAIL)
    kPermissionDenied,     // a port below 1024 without the right to bind it (EACCES)
    kTls,                  // the certificate or key cannot be loaded
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
  std::string version;             // reported by GET /api/v1/health and /status
  std::string dbPath;              // "" = an empty private database per worker (tests)
  std::string realm = "duplex";    // digest realm for the HA1 of new SIP passwords
  int passwordIterations = 0;      // PBKDF2 iterations for a new admin password; 0 = default
  std::int64_t sessionLifetime = 12 * 3600;  // seconds
  bool https = false;                        // serve TLS with certFile/keyFile (PEM)
  std::string certFile;
  std::string keyFile;
  LiveChanges* live = nullptr;  // must outlive the server; nullptr = apply at restart
  StatusSources status;         // views must outlive the server
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
