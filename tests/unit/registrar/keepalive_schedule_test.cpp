// Keep-alive schedule for NATed UDP bindings: when pings are due, where they
// go, removal after M consecutive failures, reset on an answer.
#include <gtest/gtest.h>

#include "fakes/fake_binding_repository.h"
#include "registrar/binding_sink.h"
#include "registrar/registrar.h"

namespace duplex::registrar {
namespace {

using std::chrono::seconds;
const Instant kT0 = instantFromUnixSeconds(1'700'000'000);

RegistrationRequest natPhone(std::int64_t ext, std::uint16_t sourcePort,
                             Transport transport = Transport::udp) {
  RegistrationRequest r;
  r.extensionId = ext;
  r.aor = "sip:" + std::to_string(ext) + "@pbx";
  RequestContact c;
  c.uri = "sip:" + std::to_string(ext) + "@192.168.1.20:5060";
  c.host = "192.168.1.20";
  c.port = 5060;
  r.contacts = {c};
  r.expiresHeader = 3600;
  r.callId = "call-" + std::to_string(ext);
  r.cseq = 1;
  r.transport = transport;
  r.local = {"198.51.100.1", 5062};
  r.source = {"203.0.113.7", sourcePort};
  r.viaHost = "192.168.1.20";
  r.viaPort = 5060;
  return r;
}

class KeepAliveTest : public ::testing::Test {
 protected:
  KeepAliveTest() { config.keepAliveIntervalSeconds = 25; }
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  RegistrarConfig config;
  std::unique_ptr<Registrar> registrar = std::make_unique<Registrar>(config, sink);
};

TEST_F(KeepAliveTest, NatedUdpBindingIsPingedEveryInterval) {
  registrar->registerBindings(natPhone(101, 40001), kT0);
  EXPECT_EQ(registrar->nextKeepAliveAt(), kT0 + seconds(25));
  EXPECT_TRUE(registrar->due(kT0 + seconds(24)).empty());
  std::vector<KeepAlive> k = registrar->due(kT0 + seconds(25));
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].kind, KeepAliveKind::options);
  EXPECT_EQ(k[0].sendTo.destination, (Endpoint{"203.0.113.7", 40001}));
  EXPECT_EQ(k[0].sendTo.local, (Endpoint{"198.51.100.1", 5062}));  // same socket
  EXPECT_EQ(k[0].requestUri, "sip:101@192.168.1.20:5060");
  EXPECT_TRUE(registrar->due(kT0 + seconds(26)).empty());
  EXPECT_EQ(registrar->nextKeepAliveAt(), kT0 + seconds(50));
  EXPECT_EQ(registrar->due(kT0 + seconds(50)).size(), 1u);
  EXPECT_EQ(registrar->stats().keepAlivesSent, 2u);
}

TEST_F(KeepAliveTest, LateTimerSendsOnePingNotABurst) {
  registrar->registerBindings(natPhone(101, 40001), kT0);
  EXPECT_EQ(registrar->due(kT0 + seconds(120)).size(), 1u);
  EXPECT_EQ(registrar->nextKeepAliveAt(), kT0 + seconds(145));
}

TEST_F(KeepAliveTest, LanAndTcpBindingsAreNotPinged) {
  RegistrationRequest lan = natPhone(101, 5060);
  lan.source = {"192.168.1.20", 5060};
  registrar->registerBindings(lan, kT0);
  RegistrationRequest tcp = natPhone(102, 50000, Transport::tcp);
  tcp.connectionId = 3;
  registrar->registerBindings(tcp, kT0);
  EXPECT_FALSE(registrar->nextKeepAliveAt().has_value());
  EXPECT_TRUE(registrar->due(kT0 + seconds(3600)).empty());
}

TEST_F(KeepAliveTest, IntervalAndKindAreConfigurable) {
  config.keepAliveIntervalSeconds = 5;
  config.keepAliveKind = KeepAliveKind::crlf;
  Registrar fast{config, sink};
  fast.registerBindings(natPhone(101, 40001), kT0);
  std::vector<KeepAlive> k = fast.due(kT0 + seconds(5));
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0].kind, KeepAliveKind::crlf);
}

