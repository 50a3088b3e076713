// The db component's logger: "db" when the daemon has registered it (log
// level per component, pbx/app/logging), spdlog's default logger otherwise
// (tests, tools). Any thread.
#pragma once

#include <memory>

#include <spdlog/spdlog.h>

namespace duplex::db {

inline spdlog::logger& log() {
  std::shared_ptr<spdlog::logger> named = spdlog::get("db");
  return named ? *named : *spdlog::default_logger_raw();
}

}  // namespace duplex::db
