// B2bua::activeCalls(): what the admin status lists for the calls in
// progress — the caller's leg and one leg per ringing phone with their
// states, peers and addresses; only the answering phone once answered; the
// call gone after BYE. And RelayMediaSessions::collectStats(), which brings
// the relay's per-leg counters for them.
#include <condition_variable>
#include <deque>
#include <mutex>

#include "call_test_support.h"
#include "fakes/fake_trunk_directory.h"
#include "media/relay.h"
#include "pbx/call/relay_media_sessions.h"

namespace duplex::call::test {
namespace {

class Snapshot : public CallFixture {
 protected:
  static std::vector<sip::Message> invitesTo(const std::vector<Sent>& sent,
                                             const sip::Endpoint& to) {
    std::vector<sip::Message> out;
    for (const auto& s : sent) {
      if (s.to.endpoint == to && s.wire.rfind("INVITE ", 0) == 0) out.push_back(parse(s));
    }
    return out;
  }
};

TEST_F(Snapshot, RingingAnsweredAndGone) {
  EXPECT_TRUE(b2bua->activeCalls().empty());
  bind("102", kCalleePhone, "bob");
  bind("102", kRemotePhone, "bob-mobile");
  auto sent = authenticatedInvite(Invite{});
  auto lan = invitesTo(sent, kCalleePhone);
  auto wan = invitesTo(sent, kRemotePhone);
  ASSERT_EQ(lan.size(), 1u);
  ASSERT_EQ(wan.size(), 1u);

  auto calls = b2bua->activeCalls();
  ASSERT_EQ(calls.size(), 1u);
  const CallSnapshot& ringing = calls[0];
  EXPECT_EQ(ringing.state, "ringing");
  EXPECT_EQ(ringing.direction, "internal");
  EXPECT_EQ(ringing.trunk, "");
  EXPECT_EQ(ringing.caller, "101");
  EXPECT_EQ(ringing.dialled, "102");
  EXPECT_EQ(ringing.callee, "102");
  EXPECT_EQ(ringing.mediaSession, 1u);
  EXPECT_FALSE(ringing.answeredAt);
  ASSERT_EQ(ringing.legs.size(), 3u);
  const LegSnapshot& caller = ringing.legs[0];
  EXPECT_EQ(caller.side, "caller");
  EXPECT_EQ(caller.extension, "101");
  EXPECT_EQ(caller.callId, "call-1");
  EXPECT_EQ(caller.peer, "192.0.2.21:5062");
  EXPECT_EQ(caller.transport, "UDP");
  EXPECT_EQ(caller.advertised, "192.0.2.10");
  // One leg per phone of 102, nothing heard from either yet.
  std::map<std::string, LegSnapshot> callee;
  for (std::size_t i = 1; i < ringing.legs.size(); ++i) {
    callee[ringing.legs[i].peer] = ringing.legs[i];
  }
  ASSERT_EQ(callee.count("192.0.2.22:5064"), 1u);
  ASSERT_EQ(callee.count("198.51.100.7:40123"), 1u);
  EXPECT_EQ(callee["192.0.2.22:5064"].state, "trying");
  EXPECT_EQ(callee["192.0.2.22:5064"].advertised, "192.0.2.10");
  EXPECT_EQ(callee["198.51.100.7:40123"].advertised, "203.0.113.1");  // WAN phone: main address
  EXPECT_EQ(callee["192.0.2.22:5064"].callId, std::string(lan[0].callId().value_or("")));
  EXPECT_EQ(callee["192.0.2.22:5064"].extension, "102");

  deliver(responseTo(lan[0], 180, "Ringing", "lantag"), kCalleePhone);
  deliver(responseTo(wan[0], 486, "Busy Here", "wantag"), kRemotePhone);
  calls = b2bua->activeCalls();
  ASSERT_EQ(calls.size(), 1u);
  for (const auto& leg : calls[0].legs) {
    if (leg.peer == "192.0.2.22:5064") {
      EXPECT_EQ(leg.state, "ringing");
    }
    if (leg.peer == "198.51.100.7:40123") {
      EXPECT_EQ(leg.state, "failed");
      EXPECT_EQ(leg.status, 486);
      EXPECT_EQ(leg.reason, "Busy Here");
    }
  }

  advance(std::chrono::seconds(3));
  auto out = deliver(responseTo(lan[0], 200, "OK", "lantag", offerSdp("192.0.2.22", 5000),
                                "sip:bob@192.0.2.22:5064"),
                     kCalleePhone);
  const Sent* ok = findSent(out, "SIP/2.0 200 OK", &kCallerPhone);
  ASSERT_NE(ok, nullptr);
  calls = b2bua->activeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].state, "answered");
  ASSERT_TRUE(calls[0].answeredAt);
  EXPECT_EQ(*calls[0].answeredAt - calls[0].startedAt, 3);
  ASSERT_EQ(calls[0].legs.size(), 2u);  // the phone that answered only
  EXPECT_EQ(calls[0].legs[0].state, "answered");
  EXPECT_EQ(calls[0].legs[1].state, "answered");
  EXPECT_EQ(calls[0].legs[1].peer, "192.0.2.22:5064");

