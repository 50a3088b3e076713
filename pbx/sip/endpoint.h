// The SIP endpoint: the core between the transports and the PBX logic. It
// parses what the transports deliver, answers malformed requests statelessly
// with the precise reason (RFC 4475), runs the stateless checks of RFC 3261
// 8.2, feeds the transaction layer, and hands each new request to the
// handler registered for its method. It answers by itself what needs no PBX
// logic: OPTIONS to the PBX (statelessly, RFC 3261 8.2.7), CANCEL matching,
// 405 for methods nobody serves.
//
// NAT rule (DESIGN.md "trust the packet"): every request that arrives over
// UDP is treated as if its top Via carried `rport` (RFC 3581), so responses go
// back to the address and port the request really came from, never to a Via
// sent-by host or maddr that a phone behind NAT cannot be reached at.
//
// Thread: the SIP loop thread only; no locks (STYLE.md 7). The owner arms
// one timer at nextDeadline() and calls onTimer() when it fires.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pbx/sip/clock.h"
#include "pbx/sip/message.h"
#include "pbx/sip/transaction_layer.h"
#include "pbx/sip/transport.h"

namespace duplex::sip {

class SipEndpoint;

// What a layer above (registrar adapter, call control) implements for the
// methods it serves. Called on the SIP loop thread.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // A new request on server transaction `id`; answer through
  // endpoint.transactions().sendResponse() now or later.
  virtual void onRequest(SipEndpoint& endpoint, TransactionId id, const Message& request) = 0;
  // An ACK the transaction layer passes up (ACK for a 2xx; id 0 when it
  // matched no transaction).
  virtual void onAck(SipEndpoint& /*endpoint*/, TransactionId /*id*/, const Message& /*ack*/) {}
  // A CANCEL matched INVITE server transaction `invite` (the endpoint has
  // already answered the CANCEL with 200, RFC 3261 9.2); the handler sends
  // 487 on the INVITE if it has not answered it yet.
  virtual void onCancel(SipEndpoint& /*endpoint*/, TransactionId /*invite*/) {}
  virtual void onTerminated(SipEndpoint& /*endpoint*/, TransactionId /*id*/) {}
};

// What a layer above implements to learn how its client transactions
// (started with transactions().sendRequest()) ended, e.g. the registrar
// adapter's keep-alive OPTIONS. Called on the SIP loop thread; ids of
// transactions the handler did not start are passed too (ignore them).
class ClientHandler {
 public:
  virtual ~ClientHandler() = default;
  // Every response the transaction layer passes up (1xx and the final one).
  virtual void onResponse(SipEndpoint& endpoint, TransactionId id, const Message& response) = 0;
  // Timer B/F fired (RFC 3261 8.1.3.1: as a 408).
  virtual void onClientTimeout(SipEndpoint& endpoint, TransactionId id) = 0;
  // Sending failed (client or server transaction; RFC 3261 8.1.3.1: as a 503).
  virtual void onTransportError(SipEndpoint& endpoint, TransactionId id) = 0;
};

struct EndpointOptions {
  std::string server = "Duplex PBX";   // Server header of our responses
  std::vector<std::string> supported;  // option tags (Supported, Require checks)
  TransactionTimers timers;
};

// Monotonic counters, read on the loop thread.
struct EndpointStats {
  std::uint64_t requests_received = 0;
  std::uint64_t responses_received = 0;
  std::uint64_t malformed_requests = 0;    // answered statelessly (400/505/513...)
  std::uint64_t malformed_responses = 0;   // dropped
  std::uint64_t unanswerable = 0;          // malformed beyond answering (no Via): dropped
  std::uint64_t stateless_rejections = 0;  // well-formed, refused by checkRequest
  std::uint64_t stray_responses = 0;       // matched no client transaction: dropped
  std::uint64_t options_answered = 0;
  std::uint64_t method_not_allowed = 0;
};

class SipEndpoint final : private TransactionTransport, private TransactionUser {
 public:
  // `clock` must outlive the endpoint. Throws std::invalid_argument for bad
  // timer settings (start-up).
  SipEndpoint(const Clock& clock, EndpointOptions options);
  ~SipEndpoint() override;
  SipEndpoint(const SipEndpoint&) = delete;
  SipEndpoint& operator=(const SipEndpoint&) = delete;

