// Test doubles and a fixture for the transaction layer tests: a transport
// that records what was sent and when, a TU that records its callbacks, and
// helpers that drive a ManualClock the way the SIP loop drives its timer.
// (They live here rather than in tests/fakes/ because only these tests use
// the transaction layer's interfaces so far.)
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pbx/sip/clock.h"
#include "pbx/sip/transaction_layer.h"

namespace duplex::sip::testing {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

struct SentMessage {
  Clock::TimePoint at;
  Message message;
  std::string wire;
  Destination to;
};

class FakeTransport final : public TransactionTransport {
 public:
  explicit FakeTransport(const Clock& clock) : clock_(clock) {}
  bool send(const Message& message, std::string_view wire, const Destination& to) override {
    ++sends;
    // The layer re-sends some messages from their bytes alone (a completed
    // non-INVITE server transaction): record what went on the wire.
    if (record) {
      Result<Message> parsed = Message::parse(std::string(wire));
      sent.push_back(
          {clock_.now(), parsed ? std::move(*parsed) : message.clone(), std::string(wire), to});
    }
    return !fail;
  }
  std::vector<SentMessage> sent;
  std::size_t sends = 0;
  bool fail = false;   // make every send report a transport failure
  bool record = true;  // false: only count (bulk tests)

 private:
  const Clock& clock_;
};

enum class TuEvent {
  kRequest,
  kAck,
  kAckTimeout,
  kResponse,
  kClientTimeout,
  kStrayResponse,
  kTransportError,
  kTerminated,
};

struct TuRecord {
  TuEvent event;
  TransactionId id;
  Clock::TimePoint at;
  std::optional<Message> message;
};

class FakeTu final : public TransactionUser {
 public:
  explicit FakeTu(const Clock& clock) : clock_(clock) {}
  void onRequest(TransactionId id, const Message& m) override {
    record(TuEvent::kRequest, id, &m);
    if (on_request) on_request(id, m);
  }
  void onAck(TransactionId id, const Message& m) override { record(TuEvent::kAck, id, &m); }
  void onAckTimeout(TransactionId id) override { record(TuEvent::kAckTimeout, id, nullptr); }
  void onResponse(TransactionId id, const Message& m) override {
    record(TuEvent::kResponse, id, &m);
  }
  void onClientTimeout(TransactionId id, const Message& m) override {
    record(TuEvent::kClientTimeout, id, &m);
  }
  void onStrayResponse(const Message& m) override { record(TuEvent::kStrayResponse, 0, &m); }
  void onTransportError(TransactionId id) override {
    record(TuEvent::kTransportError, id, nullptr);
  }
  void onTerminated(TransactionId id) override {
    record(TuEvent::kTerminated, id, nullptr);
    if (on_terminated) on_terminated(id);
  }

  std::vector<const TuRecord*> of(TuEvent e) const {
    std::vector<const TuRecord*> out;
    for (const auto& r : records) {
      if (r.event == e) out.push_back(&r);
    }
    return out;
  }
  std::size_t count(TuEvent e) const { return of(e).size(); }
  bool terminated(TransactionId id) const {
    return std::any_of(records.begin(), records.end(), [&](const TuRecord& r) {
      return r.event == TuEvent::kTerminated && r.id == id;
    });
  }

  std::vector<TuRecord> records;
  std::function<void(TransactionId, const Message&)> on_request;
  std::function<void(TransactionId)> on_terminated;

 private:
  void record(TuEvent e, TransactionId id, const Message* m) {
    records.push_back({e, id, clock_.now(), m ? std::optional<Message>(m->clone()) : std::nullopt});
  }
  const Clock& clock_;
};

// Lone "\n" -> "\r\n" so message texts in tests stay readable (and
// serialized messages, already CRLF, pass unchanged).
inline std::string crlf(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) out += '\r';
    out += text[i];
  }
  return out;
}

inline Message parseOrDie(std::string_view text) {
  auto r = Message::parse(crlf(text));
  EXPECT_TRUE(r.ok()) << r.error().status << " " << r.error().reason << "\n" << text;
  if (!r.ok()) return Message{};
  return std::move(r).value();
}

inline Origin udpFrom(std::string ip, std::uint16_t port) {
  return Origin{Transport::kUdp, {"10.0.0.1", 5060}, {std::move(ip), port}, 0};
}
inline Origin tcpFrom(std::string ip, std::uint16_t port, std::uint64_t connection) {
  return Origin{Transport::kTcp, {"10.0.0.1", 5060}, {std::move(ip), port}, connection};
}

// A request as a phone would send it. `via` is the whole top Via value.
struct RequestSpec {
  std::string method = "INVITE";
  std::string uri = "sip:200@pbx.example.com";
  std::string via = "SIP/2.0/UDP 192.168.1.10:5060;branch=z9hG4bKphone1";
  std::string from_tag = "f1";
  std::string to_tag;
  std::string call_id = "call1@192.168.1.10";
  std::uint32_t cseq = 1;
  std::string cseq_method;  // empty: same as method
};

