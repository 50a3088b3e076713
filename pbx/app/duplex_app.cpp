#include "pbx/app/duplex_app.h"

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Message.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "pbx/app/admin_wiring.h"
#include "pbx/app/exit_codes.h"
#include "pbx/app/logging.h"
#include "pbx/app/media_subsystem.h"
#include "pbx/app/nat_subsystem.h"
#include "pbx/app/sip_subsystem.h"
#include "pbx/app/startup_error.h"
#include "pbx/app/subsystems.h"

namespace duplex::app {
namespace {

sigset_t daemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  // SIGHUP too: the terminal of a foreground PBX closing stops it cleanly.
  for (int sig : {SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR2}) sigaddset(&set, sig);
  return set;
}

std::string_view signalName(int sig) {
  switch (sig) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "signal";
  }
}

// Poco's logging (the Application logger) into spdlog.
class SpdlogChannel : public Poco::Channel {
 public:
  explicit SpdlogChannel(std::shared_ptr<spdlog::logger> log) : log_(std::move(log)) {}
  void log(const Poco::Message& message) override {
    auto level = spdlog::level::info;
    if (message.getPriority() <= Poco::Message::PRIO_ERROR) {
      level = spdlog::level::err;
    } else if (message.getPriority() == Poco::Message::PRIO_WARNING) {
      level = spdlog::level::warn;
    } else if (message.getPriority() >= Poco::Message::PRIO_DEBUG) {
      level = spdlog::level::debug;
    }
    log_->log(level, "{}", message.getText());
  }

 private:
  std::shared_ptr<spdlog::logger> log_;
};

double millisSince(std::chrono::steady_clock::time_point began) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began)
      .count();
}

void createDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw StartupError("data.dir: cannot create '" + dir + "': " + ec.message(), kExitCantCreate);
  }
  if (!std::filesystem::is_directory(dir, ec)) {
    throw StartupError("data.dir: '" + dir + "' is not a directory", kExitCantCreate);
  }
}

}  // namespace

DuplexApp::DuplexApp(const Config& config, Logging& logging,
                     std::chrono::steady_clock::time_point began)
    : config_(config), logging_(logging), began_(began) {
  auto* db = new DatabaseSubsystem(config_.db_path);
  auto* nat = makeNatSubsystem(config_);
  auto* media = makeMediaSubsystem(config_);
  auto* registrar = makeRegistrarSubsystem();
  sip_ = new SipSubsystem(config_.sip, logging_);
  admin_ = new AdminSubsystem(config_.admin, config_.data_dir, config_.sip.registrar.realm);
  for (ComponentSubsystem* c :
       std::initializer_list<ComponentSubsystem*>{db, nat, media, registrar, sip_, admin_}) {
    addSubsystem(c);  // Poco takes ownership
    components_.push_back(c);
  }
}

DuplexApp::~DuplexApp() = default;

void DuplexApp::initialize(Poco::Util::Application& self) {
  // Poco's own messages (few) go to the "app" logger in our format.
  const Poco::AutoPtr<SpdlogChannel> channel(new SpdlogChannel(logging_.logger("app")));
  logger().setChannel(channel);
  try {
    ServerApplication::initialize(self);
    return;
  } catch (const StartupError& e) {
    startup_error_ = e;
  } catch (const std::exception& e) {
    startup_error_ = StartupError(e.what(), kExitSoftware);
  }
  for (auto it = components_.rbegin(); it != components_.rend(); ++it) (*it)->uninitialize();
}

void DuplexApp::uninitialize() {
  if (!startup_error_) logging_.logger("app")->info("stopping");
  ServerApplication::uninitialize();  // subsystems in reverse order
}

int DuplexApp::main(const ArgVec&) {
  if (startup_error_) return startup_error_->exitCode();
  auto log = logging_.logger("app");
  log->info("{}",
            listeningLine(sip_->listeningPoints(), admin_->bindAddress(), admin_->boundPort()));
  log->info("started in {:.1f} ms (pid {}); SIGUSR2 toggles SIP message tracing",
            millisSince(began_), ::getpid());
  return waitForStopSignal();
}