  const std::string from = "\"Alice\" <sip:101@pbx.test>;tag=calltag1";
  const std::string to(*parse(*ok).header(sip::HeaderId::kTo));
  deliver(inDialogRequest("ACK", "sip:102@192.0.2.10:5060", from, to, "call-1", 2,
                          kCallerPhone.toString()),
          kCallerPhone);
  deliver(inDialogRequest("BYE", "sip:102@192.0.2.10:5060", from, to, "call-1", 3,
                          kCallerPhone.toString()),
          kCallerPhone);
  EXPECT_TRUE(b2bua->activeCalls().empty());
}

TEST_F(Snapshot, RejectedCallIsNeverListed) {
  auto sent = authenticatedInvite(Invite{});  // 102 has no phone: 480
  EXPECT_NE(findSent(sent, "SIP/2.0 480"), nullptr);
  EXPECT_TRUE(b2bua->activeCalls().empty());
}

// Calls through a trunk say so: outbound with the number the provider got,
// inbound with the caller ID and the DID; the provider is the trunk side's peer.
class TrunkSnapshot : public CallFixture {
 protected:
  TrunkSnapshot() {
    TrunkConfig main;
    main.id = 1;
    main.name = "main";
    main.host = "sip.main.example";
    main.username = "4930555";
    main.password = "prov-pass";
    trunks.trunkList = {main};
    OutboundRoute national;
    national.id = 10;
    national.name = "national";
    national.position = 1;
    national.pattern = "0Z.";
    national.trunkIds = {1};
    national.stripDigits = 1;
    national.prefix = "+49";
    trunks.routes = {national};
    trunks.numbers = {{1, "4930555100", "102", std::nullopt}};
    addresses.publish(resolveTrunks(trunks.trunkList, [](const std::string&, std::string&) {
      return std::vector<std::string>{"198.51.100.50"};
    }));
    b2bua->setTrunks(trunks, addresses);
  }
  fakes::FakeTrunkDirectory trunks;
  TrunkAddressCache addresses;
};

