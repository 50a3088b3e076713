// A start-up failure of the daemon: one line for stderr and the exit code
// (exit_codes.h). Thrown by the subsystems' initialize() and the steps before
// them; caught once, in runDaemon(). Main thread.
#pragma once

#include <stdexcept>
#include <string>

namespace duplex::app {

class StartupError : public std::runtime_error {
 public:
  StartupError(const std::string& message, int exit_code)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exitCode() const { return exit_code_; }

 private:
  int exit_code_;
};

}  // namespace duplex::app