TEST_F(KeepAliveTest, RemovedAfterThreeConsecutiveFailures) {
  registrar->registerBindings(natPhone(101, 40001), kT0);
  const BindingId id = registrar->due(kT0 + seconds(25)).at(0).id;
  EXPECT_FALSE(registrar->keepAliveFailed(id));
  EXPECT_FALSE(registrar->keepAliveFailed(id));
  EXPECT_EQ(repo.size(), 1u);
  EXPECT_TRUE(registrar->keepAliveFailed(id));
  EXPECT_TRUE(registrar->lookup(101, kT0 + seconds(80)).empty());
  EXPECT_EQ(repo.size(), 0u);  // reported to the sink
  EXPECT_FALSE(registrar->nextKeepAliveAt().has_value());
  EXPECT_FALSE(registrar->keepAliveFailed(id));  // late report: ignored
  RegistrarStats s = registrar->stats();
  EXPECT_EQ(s.removedByKeepAlive, 1u);
  EXPECT_EQ(s.keepAlivesFailed, 3u);
}

TEST_F(KeepAliveTest, AnswerResetsTheFailureCount) {
  registrar->registerBindings(natPhone(101, 40001), kT0);
  const BindingId id = registrar->due(kT0 + seconds(25)).at(0).id;
  registrar->keepAliveFailed(id);
  registrar->keepAliveFailed(id);
  registrar->keepAliveAnswered(id);
  EXPECT_FALSE(registrar->keepAliveFailed(id));
  EXPECT_FALSE(registrar->keepAliveFailed(id));
  EXPECT_EQ(registrar->lookup(101, kT0 + seconds(30)).size(), 1u);
  EXPECT_TRUE(registrar->keepAliveFailed(id));
}

TEST_F(KeepAliveTest, RefreshResetsFailuresAndMovesTheSchedule) {
  registrar->registerBindings(natPhone(101, 40001), kT0);
  const BindingId id = registrar->due(kT0 + seconds(25)).at(0).id;
  registrar->keepAliveFailed(id);
  registrar->keepAliveFailed(id);
  RegistrationRequest again = natPhone(101, 40001);
  again.cseq = 2;
  registrar->registerBindings(again, kT0 + seconds(40));
  EXPECT_EQ(registrar->nextKeepAliveAt(), kT0 + seconds(65));
  EXPECT_FALSE(registrar->keepAliveFailed(id));
}

TEST_F(KeepAliveTest, FailureLimitIsConfigurable) {
  config.keepAliveMaxFailures = 1;
  Registrar strict{config, sink};
  strict.registerBindings(natPhone(101, 40001), kT0);
  EXPECT_TRUE(strict.keepAliveFailed(strict.due(kT0 + seconds(25)).at(0).id));
}

TEST_F(KeepAliveTest, UnregisteredBindingIsNoLongerPinged) {
  registrar->registerBindings(natPhone(101, 40001), kT0);
  RegistrationRequest bye = natPhone(101, 40001);
  bye.cseq = 2;
  bye.contacts[0].expires = 0;
  registrar->registerBindings(bye, kT0 + seconds(1));
  EXPECT_TRUE(registrar->due(kT0 + seconds(30)).empty());
  EXPECT_EQ(registrar->stats().keepAlivesScheduled, 0u);
}

TEST_F(KeepAliveTest, ManyPhonesAreDueTogetherEachOnce) {
  for (int i = 0; i < 50; ++i) {
    registrar->registerBindings(natPhone(200 + i, static_cast<std::uint16_t>(30000 + i)), kT0);
  }
  EXPECT_EQ(registrar->due(kT0 + seconds(25)).size(), 50u);
  EXPECT_TRUE(registrar->due(kT0 + seconds(25)).empty());
}

}  // namespace
}  // namespace duplex::registrar
