// RelayMediaSessions with a port mapper: behind a router whose UPnP budget
// does not cover the RTP range, a call's four relay ports are mapped while the
// call lives and released when it ends (issue: "mapped when the relay session
// is created, removed when it ends").
#include <gtest/gtest.h>

#include <algorithm>
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

}  // namespace
}  // namespace duplex::call
