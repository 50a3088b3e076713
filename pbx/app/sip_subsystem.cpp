#include "pbx/app/sip_subsystem.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <future>

#include "pbx/app/exit_codes.h"
#include "pbx/app/startup_error.h"
#include "pbx/sip/transport.h"

namespace duplex::app {

SipSubsystem::SipSubsystem(const SipConfig& config, const Logging& logging)
    : ComponentSubsystem("sip"), config_(config), logging_(logging) {}

void SipSubsystem::start() {
  std::promise<void> ready;
  std::future<void> bound = ready.get_future();
  thread_ =
      std::thread([this, ready = std::move(ready)]() mutable { threadMain(std::move(ready)); });
  try {
    bound.get();
  } catch (const sip::TransportError& e) {
    thread_.join();
    throw StartupError(std::string("sip.port: ") + e.what(), kExitUnavailable);
  } catch (const std::exception& e) {
    thread_.join();
    throw StartupError(std::string("sip: cannot start: ") + e.what(), kExitSoftware);
  }
}

void SipSubsystem::threadMain(std::promise<void> ready) {
  pthread_setname_np(pthread_self(), "sip");
  std::unique_ptr<sip::EventLoop> loop;
  std::unique_ptr<SipStack> stack;
  try {
    loop = std::make_unique<sip::EventLoop>();
    stack = std::make_unique<SipStack>(*loop, config_, logging_);
  } catch (...) {
    stack.reset();
    ready.set_exception(std::current_exception());
    return;
  }
  {
    std::lock_guard lock(mutex_);
    loop_ = loop.get();
    points_ = stack->listeningPoints();
  }
  ready.set_value();

  try {
    loop->run();
  } catch (const std::exception& e) {
    failed_ = true;
    log().critical("SIP loop stopped by an error: {}", e.what());
  }
  {
    std::lock_guard lock(mutex_);
    loop_ = nullptr;
  }
  stack.reset();  // closes the transports on the loop thread
  loop.reset();
  // The main thread waits in sigwait(): wake it so the daemon stops (exit code
  // kExitSoftware, see DuplexApp::main) instead of running without SIP.
  if (failed_) ::kill(::getpid(), SIGTERM);
}

void SipSubsystem::stop() {
  {
    std::lock_guard lock(mutex_);
    if (loop_) loop_->stop();
  }
  if (thread_.joinable()) thread_.join();
}

std::vector<ListeningPoint> SipSubsystem::listeningPoints() const {
  std::lock_guard lock(mutex_);
  return points_;
}

bool SipSubsystem::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (!loop_) return false;
  loop_->post(std::move(task));
  return true;
}

}  // namespace duplex::app
