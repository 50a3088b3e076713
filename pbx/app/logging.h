// The daemon's logging: spdlog with a console sink (stderr, coloured when it
// is a terminal) and a size-rotated file sink, one named logger per component
// (kLogComponents: "sip", "db", "admin", "registrar", "media", "nat", "app")
// with its own level, and the "sip.trace" logger for full SIP messages.
//
// Components do not include this header (layering): they fetch their logger
// once with spdlog::get("<component>") and keep the shared_ptr; when it is
// null (a unit test without Logging) they fall back to spdlog::default_logger().
//
// SIP tracing: the SIP layer logs whole messages at info on "sip.trace" when
// sipTraceEnabled(); the flag is an atomic (a relaxed load on the SIP loop)
// and the "sip.trace" logger's level follows it (info when on, off when off),
// so `trace->should_log(spdlog::level::info)` is an equivalent check.
//
// Thread: construct and destroy on the main thread; setSipTrace() and the
// loggers may be used from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>

#include "pbx/app/config.h"

namespace duplex::app {

class LoggingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::string_view kSipTraceLogger = "sip.trace";

class Logging {
 public:
  struct Options {
    bool console = true;  // false in unit tests
  };

  // Registers the loggers in spdlog's registry (replacing any of the same
  // name) and makes an unnamed logger on the same sinks spdlog's default.
  // Throws LoggingError naming the file when the log file cannot be opened.
  Logging(const LogConfig& config, bool sip_trace, Options options);
  Logging(const LogConfig& config, bool sip_trace) : Logging(config, sip_trace, Options{}) {}
  ~Logging();  // flushes, then drops its loggers
  Logging(const Logging&) = delete;
  Logging& operator=(const Logging&) = delete;

  // The logger of a component in kLogComponents, or "sip.trace"; null otherwise.
  std::shared_ptr<spdlog::logger> logger(std::string_view name) const;

  void setSipTrace(bool on);
  bool toggleSipTrace();  // returns the new state
  bool sipTraceEnabled() const { return sip_trace_.load(std::memory_order_relaxed); }
  const std::atomic<bool>& sipTraceFlag() const { return sip_trace_; }

  void flush();

  // A start-up failure: goes to the log file only (main() prints it on stderr,
  // so the console does not show it twice).
  void logToFileOnly(spdlog::level::level_enum level, std::string_view text);

 private:
  std::vector<spdlog::sink_ptr> sinks_;
  spdlog::sink_ptr file_sink_;
  std::vector<std::shared_ptr<spdlog::logger>> loggers_;
  std::shared_ptr<spdlog::logger> trace_;
  std::atomic<bool> sip_trace_{false};
};

}  // namespace duplex::app
