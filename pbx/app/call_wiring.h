// Call control on the SIP loop: the B2BUA (pbx/call/b2bua.h) registered on
// the endpoint for INVITE, BYE, UPDATE and INFO (ACK and CANCEL follow
// INVITE), with its digest authenticator (same secret, realm and options as
// the registrar's, so nonces from either are good for both), the extension
// cache for routing, the media relay adapter, the per-leg address choice
// (the NAT address book when the daemon has one, else main_address and
// local_networks), the call-record writer and one loop timer.
//
// Two halves by thread:
//   findCallServices()  main thread, in SipSubsystem::start(): finds the
//                       media relay and the NAT service of the application
//                       and routes the relay's events to the SIP loop.
//   CallWiring          created and destroyed on the SIP loop thread; its
//                       destructor flushes the call records (shutdown only).
// Errors: the constructor throws db::DbError / std::system_error (start-up).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "db/database.h"
#include "media/relay.h"
#include "nat/nat_service.h"
#include "pbx/app/config.h"
#include "pbx/app/registrar_wiring.h"
#include "pbx/call/address_book_choice.h"
#include "pbx/call/address_choice.h"
#include "pbx/call/b2bua.h"
#include "pbx/call/call_record_writer.h"
#include "pbx/call/extension_directory.h"
#include "pbx/call/relay_media_sessions.h"
#include "pbx/call/repository_trunk_directory.h"
#include "pbx/call/trunk_addresses.h"
#include "pbx/sip/clock.h"
#include "pbx/sip/event_loop.h"

namespace duplex::app {

class CallWiring;

struct CallServices {
  media::MediaRelay* relay = nullptr;  // null: calls get 503 (no media)
  nat::NatService* nat = nullptr;      // null: address choice from the config
  std::string mainAddress;
  std::vector<std::string> localNetworks;
};

// Main thread. `postToCalls` runs a task on the SIP loop with the live
// CallWiring (dropped when there is none).
CallServices findCallServices(std::function<void(std::function<void(CallWiring&)>)> postToCalls);

class CallWiring {
 public:
  // SIP loop thread. `afterSend` runs after a timer sent messages (the stack
  // re-arms its transaction timer).
  CallWiring(sip::EventLoop& loop, sip::SipEndpoint& endpoint, const SipConfig& sip,
             const registrar::Registrar& registrar, RegistrarStartup& startup,
             const CallServices& services, std::function<void()> afterSend);
  ~CallWiring();
  CallWiring(const CallWiring&) = delete;
  CallWiring& operator=(const CallWiring&) = delete;

  // SIP loop: a relay event posted over from the relay thread.
  void onRelayEvent(const media::MediaEvent& event);
  // SIP loop: re-reads trunks, outbound routes, inbound numbers and the
  // dialing.* settings (small tables; at start and after an admin change
  // through LiveChanges::trunksChanged), then tells the
  // observer (the trunk registration client, trunk_wiring.h).
  void reloadTrunks();
  const call::TrunkDirectory& trunkDirectory() const { return *trunks_; }
  void setTrunksObserver(std::function<void()> observer) { trunksObserver_ = std::move(observer); }
  const call::CallStats& stats() const { return b2bua_->stats(); }
  // SIP loop: the calls in progress and, with the relay, each one's live
  // media facts (admin status, active_calls_view.h). `done` runs on the SIP
  // loop: at once without a relay or calls, else when the relay answered.
  using ActiveCallsDone = std::function<void(std::vector<call::CallSnapshot>,
                                             call::RelayMediaSessions::LiveFactsBySession)>;
  void activeCalls(ActiveCallsDone done);

 private:
  void arm();

  sip::EventLoop& loop_;
  sip::SipEndpoint& endpoint_;
  std::function<void()> afterSend_;
  sip::SystemClock clock_;
  registrar::AuthFailureCounter failures_;
  registrar::DigestAuthenticator authenticator_;
  std::unique_ptr<call::RepositoryTrunkDirectory> trunks_;
  // Where trunks are reached and which sources are theirs: host names
  // resolved on the resolver's own thread (no DNS on the SIP loop).
  call::TrunkAddressCache trunkAddresses_;
  std::unique_ptr<call::TrunkAddressResolver> trunkResolver_;
  std::unique_ptr<call::TrunkContactChoice> trunkContacts_;  // as trunk_wiring.h's
  std::function<void()> trunksObserver_;
  std::unique_ptr<call::CallRecordWriter> records_;
  std::unique_ptr<call::ConfiguredAddressChoice> configured_;
  std::unique_ptr<call::AddressBookChoice> addressBook_;
  std::unique_ptr<call::MediaSessions> media_;
  call::RelayMediaSessions* relayMedia_ = nullptr;  // media_ when it is the relay
  std::unique_ptr<call::B2bua> b2bua_;
  sip::Timer timer_;
  std::optional<sip::Clock::TimePoint> armedFor_;
  std::unique_ptr<db::Database> db_;  // the loop thread's connection, for trunk reloads
};

}  // namespace duplex::app
