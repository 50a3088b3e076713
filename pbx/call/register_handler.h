// The SIP side of the registrar: turns a REGISTER into digest authentication
// and a registrar::RegistrationRequest, and the decision back into a response
// (RFC 3261 10.3); sends the keep-alives the registrar schedules for phones
// behind NAT (OPTIONS client transactions or CRLF pings, RFC 5626 4.4.1) and
// reports their outcome back.
//
// For: pbx/app (registers it for REGISTER and as the endpoint's
// ClientHandler; arms a loop timer at nextDeadline() and calls onTimer()).
// Thread: the SIP loop thread only, like the Registrar, the authenticator and
// the endpoint it uses. Nothing throws for any request content: every
// problem is a response (400 with the precise reason, 401, 403, 423, 500).
//
// Responses:
//   401 + two WWW-Authenticate (SHA-256, MD5)  no Digest credentials, a bad
//        or stale nonce, a replayed nc (RFC 3261 22.4; RFC 7616 3.3).
//        Unknown users get exactly this too (no enumeration).
//   403 Forbidden  wrong password or unknown user (the same answer), a
//        disabled extension, or an authorization user that is not the To user
//   404 Not Found  the To URI is not a SIP URI with a user part (after auth)
//   400 <reason>   malformed credentials, digest uri not the Request-URI
//        (RFC 7616 3.4.6), unreadable To/Contact/Expires/CSeq, registrar 400s
//   200 OK         with one Contact per current binding `<uri>;expires=N`, Date
//   423 + Min-Expires, 403, 500: registrar decisions with their reasons
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "pbx/call/credential_source.h"
#include "pbx/sip/endpoint.h"
#include "registrar/digest_authenticator.h"
#include "registrar/registrar.h"

namespace duplex::call {

struct RegisterHandlerStats {
  std::uint64_t challenges = 0;  // 401 sent
  std::uint64_t accepted = 0;    // 200 sent
  std::uint64_t rejected = 0;    // any other final response
  std::uint64_t keepAlivesSent = 0;
  std::uint64_t keepAlivesAnswered = 0;
  std::uint64_t keepAlivesFailed = 0;
};

class RegisterHandler final : public sip::RequestHandler, public sip::ClientHandler {
 public:
  // Wall-clock time for the registrar and the nonces (system_clock in the
  // daemon, driven by a ManualClock in tests).
  using WallClock = std::function<registrar::Instant()>;
  // Between two sweeps of expired bindings.
  static constexpr std::chrono::seconds kExpirySweep{5};

  RegisterHandler(registrar::Registrar& registrar, registrar::DigestAuthenticator& authenticator,
                  const CredentialSource& credentials, WallClock now);

  // sip::RequestHandler: REGISTER.
  void onRequest(sip::SipEndpoint& endpoint, sip::TransactionId id,
                 const sip::Message& request) override;

  // sip::ClientHandler: keep-alive OPTIONS outcomes. Any final response
  // means the phone is there (RFC 3261 11); a timeout or transport error is
  // a failure.
  void onResponse(sip::SipEndpoint& endpoint, sip::TransactionId id,
                  const sip::Message& response) override;
  void onClientTimeout(sip::SipEndpoint& endpoint, sip::TransactionId id) override;
  void onTransportError(sip::SipEndpoint& endpoint, sip::TransactionId id) override;

  // Timer-driven: removes expired bindings and sends the keep-alives due.
  void onTimer(sip::SipEndpoint& endpoint, registrar::Instant now);
  // When onTimer() next has work (keep-alive due, or the next expiry sweep).
  registrar::Instant nextDeadline(registrar::Instant now) const;

  const RegisterHandlerStats& stats() const { return stats_; }

 private:
  void answer(sip::SipEndpoint& endpoint, sip::TransactionId id, int status,
              std::string_view reason,
              const std::vector<std::pair<std::string, std::string>>& headers = {});
  void challenge(sip::SipEndpoint& endpoint, sip::TransactionId id, registrar::Instant now,
                 bool stale);
  void sendKeepAlive(sip::SipEndpoint& endpoint, const registrar::KeepAlive& keepAlive);
  void keepAliveFailed(sip::TransactionId id);

  registrar::Registrar& registrar_;
  registrar::DigestAuthenticator& authenticator_;
  const CredentialSource& credentials_;
  WallClock now_;
  registrar::Instant lastSweep_{};
  std::uint64_t keepAliveSeq_ = 0;
  // Keep-alive OPTIONS in flight: client transaction -> binding.
  std::unordered_map<sip::TransactionId, registrar::BindingId> pending_;
  RegisterHandlerStats stats_;
  std::int64_t dateSecond_ = -1;  // the second dateText_ was formatted for
  std::string dateText_;
};

}  // namespace duplex::call