int DuplexApp::waitForStopSignal() {
  auto log = logging_.logger("app");
  const sigset_t set = daemonSignals();
  while (true) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGUSR2) {
      log->info("SIP message tracing {} (SIGUSR2)", logging_.toggleSipTrace() ? "on" : "off");
      continue;
    }
    if (sip_->failed()) {
      log->error("the SIP loop failed; stopping");
      return kExitSoftware;
    }
    log->info("{} received", signalName(sig));
    return kExitOk;
  }
}

std::string listeningLine(const std::vector<ListeningPoint>& sip, const std::string& admin_bind,
                          std::uint16_t admin_port) {
  std::string line = "listening: ";
  for (const auto& point : sip) {
    line += "SIP " + std::string(sip::transportName(point.transport)) + " " +
            point.local.toString() + ", ";
  }
  const bool v6 = admin_bind.find(':') != std::string::npos;
  line += "admin http://" + (v6 ? "[" + admin_bind + "]" : admin_bind) + ":" +
          std::to_string(admin_port);
  return line;
}

void blockDaemonSignals() {
  const sigset_t set = daemonSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

namespace {

// Settings stored through the admin API override the config file; the
// command line still wins. A stored value the config rejects (or a database
// that cannot be read) is reported and the start goes on without them.
Config withStoredSettings(Config config, const RawValues& commandLine) {
  try {
    RawValues merged = storedSettings(config.db_path);
    if (merged.empty()) return config;
    for (const auto& [key, value] : commandLine) merged[key] = value;
    return resolveConfig(merged);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "duplex: ignoring the settings stored in the database: %s\n", e.what());
    return config;
  }
}

}  // namespace

int runDaemon(int argc, char** argv) {
  const auto began = std::chrono::steady_clock::now();
  Config config;
  try {
    const std::vector<std::string> args(argv + 1, argv + argc);
    const CommandLine command_line = parseCommandLine(args);
    switch (command_line.action) {
      case CommandLine::Action::kHelp:
        std::fputs(helpText().c_str(), stdout);
        return kExitOk;
      case CommandLine::Action::kVersion:
        std::printf("%.*s\n", static_cast<int>(productName().size()), productName().data());
        return kExitOk;
      case CommandLine::Action::kPrintConfigDoc:
        std::fputs(configDocMarkdown().c_str(), stdout);
        return kExitOk;
      case CommandLine::Action::kRun:
        break;
    }
    config = resolveConfig(command_line.overrides);
    config = withStoredSettings(std::move(config), command_line.overrides);
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "duplex: %s\n", e.what());
    return kExitConfig;
  }

  // Before any thread exists (spdlog's flusher, the SIP loop, the admin pool):
  // every thread inherits the mask, so only sigwait() in main() sees them.
  blockDaemonSignals();
  ::signal(SIGPIPE, SIG_IGN);  // a peer closing a TCP connection must not kill us

  std::unique_ptr<Logging> logging;
  try {
    createDataDir(config.data_dir);
    logging = std::make_unique<Logging>(config.log, config.sip.trace);
  } catch (const StartupError& e) {
    std::fprintf(stderr, "duplex: cannot start: %s\n", e.what());
    return e.exitCode();
  } catch (const LoggingError& e) {
    std::fprintf(stderr, "duplex: cannot start: %s\n", e.what());
    return kExitCantCreate;
  }
  auto log = logging->logger("app");
  log->info("{} starting (pid {}, config {})", productName(), ::getpid(),
            config.config_file.empty() ? "defaults and command line" : config.config_file);
  for (const auto& key : config.resolved) {
    // Passwords never reach the log (the admin API promises they are never shown).
    const bool secret = key.key.ends_with("password") && !key.value.empty();
    log->debug("config {} = '{}' ({})", key.key, secret ? "(hidden)" : key.value, key.origin);
  }

  int exit_code = kExitOk;
  std::optional<StartupError> failure;
  try {
    DuplexApp app(config, *logging, began);
    char* poco_argv[] = {argv[0], nullptr};  // every option was ours
    exit_code = app.run(1, poco_argv);
    if (app.startupError()) failure = *app.startupError();
  } catch (const std::exception& e) {
    failure = StartupError(e.what(), kExitSoftware);
  }
  if (failure) {
    logging->logToFileOnly(spdlog::level::critical,
                           std::string("cannot start: ") + failure->what());
    logging->flush();
    std::fprintf(stderr, "duplex: cannot start: %s\n", failure->what());
    return failure->exitCode();
  }
  log->info("stopped");
  logging->flush();
  return exit_code;
}

}  // namespace duplex::app