  // One transport per protocol; it must outlive the endpoint.
  void addTransport(SipTransport& transport);
  // The handler for a method (nullptr removes it). Methods without a handler
  // get 405 with Allow; ACK and CANCEL follow INVITE's handler.
  void setHandler(Method method, RequestHandler* handler);
  // The handler of client-transaction outcomes (nullptr removes it).
  void setClientHandler(ClientHandler* handler) { client_handler_ = handler; }
  // Starts a client transaction (TransactionLayer::sendRequest) whose
  // responses, timeout and transport error go to `owner` instead of the
  // handler set with setClientHandler(), so call control and the registrar
  // adapter each see only their own transactions. Same errors as
  // sendRequest(); `owner` must outlive the transaction or be released with
  // forgetClientOwner().
  Result<TransactionId> sendRequest(Message request, const Destination& to, ClientHandler* owner);
  // Stops reporting transactions owned by `owner` (its destructor calls it).
  void forgetClientOwner(ClientHandler* owner);
  // Sends bytes that are no message (the RFC 5626 4.4.1 CRLF keep-alive).
  // Returns false when no transport takes them.
  bool sendBytes(std::string_view bytes, const Destination& to);
  // Called with every message sent (for SIP tracing).
  void setSendObserver(std::function<void(std::string_view wire, const Destination& to)> fn) {
    send_observer_ = std::move(fn);
  }

  // --- input from the transports ---
  void onMessage(std::string bytes, const Origin& origin);
  void onRejected(const RejectedMessage& rejected);
  void onConnectionClosed(const ConnectionClosed& closed);

  // --- timers ---
  std::optional<Clock::TimePoint> nextDeadline() const { return layer_.nextDeadline(); }
  void onTimer(Clock::TimePoint now) { layer_.onTimer(now); }

  TransactionLayer& transactions() { return layer_; }
  const EndpointStats& stats() const { return stats_; }
  // Methods the PBX answers: OPTIONS, CANCEL, plus the handled ones (ACK
  // with INVITE). Kept up to date by setHandler(): every request's check
  // reads it.
  const std::vector<Method>& allowedMethods() const { return allowed_; }
  // A new To/From tag: random, 16 hex digits.
  std::string newTag();
  // Answers server transaction `id` with `status`, adding a To tag when the
  // request's To has none (RFC 3261 8.2.6.2) and the Server header.
  bool respond(TransactionId id, int status, std::string_view reason,
               const std::vector<std::pair<std::string, std::string>>& extra_headers = {});
  // The same, ending the (non-INVITE) transaction at once and keeping no
  // state (TransactionLayer::sendFinalResponseStateless): for challenges.
  bool respondStateless(TransactionId id, int status, std::string_view reason,
                        const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

 private:
  // TransactionTransport
  bool send(const Message& message, std::string_view wire, const Destination& to) override;
  // TransactionUser
  void onRequest(TransactionId id, const Message& request) override;
  void onAck(TransactionId id, const Message& ack) override;
  void onAckTimeout(TransactionId id) override;
  void onResponse(TransactionId id, const Message& response) override;
  void onClientTimeout(TransactionId id, const Message& timeout) override;
  void onStrayResponse(const Message& response) override;
  void onTransportError(TransactionId id) override;
  void onTerminated(TransactionId id) override;

  void onRequestBytes(std::string bytes, const Origin& origin);
  void answerOptions(const Message& request);  // statelessly
  std::optional<Message> buildResponse(
      TransactionId id, int status, std::string_view reason,
      const std::vector<std::pair<std::string, std::string>>& extra_headers);
  std::string statelessTag(const Message& request) const;
  void answerCancel(TransactionId id, const Message& cancel);
  void sendStatelessResponse(const Message& request, int status, std::string_view reason,
                             const std::vector<std::pair<std::string, std::string>>& headers);
  void sendRaw(std::string_view wire, const Origin& origin);
  RequestHandler* handlerFor(Method method) const;

  EndpointOptions options_;
  TransactionLayer layer_;
  std::array<SipTransport*, 3> transports_{};   // by Transport
  std::array<RequestHandler*, 16> handlers_{};  // by Method
  std::vector<Method> allowed_;                 // see allowedMethods()
  void updateAllowed();
  ClientHandler* client_handler_ = nullptr;
  ClientHandler* clientHandlerFor(TransactionId id) const;
  std::unordered_map<TransactionId, ClientHandler*> client_owners_;  // sendRequest(.., owner)
  std::vector<std::string_view> supported_views_;
  std::function<void(std::string_view, const Destination&)> send_observer_;
  std::mt19937_64 tag_random_;
  std::uint64_t tag_key_;
  EndpointStats stats_;
};

// A stateless error response for a request that did not parse, built from
// its raw bytes: the Via, From, To, Call-ID and CSeq lines copied as they
// are (RFC 3261 8.2.6.2). nullopt when there is no Via line to route it by.
std::optional<std::string> salvageErrorResponse(std::string_view raw, const SipError& error,
                                                std::string_view server);

}  // namespace duplex::sip
