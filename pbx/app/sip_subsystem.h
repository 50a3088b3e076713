// The SIP subsystem: owns the SIP loop thread ("sip"). On initialize() the
// thread creates the sip::EventLoop and the SipStack (sip_stack.h), which
// binds the transports; initialize() waits for that and fails with the
// transport's message (kExitUnavailable) when a port is taken. Then the
// thread runs the loop until uninitialize(), which stops the loop and joins;
// the stack is destroyed on the loop thread, closing the sockets. With the
// database open (DatabaseSubsystem) the loop also serves REGISTER
// (registrar_wiring.h); the bindings still queued are committed on stop.
//
// Thread: initialize/uninitialize/listeningPoints on the main thread; post()
// from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "admin/status_sources.h"
#include "pbx/app/call_wiring.h"
#include "pbx/app/component_subsystem.h"
#include "pbx/app/config.h"
#include "pbx/app/registrar_wiring.h"
#include "pbx/app/sip_stack.h"
#include "pbx/app/trunk_wiring.h"

namespace duplex::app {

class Logging;

class SipSubsystem final : public ComponentSubsystem, public admin::TrunkStatusView {
 public:
  SipSubsystem(const SipConfig& config, const Logging& logging);

  // The bound transports (real ports), valid after initialize().
  std::vector<ListeningPoint> listeningPoints() const;
  // Runs `task` on the SIP loop thread; false when the loop is not running.
  bool post(std::function<void()> task);
  // Runs `task` on the SIP loop thread with the registrar (admin changes,
  // admin_wiring.h); false when the loop or the registrar is not running.
  bool postToRegistrar(std::function<void(RegistrarWiring&, RegistrarStartup&)> task);
  // Runs `task` on the SIP loop thread with call control (admin changes to
  // trunks); false when the loop is not running. Dropped when there is no
  // call control (no database).
  bool postToCalls(std::function<void(CallWiring&)> task);
  // admin::TrunkStatusView (any thread): the trunks' registration state as
  // the SIP loop last published it; "[]" before the first publication.
  std::string trunkStatusJson() override;
  // Runs `task` on the SIP loop thread with call control (the admin status's
  // active calls, active_calls_view.h), or with nullptr when the loop runs
  // without call control (no database); false when the loop is not running.
  bool postToCallControl(std::function<void(CallWiring*)> task);
  // True when the loop stopped with an error (an exception escaped a callback).
  bool failed() const { return failed_.load(); }

 private:
  void start() override;
  void stop() override;
  void threadMain(std::promise<void> ready);

  const SipConfig& config_;
  const Logging& logging_;
  std::thread thread_;
  mutable std::mutex mutex_;
  sip::EventLoop* loop_ = nullptr;  // guarded by mutex_; lives on the SIP thread's stack
  std::vector<ListeningPoint> points_;
  std::atomic<bool> failed_{false};
  // Read at start() when the application has a DatabaseSubsystem (the
  // daemon); without one (tests of the transports alone) REGISTER gets 405.
  std::unique_ptr<RegistrarStartup> registrar_;
  // Call control (call_wiring.h), on the loop thread; media relay and NAT
  // service found at start() when the application has them.
  CallWiring* calls_ = nullptr;  // SIP loop thread only
  CallServices callServices_;
  RegistrarWiring* wiring_ = nullptr;  // SIP loop thread only
  // Trunk registrations (trunk_wiring.h), on the loop thread with call control.
  TrunkWiring* trunks_ = nullptr;  // SIP loop thread only
  mutable std::mutex trunkStatusMutex_;
  std::string trunkStatus_ = "[]";  // guarded by trunkStatusMutex_
};

}  // namespace duplex::app
