// Persistence hooks: changes reach the sink, start-up loads unexpired bindings
// with their remaining expiry, expire() purges and reports. Plus a rough
// memory measurement (reported, not asserted).
#include <gtest/gtest.h>

#include <malloc.h>

#include <cstdio>

#include <memory>

#include "fakes/fake_binding_repository.h"
#include "registrar/binding_sink.h"
#include "registrar/registrar.h"

namespace duplex::registrar {
namespace {

const Instant kT0 = instantFromUnixSeconds(1'700'000'000);

// Records every change set, and writes it through like the real writer.
class RecordingSink final : public BindingSink {
 public:
  explicit RecordingSink(db::BindingRepository& repo) : through_(repo) {}
  void onBindingsChanged(std::span<const db::BindingRecord> upserts,
                         std::span<const db::BindingKey> removals) override {
    ++calls;
    this->upserts.insert(this->upserts.end(), upserts.begin(), upserts.end());
    this->removals.insert(this->removals.end(), removals.begin(), removals.end());
    through_.onBindingsChanged(upserts, removals);
  }
  int calls = 0;
  std::vector<db::BindingRecord> upserts;
  std::vector<db::BindingKey> removals;

 private:
  RepositoryBindingSink through_;
};

RegistrationRequest natRequest(std::int64_t ext, std::string uri, std::uint32_t expires,
                               std::string sourceIp = "203.0.113.7",
                               std::uint16_t sourcePort = 40001) {
  RegistrationRequest r;
  r.extensionId = ext;
  r.aor = "sip:" + std::to_string(ext) + "@pbx.example.com";
  RequestContact c;
  c.uri = std::move(uri);
  c.host = "192.168.1.20";
  c.port = 5060;
  r.contacts = {c};
  r.expiresHeader = expires;
  r.callId = "a84b4c76e66710@192.168.1.20";
  r.cseq = 1;
  r.local = {"198.51.100.1", 5060};
  r.source = {std::move(sourceIp), sourcePort};
  r.viaHost = "192.168.1.20";
  r.viaPort = 5060;
  r.userAgent = "Yealink SIP-T46S 66.86.0.15";
  return r;
}

TEST(RegistrarPersistenceTest, UpsertCarriesEveryNatFact) {
  fakes::FakeBindingRepository repo;
  RecordingSink sink{repo};
  Registrar registrar{RegistrarConfig{}, sink};
  RegistrationRequest r = natRequest(7, "sip:7@192.168.1.20:5060", 600);
  r.contacts[0].q = 0.5;
  r.contacts[0].instanceId = "<urn:uuid:abc>";
  registrar.registerBindings(r, kT0 + std::chrono::milliseconds(250));
  ASSERT_EQ(sink.upserts.size(), 1u);
  const db::BindingRecord& b = sink.upserts[0];
  EXPECT_EQ(b.extensionId, 7);
  EXPECT_EQ(b.aor, "sip:7@pbx.example.com");
  EXPECT_EQ(b.contactUri, "sip:7@192.168.1.20:5060");
  EXPECT_EQ(b.instanceId, "<urn:uuid:abc>");
  EXPECT_EQ(b.callId, r.callId);
  EXPECT_EQ(b.cseq, 1u);
  EXPECT_EQ(b.q, 0.5);
  EXPECT_EQ(b.transport, "udp");
  EXPECT_EQ(b.localIp, "198.51.100.1");
  EXPECT_EQ(b.localPort, 5060);
  EXPECT_EQ(b.sourceIp, "203.0.113.7");
  EXPECT_EQ(b.sourcePort, 40001);
  EXPECT_TRUE(b.behindNat);
  EXPECT_EQ(b.userAgent, "Yealink SIP-T46S 66.86.0.15");
  EXPECT_FALSE(b.connectionId.has_value());
  // Stored expiry rounds up: never earlier than what the phone was told.
  EXPECT_EQ(b.expiresAt, 1'700'000'000 + 601);
  EXPECT_EQ(b.updatedAt, 1'700'000'000);
  EXPECT_EQ(repo.size(), 1u);
}

TEST(RegistrarPersistenceTest, LoadsUnexpiredBindingsWithRemainingExpiry) {
  fakes::FakeBindingRepository repo;
  {
    RecordingSink sink{repo};
    Registrar before{RegistrarConfig{}, sink};
    before.registerBindings(natRequest(1, "sip:1@192.168.1.20", 600), kT0);
    before.registerBindings(natRequest(2, "sip:2@192.168.1.20", 60), kT0);
    RegistrationRequest tcp = natRequest(3, "sip:3@192.168.1.30;transport=tcp", 3600);
    tcp.transport = Transport::tcp;
    tcp.connectionId = 42;
    before.registerBindings(tcp, kT0);
  }
  ASSERT_EQ(repo.size(), 3u);
  RecordingSink sink{repo};
  Registrar after{RegistrarConfig{}, sink};
  const Instant restart = kT0 + std::chrono::seconds(100);
  EXPECT_EQ(after.loadFrom(repo, restart), 2u);  // extension 2 expired meanwhile
  EXPECT_EQ(sink.calls, 0);
  std::vector<Location> one = after.lookup(1, restart);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].expires, 500u);
  EXPECT_EQ(one[0].sendTo.destination, (Endpoint{"203.0.113.7", 40001}));
  EXPECT_TRUE(one[0].behindNat);
  EXPECT_TRUE(after.lookup(2, restart).empty());
  std::vector<Location> three = after.lookup(3, restart);
  ASSERT_EQ(three.size(), 1u);
  EXPECT_EQ(three[0].sendTo.transport, Transport::tcp);
  EXPECT_FALSE(three[0].sendTo.connectionId.has_value());  // old process's socket
  // The NATed UDP binding is pinged again after the restart.
  EXPECT_EQ(after.stats().keepAlivesScheduled, 1u);
  // A refresh after the restart keeps one binding.
  RegistrationRequest again = natRequest(1, "sip:1@192.168.1.20", 600);
  again.cseq = 2;
  EXPECT_EQ(after.registerBindings(again, restart).bindings.size(), 1u);
}

TEST(RegistrarPersistenceTest, ExpireRemovesAndReportsToTheSink) {
  fakes::FakeBindingRepository repo;
  RecordingSink sink{repo};
  Registrar registrar{RegistrarConfig{}, sink};
  registrar.registerBindings(natRequest(1, "sip:1@192.168.1.20", 60), kT0);
  registrar.registerBindings(natRequest(2, "sip:2@192.168.1.20", 120), kT0);
  const int callsBefore = sink.calls;
  EXPECT_EQ(registrar.expire(kT0 + std::chrono::seconds(59)), 0u);
  EXPECT_EQ(sink.calls, callsBefore);
  // Still listed a millisecond before expiry, gone at it even before expire().
  EXPECT_EQ(registrar.lookup(1, kT0 + std::chrono::milliseconds(59'999)).size(), 1u);
  EXPECT_TRUE(registrar.lookup(1, kT0 + std::chrono::seconds(60)).empty());
  EXPECT_EQ(registrar.expire(kT0 + std::chrono::seconds(60)), 1u);
  EXPECT_EQ(sink.calls, callsBefore + 1);
  ASSERT_EQ(sink.removals.size(), 1u);
  EXPECT_EQ(sink.removals[0], (db::BindingKey{1, "sip:1@192.168.1.20"}));
  EXPECT_EQ(repo.size(), 1u);
  RegistrarStats s = registrar.stats();
  EXPECT_EQ(s.bindings, 1u);
  EXPECT_EQ(s.expired, 1u);
  EXPECT_EQ(s.keepAlivesScheduled, 1u);  // the expired one's ping is gone too
}

TEST(RegistrarPersistenceTest, EachRegisterIsOneChangeSet) {
  fakes::FakeBindingRepository repo;
  RecordingSink sink{repo};
  Registrar registrar{RegistrarConfig{}, sink};
  RegistrationRequest r = natRequest(1, "sip:a@192.168.1.20", 600);
  RequestContact b = r.contacts[0];
  b.uri = "sip:b@192.168.1.20";
  r.contacts.push_back(b);
  registrar.registerBindings(r, kT0);
  EXPECT_EQ(sink.calls, 1);
  EXPECT_EQ(repo.upsertCalls, 1);
  EXPECT_EQ(sink.upserts.size(), 2u);
}

// Rough memory use: 10,000 NATed bindings with realistic string lengths.
// Reports bytes per binding; the only assertion is the 10 MB budget.
TEST(RegistrarMemoryTest, TenThousandBindingsBytesPerBinding) {
  struct NullSink final : BindingSink {
    void onBindingsChanged(std::span<const db::BindingRecord>,
                           std::span<const db::BindingKey>) override {}
  } sink;
  const std::size_t before = mallinfo2().uordblks;
  auto registrar = std::make_unique<Registrar>(RegistrarConfig{}, sink);
  constexpr int kBindings = 10'000;
  for (int i = 0; i < kBindings; ++i) {
    const std::int64_t ext = 1000 + i;
    RegistrationRequest r =
        natRequest(ext, "sip:" + std::to_string(ext) + "@192.168.1.20:5060;transport=udp", 3600,
                   "203.0.113.7", static_cast<std::uint16_t>(20000 + i));
    r.contacts[0].instanceId =
        "<urn:uuid:f81d4fae-7dec-11d0-a765-00a0c9" + std::to_string(100000 + i) + ">";
    r.callId = "3c26700857f8-" + std::to_string(i) + "@192.168.1.20";
    registrar->registerBindings(r, kT0);
  }
  const std::size_t after = mallinfo2().uordblks;
  ASSERT_EQ(registrar->stats().bindings, static_cast<std::size_t>(kBindings));
  const double perBinding = static_cast<double>(after - before) / kBindings;
  std::printf("[ memory   ] %d bindings: %.0f bytes per binding, %.2f MB total\n", kBindings,
              perBinding, static_cast<double>(after - before) / (1024.0 * 1024.0));
  RecordProperty("bytes_per_binding", static_cast<int>(perBinding));
  EXPECT_LT(after - before, 10u * 1024 * 1024);
}

}  // namespace
}  // namespace duplex::registrar
