// The base of DuplexApp's subsystems: one Poco::Util::Subsystem per component,
// initialized in registration order (db, nat, media, registrar, sip, admin)
// and uninitialized in reverse.
//
// initialize() starts the component and throws StartupError when it cannot.
// uninitialize() stops it, never throws, and does nothing when the component
// is not running, so DuplexApp can unwind a failed start-up by calling it on
// every subsystem. start() must clean up after itself when it throws.
//
// Thread: the main thread (Poco calls both from Application::run()).
#pragma once

#include <Poco/Util/Subsystem.h>
#include <spdlog/logger.h>

#include <memory>
#include <string>

namespace duplex::app {

class ComponentSubsystem : public Poco::Util::Subsystem {
 public:
  // `component` names the subsystem and its logger ("db", "sip", ...).
  explicit ComponentSubsystem(std::string component);

  const char* name() const override { return name_.c_str(); }
  void initialize(Poco::Util::Application& app) final;
  void uninitialize() final;
  bool running() const { return running_; }

 protected:
  virtual void start() = 0;
  virtual void stop() = 0;  // exceptions are logged and swallowed
  spdlog::logger& log() const { return *log_; }

 private:
  std::string name_;
  std::shared_ptr<spdlog::logger> log_;
  bool running_ = false;
};

}  // namespace duplex::app
