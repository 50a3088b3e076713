#include "pbx/app/component_subsystem.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace duplex::app {

ComponentSubsystem::ComponentSubsystem(std::string component) : name_(std::move(component)) {
  log_ = spdlog::get(name_);
  if (!log_) log_ = spdlog::default_logger();
}

void ComponentSubsystem::initialize(Poco::Util::Application&) {
  if (running_) return;
  const auto begin = std::chrono::steady_clock::now();
  start();
  running_ = true;
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - begin;
  log_->debug("{} started in {:.1f} ms", name_, took.count());
}

void ComponentSubsystem::uninitialize() {
  if (!running_) return;
  running_ = false;
  try {
    stop();
    log_->debug("{} stopped", name_);
  } catch (const std::exception& e) {
    log_->error("{}: error while stopping: {}", name_, e.what());
  }
}

}  // namespace duplex::app
