#include "pbx/app/logging.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace duplex::app {
namespace {

constexpr const char* kPattern = "%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v";

std::shared_ptr<spdlog::logger> makeLogger(std::string name,
                                           const std::vector<spdlog::sink_ptr>& sinks,
                                           spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>(std::move(name), sinks.begin(), sinks.end());
  logger->set_level(level);
  logger->flush_on(spdlog::level::warn);
  return logger;
}

}  // namespace

Logging::Logging(const LogConfig& config, bool sip_trace, Options options) {
  if (options.console) {
    sinks_.push_back(std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  }
  if (!config.file.empty()) {
    try {
      file_sink_ = std::make_shared<spdlog::sinks::rotating_file_sink_mt>(
          config.file, config.file_max_size, static_cast<std::size_t>(config.file_count));
    } catch (const spdlog::spdlog_ex& e) {
      throw LoggingError("log.file: cannot open '" + config.file + "': " + e.what());
    }
    sinks_.push_back(file_sink_);
  }
  for (auto& sink : sinks_) sink->set_pattern(kPattern);

  for (std::size_t i = 0; i < kLogComponents.size(); ++i) {
    const std::string name(kLogComponents[i]);
    spdlog::drop(name);
    auto logger = makeLogger(name, sinks_, config.component_levels[i]);
    spdlog::register_logger(logger);
    loggers_.push_back(std::move(logger));
  }
  spdlog::drop(std::string(kSipTraceLogger));
  trace_ = makeLogger(std::string(kSipTraceLogger), sinks_, spdlog::level::off);
  spdlog::register_logger(trace_);
  setSipTrace(sip_trace);

  // For code that logs through spdlog::info() and friends.
  spdlog::set_default_logger(makeLogger("duplex", sinks_, config.levelFor("app")));
  if (file_sink_) spdlog::flush_every(std::chrono::seconds(1));
}

Logging::~Logging() {
  flush();
  for (const auto& logger : loggers_) spdlog::drop(logger->name());
  spdlog::drop(trace_->name());
  // The default logger shares our sinks (and the file): hand it back to stderr.
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "", std::make_shared<spdlog::sinks::stderr_color_sink_mt>()));
}

std::shared_ptr<spdlog::logger> Logging::logger(std::string_view name) const {
  if (name == kSipTraceLogger) return trace_;
  for (const auto& logger : loggers_) {
    if (logger->name() == name) return logger;
  }
  return nullptr;
}

void Logging::setSipTrace(bool on) {
  sip_trace_.store(on, std::memory_order_relaxed);
  trace_->set_level(on ? spdlog::level::info : spdlog::level::off);
}

bool Logging::toggleSipTrace() {
  const bool on = !sipTraceEnabled();
  setSipTrace(on);
  return on;
}

void Logging::flush() {
  for (const auto& logger : loggers_) logger->flush();
  trace_->flush();
}

void Logging::logToFileOnly(spdlog::level::level_enum level, std::string_view text) {
  if (!file_sink_) return;
  spdlog::details::log_msg message("app", level, text);
  file_sink_->log(message);
  file_sink_->flush();
}

}  // namespace duplex::app
