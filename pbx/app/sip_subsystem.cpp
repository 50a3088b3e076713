#include "pbx/app/sip_subsystem.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <future>

#include <Poco/Exception.h>
#include <Poco/Util/Application.h>

#include "pbx/app/exit_codes.h"
#include "pbx/app/startup_error.h"
#include "pbx/app/subsystems.h"
#include "pbx/sip/transport.h"

namespace duplex::app {

SipSubsystem::SipSubsystem(const SipConfig& config, const Logging& logging)
    : ComponentSubsystem("sip"), config_(config), logging_(logging) {}

namespace {

// The daemon's start-up database connection, or nullptr when the application
// has no DatabaseSubsystem.
db::Database* startupDatabase() {
  try {
    return Poco::Util::Application::instance().getSubsystem<DatabaseSubsystem>().database();
  } catch (const Poco::Exception&) {
    return nullptr;
  }
}

}  // namespace

void SipSubsystem::start() {
  if (db::Database* db = startupDatabase()) {
    try {
      registrar_ = std::make_unique<RegistrarStartup>(config_.registrar, *db, db->path());
    } catch (const std::exception& e) {
      throw StartupError(std::string("registrar: cannot start: ") + e.what(), kExitSoftware);
    }
  }
  // Media events come on the relay thread; they reach call control on the loop.
  callServices_ = findCallServices([this](std::function<void(CallWiring&)> task) {
    post([this, task = std::move(task)] {
      if (calls_) task(*calls_);
    });
  });
  std::promise<void> ready;
  std::future<void> bound = ready.get_future();
  thread_ =
      std::thread([this, ready = std::move(ready)]() mutable { threadMain(std::move(ready)); });
  try {
    bound.get();
  } catch (const sip::TransportError& e) {
    thread_.join();
    registrar_.reset();
    throw StartupError(std::string("sip.port: ") + e.what(), kExitUnavailable);
  } catch (const std::exception& e) {
    thread_.join();
    registrar_.reset();
    throw StartupError(std::string("sip: cannot start: ") + e.what(), kExitSoftware);
  }
}

void SipSubsystem::threadMain(std::promise<void> ready) {
  pthread_setname_np(pthread_self(), "sip");
  std::unique_ptr<sip::EventLoop> loop;
  std::unique_ptr<SipStack> stack;
  std::unique_ptr<RegistrarWiring> registrar;
  std::unique_ptr<CallWiring> calls;
  std::unique_ptr<TrunkWiring> trunks;
  try {
    loop = std::make_unique<sip::EventLoop>();
    stack = std::make_unique<SipStack>(*loop, config_, logging_);
    if (registrar_) {
      registrar =
          std::make_unique<RegistrarWiring>(*loop, stack->endpoint(), config_.registrar,
                                            *registrar_, [s = stack.get()] { s->rearmTimer(); });
      wiring_ = registrar.get();
    }
    if (registrar) {
      calls = std::make_unique<CallWiring>(*loop, stack->endpoint(), config_,
                                           registrar->registrar(), *registrar_, callServices_,
                                           [s = stack.get()] { s->rearmTimer(); });
      calls_ = calls.get();
      std::uint16_t port = config_.port;
      for (const auto& p : stack->listeningPoints()) {
        if (p.transport == sip::Transport::kUdp || port == 0) port = p.local.port;
      }
      trunks = std::make_unique<TrunkWiring>(
          *loop, stack->endpoint(), config_, port, *calls, callServices_,
          [s = stack.get()] { s->rearmTimer(); },
          [this](std::string json) {
            std::lock_guard lock(trunkStatusMutex_);
            trunkStatus_ = std::move(json);
          });
      trunks_ = trunks.get();
    }
  } catch (...) {
    trunks_ = nullptr;
    trunks.reset();
    calls_ = nullptr;
    calls.reset();
    registrar.reset();
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
  trunks_ = nullptr;
  trunks.reset();  // before the call control it follows
  calls_ = nullptr;
  calls.reset();  // before the registrar it reads
  wiring_ = nullptr;
  registrar.reset();
  stack.reset();  // closes the transports on the loop thread
  loop.reset();
  // The main thread waits in sigwait(): wake it so the daemon stops (exit code
  // kExitSoftware, see DuplexApp::main) instead of running without SIP.
  if (failed_) ::kill(::getpid(), SIGTERM);
}

void SipSubsystem::stop() {
  {
    // The trunks unregister first (Expires: 0, answers awaited for at most
    // TrunkWiring::kShutdownGrace); then the loop stops.
    std::lock_guard lock(mutex_);
    if (loop_) {
      sip::EventLoop* loop = loop_;
      loop->post([this, loop] {
        if (trunks_) {
          trunks_->shutdown([loop] { loop->stop(); });
        } else {
          loop->stop();
        }
      });
    }
  }
  if (thread_.joinable()) thread_.join();
  if (registrar_) {
    registrar_->shutdown();  // commits the bindings still queued
    registrar_.reset();
  }
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

namespace duplex::app {

bool SipSubsystem::postToRegistrar(std::function<void(RegistrarWiring&, RegistrarStartup&)> task) {
  return post([this, task = std::move(task)] {
    // On the loop thread: wiring_ is only written there.
    if (wiring_ && registrar_) task(*wiring_, *registrar_);
  });
}

bool SipSubsystem::postToCallControl(std::function<void(CallWiring*)> task) {
  return post([this, task = std::move(task)] { task(calls_); });  // calls_: loop thread only
}

}  // namespace duplex::app

namespace duplex::app {

std::string SipSubsystem::trunkStatusJson() {
  std::lock_guard lock(trunkStatusMutex_);
  return trunkStatus_;
}

bool SipSubsystem::postToCalls(std::function<void(CallWiring&)> task) {
  return post([this, task = std::move(task)] {
    if (calls_) task(*calls_);
  });
}

}  // namespace duplex::app
