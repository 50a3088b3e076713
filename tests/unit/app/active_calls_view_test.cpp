// The admin status's active calls (pbx/app/active_calls_view.h): the JSON an
// admin reads (legs, states, per-leg media counters, the diagnosis), and the
// answers when call control cannot give one — never a hang.
#include <gtest/gtest.h>

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <thread>

#include "pbx/app/active_calls_view.h"

namespace duplex::app {
namespace {

Poco::JSON::Object::Ptr object(const std::string& text) {
  return Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
}

call::CallSnapshot answeredCall() {
  call::CallSnapshot c;
  c.id = 4;
  c.state = "answered";
  c.direction = "internal";
  c.caller = "101";
  c.dialled = "102";
  c.callee = "102";
  c.startedAt = 1000;
  c.answeredAt = 1003;
  c.mediaSession = 9;
  c.legs.push_back(
      {"caller", "answered", "101", "a@x", "192.0.2.21:5062", "UDP", "192.0.2.10", 0, ""});
  c.legs.push_back(
      {"callee", "answered", "102", "b@y", "198.51.100.7:40123", "UDP", "203.0.113.1", 0, ""});
  return c;
}

TEST(ActiveCallsJson, LegsWithTheirMediaCountersAndTheDiagnosis) {
  call::RelayMediaSessions::LiveFactsBySession media;
  auto& f = media[9];
  f.stats.a.rtp_packets_in = 250;
  f.stats.a.latched_source = "192.0.2.21:4000";
  f.stats.b.rtp_packets_out = 250;
  f.diagnosis = "the phone 102 at 198.51.100.7 never sent audio: its RTP port is not reachable";
  const std::string text = activeCallsToJson({answeredCall()}, media, 1010);
  auto calls = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(calls->size(), 1u);
  auto call = calls->getObject(0);
  EXPECT_EQ(call->getValue<int>("id"), 4);
  EXPECT_EQ(call->getValue<std::string>("state"), "answered");
  EXPECT_EQ(call->getValue<std::string>("direction"), "internal");
  EXPECT_EQ(call->getValue<std::string>("trunk"), "");
  EXPECT_EQ(call->getValue<int>("answered_at"), 1003);
  EXPECT_EQ(call->getValue<int>("duration_s"), 10);
  EXPECT_EQ(call->getValue<std::string>("audio"), "caller_only");
  EXPECT_EQ(call->getValue<std::string>("diagnosis"), f.diagnosis);
  auto legs = call->getArray("legs");
  ASSERT_EQ(legs->size(), 2u);
  auto caller = legs->getObject(0);
  EXPECT_EQ(caller->getValue<std::string>("peer"), "192.0.2.21:5062");
  EXPECT_TRUE(caller->isNull("status"));
  EXPECT_EQ(caller->getObject("media")->getValue<int>("rtp_packets_in"), 250);
  EXPECT_EQ(caller->getObject("media")->getValue<std::string>("latched_source"), "192.0.2.21:4000");
  auto callee = legs->getObject(1);
  EXPECT_EQ(callee->getValue<std::string>("advertised"), "203.0.113.1");
  EXPECT_EQ(callee->getObject("media")->getValue<int>("rtp_packets_in"), 0);
  EXPECT_EQ(callee->getObject("media")->getValue<int>("rtp_packets_out"), 250);
}

TEST(ActiveCallsJson, WithoutMediaFactsSaysUnknown) {
  const std::string text = activeCallsToJson({answeredCall()}, {}, 1010);
  auto call = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>()->getObject(0);
  EXPECT_EQ(call->getValue<std::string>("audio"), "unknown");
  EXPECT_TRUE(call->isNull("diagnosis"));
  EXPECT_TRUE(call->getArray("legs")->getObject(0)->isNull("media"));
  EXPECT_EQ(activeCallsToJson({}, {}, 0), "[]");
}

TEST(ActiveCallsView, LoopNotRunningOrSilentOrWithoutCallControlIsNotAvailable) {
  SipActiveCallsView stopped([](auto) { return false; });
  EXPECT_EQ(object(stopped.activeCallsJson())->getValue<std::string>("detail"),
            "the SIP loop is not running");
  // A loop that takes the request but never answers (busy): the admin thread
  // gives up after the timeout instead of hanging.
  std::function<void(ActiveCallsAnswer)> kept;
  SipActiveCallsView busy(
      [&](std::function<void(ActiveCallsAnswer)> deliver) {
        kept = std::move(deliver);
        return true;
      },
      std::chrono::milliseconds(20));
  auto answer = object(busy.activeCallsJson());
  EXPECT_FALSE(answer->getValue<bool>("available"));
  EXPECT_EQ(answer->getValue<std::string>("detail"),
            "call control did not answer within 20 ms (busy); try again");
  kept(ActiveCallsAnswer{});  // a late answer after the admin gave up is harmless
  SipActiveCallsView none([](std::function<void(ActiveCallsAnswer)> deliver) {
    deliver(ActiveCallsAnswer{false, {}, {}});
    return true;
  });
  EXPECT_EQ(object(none.activeCallsJson())->getValue<std::string>("detail"),
            "call control is not running (no database)");
}

// The answer comes from another thread (the SIP loop), as in the daemon.
TEST(ActiveCallsView, AnswerFromTheLoopThreadIsRendered) {
  std::vector<std::thread> loop;
  SipActiveCallsView view([&](std::function<void(ActiveCallsAnswer)> deliver) {
    loop.emplace_back([deliver] { deliver(ActiveCallsAnswer{true, {answeredCall()}, {}}); });
    return true;
  });
  const std::string text = view.activeCallsJson();
  for (auto& t : loop) t.join();
  auto calls = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Array::Ptr>();
  ASSERT_EQ(calls->size(), 1u);
  EXPECT_EQ(calls->getObject(0)->getValue<std::string>("caller"), "101");
}

// Many admin requests at once (dashboards, a benchmark) cost the SIP loop
// one snapshot per 250 ms, not one each; "not available" is never reused.
TEST(ActiveCallsView, AnAnswerIsReusedBrieflySoAdminRequestsDoNotFloodTheSipLoop) {
  int asked = 0;
  bool callControl = false;
  SipActiveCallsView view(
      [&](std::function<void(ActiveCallsAnswer)> deliver) {
        ++asked;
        deliver(ActiveCallsAnswer{callControl, {}, {}});
        return true;
      },
      std::chrono::seconds(1), std::chrono::hours(1));
  view.activeCallsJson();
  view.activeCallsJson();
  EXPECT_EQ(asked, 2);  // not available: asked again each time
  callControl = true;
  EXPECT_EQ(view.activeCallsJson(), "[]");
  EXPECT_EQ(view.activeCallsJson(), "[]");
  EXPECT_EQ(asked, 3);
  SipActiveCallsView fresh(
      [&](std::function<void(ActiveCallsAnswer)> deliver) {
        ++asked;
        deliver(ActiveCallsAnswer{true, {}, {}});
        return true;
      },
      std::chrono::seconds(1), std::chrono::milliseconds(0));
  fresh.activeCallsJson();
  fresh.activeCallsJson();
  EXPECT_EQ(asked, 5);  // maxAge 0: every request asks
}

}  // namespace
}  // namespace duplex::app
