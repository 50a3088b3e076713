// NAT facts of a binding and what the location service returns: the
// behind-NAT decision, "send to" vs request URI, phones sharing one NAT.
#include <gtest/gtest.h>

#include "fakes/fake_binding_repository.h"
#include "registrar/binding_sink.h"
#include "registrar/nat_detect.h"
#include "registrar/registrar.h"

namespace duplex::registrar {
namespace {

const Instant kT0 = instantFromUnixSeconds(1'700'000'000);

RegistrationRequest phone(std::int64_t ext, const std::string& contactHost,
                          std::uint16_t contactPort, Endpoint source,
                          Transport transport = Transport::udp) {
  RegistrationRequest r;
  r.extensionId = ext;
  r.aor = "sip:" + std::to_string(ext) + "@pbx";
  RequestContact c;
  c.uri = "sip:" + std::to_string(ext) + "@" + contactHost + ":" + std::to_string(contactPort);
  c.host = contactHost;
  c.port = contactPort;
  r.contacts = {c};
  r.expiresHeader = 3600;
  r.callId = "call-" + std::to_string(ext);
  r.cseq = 1;
  r.transport = transport;
  r.local = {"198.51.100.1", 5060};
  r.source = std::move(source);
  r.viaHost = contactHost;
  r.viaPort = contactPort;
  r.userAgent = "Grandstream GXP2170";
  return r;
}

class LocationNatTest : public ::testing::Test {
 protected:
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  Registrar registrar{RegistrarConfig{}, sink};
};

TEST(LocationNatDetectTest, PrivateAddresses) {
  for (const char* p : {"10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.0.10", "100.64.0.1",
                        "169.254.1.1", "127.0.0.1", "fd00::1", "[fe80::1]", "::1"}) {
    EXPECT_TRUE(isPrivateAddress(p)) << p;
  }
  for (const char* p : {"172.32.0.1", "8.8.8.8", "203.0.113.7", "2001:db8::1", "pbx.example.com",
                        "", "192.168.1"}) {
    EXPECT_FALSE(isPrivateAddress(p)) << p;
  }
}

TEST_F(LocationNatTest, PrivateContactWithPublicSourceIsBehindNat) {
  RegistrationDecision d =
      registrar.registerBindings(phone(101, "192.168.1.20", 5060, {"203.0.113.7", 5060}), kT0);
  EXPECT_TRUE(d.contacts[0].behindNat);
  EXPECT_TRUE(registrar.lookup(101, kT0)[0].behindNat);
}

TEST_F(LocationNatTest, PrivateViaWithPublicSourceIsBehindNat) {
  // A phone behind a SIP ALG that rewrote the Contact but not the Via.
  RegistrationRequest r = phone(101, "203.0.113.7", 5060, {"203.0.113.7", 5060});
  r.viaHost = "10.0.0.5";
  EXPECT_TRUE(registrar.registerBindings(r, kT0).contacts[0].behindNat);
}

TEST_F(LocationNatTest, ContactPortDifferingFromSourcePortIsBehindNat) {
  // Public address in the Contact (STUN), but the NAT changed the port.
  RegistrationDecision d =
      registrar.registerBindings(phone(101, "203.0.113.7", 5060, {"203.0.113.7", 61000}), kT0);
  EXPECT_TRUE(d.contacts[0].behindNat);
}

TEST_F(LocationNatTest, LanPhoneIsNotBehindNat) {
  RegistrationDecision d =
      registrar.registerBindings(phone(101, "192.168.1.20", 5060, {"192.168.1.20", 5060}), kT0);
  EXPECT_FALSE(d.contacts[0].behindNat);
  EXPECT_EQ(registrar.stats().keepAlivesScheduled, 0u);
}

TEST_F(LocationNatTest, PublicPhoneWithMatchingContactIsNotBehindNat) {
  RegistrationDecision d =
      registrar.registerBindings(phone(101, "203.0.113.7", 5060, {"203.0.113.7", 5060}), kT0);
  EXPECT_FALSE(d.contacts[0].behindNat);
}

TEST_F(LocationNatTest, TcpEphemeralSourcePortAloneIsNotNat) {
  RegistrationRequest r = phone(101, "192.168.1.20", 5060, {"192.168.1.20", 49152}, Transport::tcp);
  r.connectionId = 9;
  EXPECT_FALSE(registrar.registerBindings(r, kT0).contacts[0].behindNat);
}

TEST_F(LocationNatTest, SendToIsTheSourceAndRequestUriTheContact) {
  RegistrationRequest r = phone(101, "192.168.1.20", 5060, {"203.0.113.7", 40001});
  r.local = {"198.51.100.1", 5070};
  registrar.registerBindings(r, kT0);
  std::vector<Location> l = registrar.lookup(101, kT0);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].requestUri, "sip:101@192.168.1.20:5060");
  EXPECT_EQ(l[0].sendTo.transport, Transport::udp);
  EXPECT_EQ(l[0].sendTo.destination, (Endpoint{"203.0.113.7", 40001}));
  EXPECT_EQ(l[0].sendTo.local, (Endpoint{"198.51.100.1", 5070}));
  EXPECT_FALSE(l[0].sendTo.connectionId.has_value());
  EXPECT_EQ(l[0].expires, 3600u);
}

TEST_F(LocationNatTest, TcpNatedPhoneIsReachedOverItsConnection) {
  RegistrationRequest r = phone(101, "192.168.1.20", 5060, {"203.0.113.7", 50123}, Transport::tcp);
  r.connectionId = 77;
  registrar.registerBindings(r, kT0);
  std::vector<Location> l = registrar.lookup(101, kT0);
  ASSERT_EQ(l.size(), 1u);
  EXPECT_TRUE(l[0].behindNat);
  EXPECT_EQ(l[0].sendTo.transport, Transport::tcp);
  EXPECT_EQ(l[0].sendTo.connectionId, 77);
  EXPECT_EQ(l[0].sendTo.destination, (Endpoint{"203.0.113.7", 50123}));
  EXPECT_EQ(registrar.stats().keepAlivesScheduled, 0u);  // TCP: the phone keeps it alive
}

TEST_F(LocationNatTest, TwoPhonesBehindOneNatOn5060AreSeparateBindings) {
  // Same extension on two desks, same private port, one public IP.
  RegistrationRequest a = phone(101, "192.168.1.20", 5060, {"203.0.113.7", 1024});
  RegistrationRequest b = phone(101, "192.168.1.21", 5060, {"203.0.113.7", 1025});
  b.callId = "other-call";
  registrar.registerBindings(a, kT0);
  registrar.registerBindings(b, kT0 + std::chrono::seconds(1));
  // And another extension on a third phone behind the same NAT.
  registrar.registerBindings(phone(102, "192.168.1.20", 5060, {"203.0.113.7", 1026}), kT0);
  std::vector<Location> l = registrar.lookup(101, kT0 + std::chrono::seconds(1));
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].sendTo.destination.port, 1025);
  EXPECT_EQ(l[1].sendTo.destination.port, 1024);
  ASSERT_EQ(registrar.lookup(102, kT0).size(), 1u);
  EXPECT_EQ(registrar.lookup(102, kT0)[0].sendTo.destination.port, 1026);
  EXPECT_EQ(registrar.stats().bindings, 3u);
  EXPECT_EQ(registrar.stats().behindNat, 3u);
  EXPECT_EQ(repo.size(), 3u);
}

