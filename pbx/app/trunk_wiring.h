// The trunk registration client (pbx/call/trunk_registration.h) in the
// daemon, on the SIP loop: it follows call control's trunk directory (read
// at start and again at once after every admin change), advertises the address the NAT address book
// picks for each provider (the public address or the UPnP-mapped SIP port; the configuration when
// there is no NAT service), re-registers at once when the address book publishes a change, resolves
// provider host names on its own small thread, and publishes the per-trunk status for the admin
// API.
//
// Shutdown: shutdown() sends REGISTER Expires: 0 for every registered trunk
// and calls `done` when the providers answered (challenges included) or after
// kShutdownGrace, whichever comes first.
//
// For: SipSubsystem. Thread: created, used and destroyed on the SIP loop
// thread; the status publisher and the address-book listener hand over to
// their own threads as documented. Errors: the constructor throws only
// std::system_error (thread creation, start-up).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nat/nat_service.h"
#include "pbx/app/call_wiring.h"
#include "pbx/app/config.h"
#include "pbx/call/trunk_registration.h"
#include "pbx/sip/event_loop.h"

namespace duplex::app {

// getaddrinfo() on one worker thread; results posted to the SIP loop. The
// destructor joins the worker (a lookup in progress finishes first).
class ThreadHostResolver final : public call::HostResolver {
 public:
  explicit ThreadHostResolver(sip::EventLoop& loop);
  ~ThreadHostResolver() override;
  void resolve(const std::string& host,
               std::function<void(std::optional<std::string>, std::string)> done) override;

 private:
  struct Job {
    std::string host;
    std::function<void(std::optional<std::string>, std::string)> done;
  };
  void run();

  sip::EventLoop& loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // read on the loop thread
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stop_ = false;
  std::thread worker_;
};

// The address a provider can reach: the NAT address book's choice for the
// provider's IP (SIP port mapping included) when there is a NAT service, else
// main_address for providers outside local_networks.
// behindNat: the host chosen is not one of our interface addresses (the
// PBX is reached through a router), which caps the refresh interval.
class AddressBookContacts final : public call::TrunkContactChoice {
 public:
  // `book` null: from the configuration alone.
  AddressBookContacts(const nat::AddressBookPublisher* book,
                      const call::ConfiguredAddressChoice& configured, std::uint16_t sipPort)
      : book_(book), configured_(configured), sipPort_(sipPort) {}
  call::AdvertisedContact contactFor(std::string_view providerIp,
                                     sip::Transport transport) const override;

 private:
  const nat::AddressBookPublisher* book_;
  const call::ConfiguredAddressChoice& configured_;
  std::uint16_t sipPort_;
};

class TrunkWiring {
 public:
  static constexpr std::chrono::milliseconds kShutdownGrace{2000};

  // `publishStatus` receives the status JSON array after every change (any
  // thread may read what it stores). `sipPort`: the bound UDP/TCP port.
  TrunkWiring(sip::EventLoop& loop, sip::SipEndpoint& endpoint, const SipConfig& sip,
              std::uint16_t sipPort, CallWiring& calls, const CallServices& services,
              std::function<void()> afterSend, std::function<void(std::string)> publishStatus);
  ~TrunkWiring();
  TrunkWiring(const TrunkWiring&) = delete;
  TrunkWiring& operator=(const TrunkWiring&) = delete;

  void shutdown(std::function<void()> done);

 private:
  void changed();
  void logTransitions();
  void arm();
  std::string statusJson() const;

  sip::EventLoop& loop_;
  CallWiring& calls_;
  std::function<void()> afterSend_;
  std::function<void(std::string)> publishStatus_;
  sip::SystemClock clock_;
  std::unique_ptr<call::ConfiguredAddressChoice> configured_;
  std::unique_ptr<AddressBookContacts> contacts_;
  std::unique_ptr<ThreadHostResolver> resolver_;
  std::unique_ptr<call::TrunkRegistrations> registrations_;
  sip::Timer timer_;
  sip::Timer shutdownTimer_;
  nat::NatService* nat_ = nullptr;
  nat::AddressBookPublisher::SubscriptionId subscription_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::string lastStatus_;
  std::map<std::int64_t, std::pair<call::TrunkRegistrationState, std::string>> logged_;
};

}  // namespace duplex::app
