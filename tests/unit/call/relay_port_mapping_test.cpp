// RelayMediaSessions with a port mapper: behind a router whose UPnP budget
// does not cover the RTP range, a call's four relay ports are mapped while the
// call lives and released when it ends (issue: "mapped when the relay session
// is created, removed when it ends").
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "media/relay.h"
#include "nat/port_mapper.h"
#include "pbx/call/relay_media_sessions.h"

namespace duplex::call {
namespace {

class RecordingPortMapper final : public nat::PortMapper {
 public:
  void requestRtpPorts(std::uint64_t session, std::vector<std::uint16_t> ports,
                       Done /*done*/) override {
    requests.push_back({session, std::move(ports)});
  }
  void releaseRtpPorts(std::uint64_t session) override { releases.push_back(session); }

  struct Request {
    std::uint64_t session;
    std::vector<std::uint16_t> ports;
  };
  std::vector<Request> requests;
  std::vector<std::uint64_t> releases;
};

TEST(RelayPortMapping, TheFourPortsOfACallAreMappedWhileItLives) {
  media::RelayConfig config;
  config.bind_address = "127.0.0.1";
  config.port_min = 41000;
  config.port_max = 41999;
  media::MediaRelay relay(config);
  RecordingPortMapper mapper;
  {
    RelayMediaSessions sessions(relay, [](const MediaEvent&) {});
    sessions.mapPortsWith(&mapper);
    const MediaSessions::SessionId id = sessions.create("call-1");
    ASSERT_NE(id, 0u);
    ASSERT_EQ(mapper.requests.size(), 1u);
    EXPECT_EQ(mapper.requests[0].session, id);
    std::vector<std::uint16_t> ports = mapper.requests[0].ports;
    ASSERT_EQ(ports.size(), 4u);
    std::sort(ports.begin(), ports.end());
    for (std::uint16_t p : ports) EXPECT_TRUE(p >= 41000 && p <= 41999) << p;
    EXPECT_EQ(ports[0] % 2, 0);         // RTP even,
    EXPECT_EQ(ports[1], ports[0] + 1);  // RTCP next to it
    EXPECT_TRUE(mapper.releases.empty());

    sessions.release(id, {});
    EXPECT_EQ(mapper.releases, std::vector<std::uint64_t>{id});

    // A session still open when call control goes away is released too.
    const MediaSessions::SessionId open = sessions.create("call-2");
    ASSERT_NE(open, 0u);
    EXPECT_EQ(mapper.requests.size(), 2u);
  }
  // Each session released exactly once.
  EXPECT_EQ(mapper.releases,
            (std::vector<std::uint64_t>{mapper.requests[0].session, mapper.requests[1].session}));
}

// The "advertised" fact of each leg in the call record is the relay address
// and port in the SDP that leg received: a LAN phone was told the LAN
// address, a remote one the public address (the NAT lab found them swapped).
TEST(RelayFacts, EachLegRecordsTheAddressItsOwnSdpGaveIt) {
  media::RelayConfig config;
  config.bind_address = "127.0.0.1";
  config.port_min = 42000;
  config.port_max = 42999;
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<media::MediaEvent> events;
  media::MediaRelay relay(config, [&](const media::MediaEvent& e) {
    const std::lock_guard lock(mutex);
    events.push_back(e);
    changed.notify_all();
  });
  relay.start();
  RelayMediaSessions sessions(relay, [](const MediaEvent&) {});
  const MediaSessions::SessionId id = sessions.create("call-1");
  ASSERT_NE(id, 0u);
  auto sdp = [](const char* ip, int port) {
    return std::string("v=0\r\no=- 1 1 IN IP4 ") + ip + "\r\ns=-\r\nc=IN IP4 " + ip +
           "\r\nt=0 0\r\nm=audio " + std::to_string(port) + " RTP/AVP 0\r\n";
  };
  // c= address and m= port of an SDP, as "address:port".
  auto told = [](const std::string& body) {
    const auto c = body.find("c=IN IP4 ") + 9;
    const auto m = body.find("m=audio ") + 8;
    return body.substr(c, body.find('\r', c) - c) + ":" + body.substr(m, body.find(' ', m) - m);
  };
  // An office phone calls a remote worker: the offer goes out with the
  // public address, the answer comes back with the LAN address.
  const SdpRewrite offer =
      sessions.rewrite(id, CallSide::kCaller, sdp("10.77.0.21", 4000), "10.77.0.21", "203.0.113.1");
  ASSERT_TRUE(offer.ok()) << offer.reason;
  const SdpRewrite answer = sessions.rewrite(id, CallSide::kCallee, sdp("192.168.1.5", 5000),
                                             "198.51.100.7", "10.77.0.10");
  ASSERT_TRUE(answer.ok()) << answer.reason;

  std::optional<MediaSessions::Facts> facts;
  sessions.release(id, [&](MediaSessions::Facts f) { facts = std::move(f); });
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(5), [&] {
      return std::any_of(events.begin(), events.end(), [](const media::MediaEvent& e) {
        return e.kind == media::MediaEventKind::kFinalStats;
      });
    }));
  }
  for (const media::MediaEvent& e : events) sessions.onEvent(e);
  ASSERT_TRUE(facts.has_value());
  const std::string toCaller = told(answer.body);  // "10.77.0.10:<caller's relay port>"
  const std::string toCallee = told(offer.body);   // "203.0.113.1:<callee's relay port>"
  EXPECT_TRUE(toCaller.starts_with("10.77.0.10:")) << toCaller;
  EXPECT_TRUE(toCallee.starts_with("203.0.113.1:")) << toCallee;
  const auto a = facts->json.find("\"advertised\":\"" + toCaller + "\"");
  const auto b = facts->json.find("\"advertised\":\"" + toCallee + "\"");
  ASSERT_NE(a, std::string::npos) << facts->json;
  ASSERT_NE(b, std::string::npos) << facts->json;
  EXPECT_LT(a, b) << "leg a (caller) comes first: " << facts->json;
  relay.stop();
}

}  // namespace
}  // namespace duplex::call