inline std::string requestText(const RequestSpec& s) {
  std::string t = s.method + " " + s.uri + " SIP/2.0\n";
  t += "Via: " + s.via + "\n";
  t += "Max-Forwards: 70\n";
  t += "From: <sip:100@pbx.example.com>;tag=" + s.from_tag + "\n";
  t += "To: <sip:200@pbx.example.com>" + (s.to_tag.empty() ? "" : ";tag=" + s.to_tag) + "\n";
  t += "Call-ID: " + s.call_id + "\n";
  t += "CSeq: " + std::to_string(s.cseq) + " " +
       (s.cseq_method.empty() ? s.method : s.cseq_method) + "\n";
  t += "Contact: <sip:100@192.168.1.10:5060>\n";
  t += "Content-Length: 0\n\n";
  return t;
}

inline Message received(const RequestSpec& s, Origin origin) {
  Message m = parseOrDie(requestText(s));
  m.setOrigin(std::move(origin));
  return m;
}

// What the PBX sends as a UAC: no branch yet, two Route entries.
inline Message outgoingRequest(std::string_view method, std::uint32_t cseq = 7,
                               std::string_view via = "SIP/2.0/UDP 10.0.0.1:5060") {
  std::string t = std::string(method) + " sip:300@192.168.1.20:5060 SIP/2.0\n";
  t += "Via: " + std::string(via) + "\n";
  t += "Route: <sip:proxy1.example.com;lr>\n";
  t += "Route: <sip:proxy2.example.com;lr>\n";
  t += "Max-Forwards: 70\n";
  t += "From: \"PBX\" <sip:100@pbx.example.com>;tag=pbx1\n";
  t += "To: <sip:300@example.com>\n";
  t += "Call-ID: out1@pbx.example.com\n";
  t += "CSeq: " + std::to_string(cseq) + " " + std::string(method) + "\n";
  t += "Content-Length: 0\n\n";
  return parseOrDie(t);
}

// A response to `request` as it arrives from the network (serialized and
// parsed again, with an origin).
inline Message responseFor(const Message& request, int status, std::string_view reason,
                           std::string_view to_tag = {}) {
  Message r = parseOrDie(Message::responseTo(request, status, reason, to_tag).serialize());
  r.setOrigin(udpFrom("192.168.1.20", 5060));
  return r;
}

inline const Destination kPhoneUdp{Transport::kUdp, {"192.168.1.20", 5060}, 0, {}};
inline const Destination kPhoneTcp{Transport::kTcp, {"192.168.1.20", 5060}, 42, {}};

class TransactionTest : public ::testing::Test {
 protected:
  TransactionTest() { reset({}); }

  void reset(TransactionTimers timers) {
    layer_.reset();
    layer_ = std::make_unique<TransactionLayer>(clock, transport, tu, timers);
    t0 = clock.now();
  }
  TransactionLayer& layer() { return *layer_; }

  // Acts like the SIP loop: fires each deadline at its time, up to `until`.
  void runUntil(Clock::TimePoint until) {
    while (auto next = layer_->nextDeadline()) {
      if (*next > until) break;
      if (*next > clock.now()) clock.set(*next);
      layer_->onTimer(clock.now());
    }
    if (until > clock.now()) clock.set(until);
  }
  void runFor(milliseconds d) { runUntil(clock.now() + d); }
  void runTo(milliseconds since_t0) { runUntil(t0 + since_t0); }

  Inbound deliver(Message m) {
    auto r = layer_->onMessage(std::move(m));
    EXPECT_TRUE(r.ok()) << r.error().reason;
    return r.ok() ? *r : Inbound::kStrayResponse;
  }

  // Send times (relative to t0) of sent messages that satisfy `pred`.
  std::vector<milliseconds> sendTimes(const std::function<bool(const Message&)>& pred) const {
    std::vector<milliseconds> out;
    for (const auto& s : transport.sent) {
      if (pred(s.message)) {
        out.push_back(std::chrono::duration_cast<milliseconds>(s.at - t0));
      }
    }
    return out;
  }
  static bool isRequest(const Message& m) { return m.isRequest() && m.method() != Method::kAck; }
  static bool isAck(const Message& m) { return m.isRequest() && m.method() == Method::kAck; }
  static std::function<bool(const Message&)> status(int code) {
    return [code](const Message& m) { return m.isResponse() && m.statusCode() == code; };
  }

  ManualClock clock;
  FakeTransport transport{clock};
  FakeTu tu{clock};
  Clock::TimePoint t0;

 private:
  std::unique_ptr<TransactionLayer> layer_;
};

inline std::vector<milliseconds> ms(std::initializer_list<long> values) {
  std::vector<milliseconds> out;
  for (long v : values) out.push_back(milliseconds(v));
  return out;
}

}  // namespace duplex::sip::testing
