// The daemon `duplex`: a Poco::Util::ServerApplication with one subsystem per
// component, initialized in this order and uninitialized in reverse:
//   db -> nat -> media -> registrar -> sip -> admin
// (after Poco's own LoggingSubsystem, which we leave unconfigured: logging is
// spdlog, set up before the application exists; see logging.h).
//
// Start-up: runDaemon() parses the command line, resolves the Config, blocks
// the stop signals (before any thread exists, so every thread inherits the
// mask), creates data.dir, sets up logging, then runs DuplexApp. A subsystem
// that cannot start throws StartupError: the ones already running are
// stopped in reverse order, one line goes to stderr ("duplex: cannot start:
// sip.port: cannot listen on UDP 0.0.0.0:5060: Address already in use"), and
// the exit code says what kind of failure it was (exit_codes.h).
//
// Running: the main thread logs "listening: SIP UDP 0.0.0.0:5060, SIP TCP
// 0.0.0.0:5060, admin http://127.0.0.1:8080" (real ports; tests parse it) and
// waits in sigwait(): SIGINT, SIGTERM or SIGQUIT stop the daemon (subsystems
// in reverse order, then "stopped"); SIGUSR2 toggles SIP message tracing.
//
// Thread: the main thread.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pbx/app/config.h"
#include "pbx/app/sip_stack.h"
#include "pbx/app/startup_error.h"

namespace duplex::app {

class Logging;
class ComponentSubsystem;
class DatabaseSubsystem;
class SipSubsystem;
class AdminSubsystem;

class DuplexApp final : public Poco::Util::ServerApplication {
 public:
  // `config` and `logging` must outlive the application. `began` is when the
  // process started work, for the start-up time in the log.
  DuplexApp(const Config& config, Logging& logging, std::chrono::steady_clock::time_point began);
  ~DuplexApp() override;

  // After run(): why start-up failed, or null. (Poco's Application::run()
  // catches what initialize() throws, so the failure is kept here instead.)
  const StartupError* startupError() const { return startup_error_ ? &*startup_error_ : nullptr; }

 protected:
  // Initializes the subsystems; on a failure, stops those already running and
  // records the StartupError (main() then returns its exit code at once).
  void initialize(Poco::Util::Application& self) override;
  void uninitialize() override;
  // Logs the listening line, waits for a stop signal; returns the exit code.
  int main(const ArgVec& args) override;

 private:
  int waitForStopSignal();

  const Config& config_;
  Logging& logging_;
  std::chrono::steady_clock::time_point began_;
  std::vector<ComponentSubsystem*> components_;  // registration order; Poco owns them
  SipSubsystem* sip_ = nullptr;
  AdminSubsystem* admin_ = nullptr;
  std::optional<StartupError> startup_error_;
};

// "listening: SIP UDP 0.0.0.0:5060, SIP TCP 0.0.0.0:5060, admin http://127.0.0.1:8080"
std::string listeningLine(const std::vector<ListeningPoint>& sip, const std::string& admin_bind,
                          std::uint16_t admin_port);

// Blocks SIGINT, SIGTERM, SIGQUIT and SIGUSR2 in the calling thread (and so in
// every thread it creates later); DuplexApp::main() takes them with sigwait().
void blockDaemonSignals();

// The whole daemon, for main(): returns the process exit code.
int runDaemon(int argc, char** argv);

}  // namespace duplex::app
