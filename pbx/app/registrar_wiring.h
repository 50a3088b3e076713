// The registrar on the SIP loop: the Registrar, the DigestAuthenticator and
// the REGISTER adapter (pbx/call/register_handler.h) wired to the endpoint,
// with a loop timer for binding expiry and NAT keep-alives, and the batched
// write-behind of bindings (registrar/binding_writer.h).
//
// Two halves by thread:
//   RegistrarStartup  read on the start-up (main) thread from its db
//                     connection: the nonce secret, the extension cache; and
//                     the BindingWriter, which is flushed and stopped there at
//                     shutdown (it waits for the disk; the loop must not).
//   RegistrarWiring   created and destroyed on the SIP loop thread; loads the
//                     bindings through a connection of its own at start.
// Errors: both constructors throw (db::DbError, std::invalid_argument for an
// inconsistent configuration): start-up only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "db/database.h"
#include "pbx/app/config.h"
#include "pbx/call/credential_source.h"
#include "pbx/call/extension_directory.h"
#include "pbx/call/register_handler.h"
#include "pbx/sip/endpoint.h"
#include "pbx/sip/event_loop.h"
#include "registrar/auth_failures.h"
#include "registrar/binding_writer.h"
#include "registrar/digest_authenticator.h"
#include "registrar/registrar.h"

namespace duplex::app {

struct RegistrarStartup {
  // Main thread. `db`: the start-up connection to `dbPath`.
  RegistrarStartup(const RegistrarSettings& settings, db::Database& db, std::string dbPath);
  // Main thread, after the loop thread has ended: commits the queued bindings.
  void shutdown();

  std::string dbPath;
  std::string realm;  // settings.realm, or the hostname
  std::vector<std::uint8_t> nonceSecret;
  std::unique_ptr<call::RepositoryCredentialSource> credentials;
  // Call routing's view of the extensions (DND, forwards, permissions). Both
  // caches are rebuilt from the admin API's changes (admin_wiring.cpp), never
  // by reading the database on the SIP loop.
  std::unique_ptr<call::RepositoryExtensionDirectory> directory;
  std::unique_ptr<registrar::BindingWriter> writer;
};

class RegistrarWiring {
 public:
  // SIP loop thread. `afterSend` runs after the timer sent keep-alives (the
  // stack re-arms its transaction timer).
  RegistrarWiring(sip::EventLoop& loop, sip::SipEndpoint& endpoint,
                  const RegistrarSettings& settings, RegistrarStartup& startup,
                  std::function<void()> afterSend);
  ~RegistrarWiring();
  RegistrarWiring(const RegistrarWiring&) = delete;
  RegistrarWiring& operator=(const RegistrarWiring&) = delete;

  const registrar::Registrar& registrar() const { return registrar_; }
  registrar::Registrar& registrar() { return registrar_; }  // SIP loop (admin changes)

 private:
  void arm();
  // After a burst (e.g. every phone re-registering after a power cut) the
  // finished transactions are freed 32 s later (Timer J), but glibc keeps the
  // pages: hand them back each time 5,000 transactions went since the last
  // time (checked on this timer, at least every 5 s).
  void returnFreedMemory();
  std::uint64_t peakTransactions_ = 0;

  sip::SipEndpoint& endpoint_;
  std::function<void()> afterSend_;
  registrar::Registrar registrar_;
  registrar::AuthFailureCounter failures_;
  registrar::DigestAuthenticator authenticator_;
  call::RegisterHandler handler_;
  sip::Timer timer_;
};

}  // namespace duplex::app