TEST_F(LocationNatTest, UnknownExtensionHasNoLocations) {
  EXPECT_TRUE(registrar.lookup(999, kT0).empty());
}

TEST(LocationNatCapTest, NatExpiryCapAppliesOnlyToNatedBindings) {
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  RegistrarConfig config;
  config.natMaxExpires = 120;
  Registrar registrar{config, sink};
  RegistrationDecision nat =
      registrar.registerBindings(phone(101, "192.168.1.20", 5060, {"203.0.113.7", 40001}), kT0);
  EXPECT_EQ(nat.contacts[0].expires, 120u);
  EXPECT_EQ(nat.bindings[0].expires, 120u);
  RegistrationDecision lan =
      registrar.registerBindings(phone(102, "192.168.1.20", 5060, {"192.168.1.20", 5060}), kT0);
  EXPECT_EQ(lan.contacts[0].expires, 3600u);
}

TEST(LocationNatCapTest, CapIsOffByDefault) {
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  Registrar registrar{RegistrarConfig{}, sink};
  RegistrationDecision nat =
      registrar.registerBindings(phone(101, "192.168.1.20", 5060, {"203.0.113.7", 40001}), kT0);
  EXPECT_EQ(nat.contacts[0].expires, 3600u);
}

}  // namespace
}  // namespace duplex::registrar