TEST_F(TrunkSnapshot, OutboundAndInboundCallsNameTheTrunk) {
  Invite out;
  out.to = "030123456";
  auto sent = authenticatedInvite(out);
  ASSERT_NE(findSent(sent, "INVITE sip:+4930123456@sip.main.example"), nullptr);
  auto calls = b2bua->activeCalls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].direction, "outbound");
  EXPECT_EQ(calls[0].trunk, "main");
  EXPECT_EQ((calls[0].caller + " " + calls[0].dialled + " " + calls[0].callee),
            "101 030123456 +4930123456");
  ASSERT_EQ(calls[0].legs.size(), 2u);
  EXPECT_EQ(calls[0].legs[1].peer, "198.51.100.50:5060");
  EXPECT_EQ(calls[0].legs[1].advertised, "203.0.113.1");  // the provider gets the public address

  bind("102", kCalleePhone, "bob");
  const std::string body = offerSdp("198.51.100.50", 30000);
  std::string in = "INVITE sip:4930555100@203.0.113.1 SIP/2.0\r\n";
  in += "Via: SIP/2.0/UDP 198.51.100.50:5060;branch=z9hG4bKin1\r\nMax-Forwards: 70\r\n";
  in += "From: <sip:+441234567@sip.main.example>;tag=prov1\r\n";
  in += "To: <sip:4930555100@203.0.113.1>\r\nCall-ID: in-1\r\nCSeq: 1 INVITE\r\n";
  in += "Contact: <sip:gw@198.51.100.50:5060>\r\nContent-Type: application/sdp\r\n";
  in += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  sent = deliver(in, sip::Endpoint{"198.51.100.50", 5060});
  ASSERT_NE(findSent(sent, "INVITE ", &kCalleePhone), nullptr);
  calls = b2bua->activeCalls();
  ASSERT_EQ(calls.size(), 2u);
  const CallSnapshot& inbound = calls[1];
  EXPECT_EQ(inbound.direction, "inbound");
  EXPECT_EQ(inbound.trunk, "main");
  EXPECT_EQ((inbound.caller + " " + inbound.dialled + " " + inbound.callee),
            "+441234567 4930555100 102");
  EXPECT_EQ(inbound.legs[0].peer, "198.51.100.50:5060");
  EXPECT_EQ(inbound.legs[1].peer, "192.0.2.22:5064");
  EXPECT_EQ(b2bua->activeCalls()[0].direction, "outbound");
}

// The relay's events arrive on its thread; the test plays the SIP loop and
// hands them to RelayMediaSessions::onEvent() one by one.
class EventQueue {
 public:
  void push(const media::MediaEvent& e) {
    std::lock_guard lock(mutex_);
    events_.push_back(e);
    cv_.notify_all();
  }
  std::optional<media::MediaEvent> pop() {
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !events_.empty(); })) {
      return std::nullopt;
    }
    auto e = events_.front();
    events_.pop_front();
    return e;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<media::MediaEvent> events_;
};

TEST(RelayMediaSessionsStats, CollectsEachSessionOnceItAnsweredOrEnded) {
  media::RelayConfig config;
  config.bind_address = "127.0.0.1";
  config.port_min = static_cast<std::uint16_t>(43000 + (::getpid() % 100) * 20);
  config.port_max = static_cast<std::uint16_t>(config.port_min + 19);
  EventQueue queue;
  media::MediaRelay relay(config, [&](const media::MediaEvent& e) { queue.push(e); });
  relay.start();
  RelayMediaSessions sessions(relay, [](const MediaEvent&) {});
  const auto first = sessions.create("call-1");
  const auto second = sessions.create("call-2");
  ASSERT_NE(first, 0u);
  ASSERT_NE(second, 0u);
  auto offer = sessions.rewrite(first, CallSide::kCaller, offerSdp("127.0.0.1", 7000), "127.0.0.1",
                                "127.0.0.1");
  ASSERT_TRUE(offer.ok()) << offer.reason;

  bool called = false;
  RelayMediaSessions::LiveFactsBySession got;
  sessions.collectStats({first, second, 999}, [&](RelayMediaSessions::LiveFactsBySession f) {
    called = true;
    got = std::move(f);
  });
  EXPECT_FALSE(called);          // the relay answers on its thread
  sessions.release(second, {});  // ends meanwhile: its final statistics answer
  for (int i = 0; i < 4 && !called; ++i) {
    auto e = queue.pop();
    ASSERT_TRUE(e);
    sessions.onEvent(*e);
  }
  ASSERT_TRUE(called);
  ASSERT_EQ(got.size(), 2u);  // 999 is nobody's
  EXPECT_EQ(got.at(first).stats.a.sdp_address, "127.0.0.1:7000");
  EXPECT_EQ(got.at(first).diagnosis, "");
  EXPECT_EQ(got.count(second), 1u);

  // Nothing to ask: answered at once.
  called = false;
  sessions.collectStats({999}, [&](RelayMediaSessions::LiveFactsBySession f) {
    called = true;
    EXPECT_TRUE(f.empty());
  });
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace duplex::call::test
