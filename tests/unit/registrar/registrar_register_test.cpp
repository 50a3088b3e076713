// REGISTER policy (RFC 3261 10.3): add, refresh, remove, Expires rules,
// "Contact: *", limits, q, CSeq ordering, 423, remaining expiry, reboots.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "fakes/fake_binding_repository.h"
#include "registrar/binding_sink.h"
#include "registrar/registrar.h"

namespace duplex::registrar {
namespace {

constexpr std::int64_t kExt = 101;
const Instant kT0 = instantFromUnixSeconds(1'700'000'000);

RequestContact contact(std::string uri, std::optional<std::uint32_t> expires = std::nullopt) {
  RequestContact c;
  c.uri = std::move(uri);
  c.expires = expires;
  // LAN phone: the Contact host and port are where it sends from.
  c.host = "192.168.1.20";
  c.port = 5060;
  return c;
}

RegistrationRequest request(std::vector<RequestContact> contacts,
                            std::optional<std::uint32_t> expiresHeader = 3600,
                            std::string callId = "call-1", std::uint32_t cseq = 1) {
  RegistrationRequest r;
  r.extensionId = kExt;
  r.aor = "sip:101@pbx";
  r.contacts = std::move(contacts);
  r.expiresHeader = expiresHeader;
  r.callId = std::move(callId);
  r.cseq = cseq;
  r.local = {"192.168.1.2", 5060};
  r.source = {"192.168.1.20", 5060};
  r.viaHost = "192.168.1.20";
  r.viaPort = 5060;
  r.userAgent = "Yealink SIP-T46S";
  return r;
}

class RegistrarRegisterTest : public ::testing::Test {
 protected:
  RegistrationDecision reg(const RegistrationRequest& r, Instant at = kT0) {
    return registrar.registerBindings(r, at);
  }
  std::vector<std::string> contactsOf(const RegistrationDecision& d) {
    std::vector<std::string> out;
    for (const CurrentBinding& b : d.bindings) out.push_back(b.contactUri);
    return out;
  }

  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  RegistrarConfig config;
  Registrar registrar{config, sink};
};

TEST_F(RegistrarRegisterTest, AddsBindingAndListsItInThe200) {
  RegistrationDecision d = reg(request({contact("sip:101@192.168.1.20:5060")}));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.error, RegisterError::none);
  ASSERT_EQ(d.bindings.size(), 1u);
  EXPECT_EQ(d.bindings[0].contactUri, "sip:101@192.168.1.20:5060");
  EXPECT_EQ(d.bindings[0].expires, 3600u);
  ASSERT_EQ(d.contacts.size(), 1u);
  EXPECT_EQ(d.contacts[0].outcome, ContactOutcome::added);
  EXPECT_EQ(repo.size(), 1u);
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 1u);
}

TEST_F(RegistrarRegisterTest, RefreshKeepsOneBindingAndItsId) {
  RegistrationDecision a = reg(request({contact("sip:101@192.168.1.20")}, 3600, "c", 1));
  RegistrationDecision b = reg(request({contact("sip:101@192.168.1.20")}, 1800, "c", 2),
                               kT0 + std::chrono::seconds(100));
  ASSERT_EQ(b.bindings.size(), 1u);
  EXPECT_EQ(b.bindings[0].id, a.bindings[0].id);
  EXPECT_EQ(b.bindings[0].expires, 1800u);
  EXPECT_EQ(b.contacts[0].outcome, ContactOutcome::refreshed);
  EXPECT_EQ(repo.size(), 1u);
}

TEST_F(RegistrarRegisterTest, ExpiresZeroRemovesOneBinding) {
  reg(request({contact("sip:a@192.168.1.20"), contact("sip:b@192.168.1.20")}, 3600, "c", 1));
  RegistrationDecision d = reg(request({contact("sip:a@192.168.1.20", 0)}, 3600, "c", 2));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(contactsOf(d), std::vector<std::string>{"sip:b@192.168.1.20"});
  EXPECT_EQ(d.contacts[0].outcome, ContactOutcome::removed);
  EXPECT_EQ(repo.size(), 1u);
}

TEST_F(RegistrarRegisterTest, ExpiresZeroForUnknownContactIsHarmless) {
  RegistrationDecision d = reg(request({contact("sip:x@192.168.1.20")}, 0));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.contacts[0].outcome, ContactOutcome::notBound);
  EXPECT_TRUE(d.bindings.empty());
}

TEST_F(RegistrarRegisterTest, ExpiresParameterWinsOverHeader) {
  RegistrationDecision d =
      reg(request({contact("sip:a@192.168.1.20", 120), contact("sip:b@192.168.1.20")}, 600));
  ASSERT_EQ(d.contacts.size(), 2u);
  EXPECT_EQ(d.contacts[0].expires, 120u);
  EXPECT_EQ(d.contacts[1].expires, 600u);
}

TEST_F(RegistrarRegisterTest, NoExpiresAnywhereUsesDefault) {
  RegistrationDecision d = reg(request({contact("sip:a@192.168.1.20")}, std::nullopt));
  EXPECT_EQ(d.contacts[0].expires, config.defaultExpires);
}

TEST_F(RegistrarRegisterTest, ExpiresAboveMaximumIsShortened) {
  RegistrationDecision d = reg(request({contact("sip:a@192.168.1.20")}, 86400));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.bindings[0].expires, 3600u);
}

TEST_F(RegistrarRegisterTest, StarWithExpiresZeroRemovesAll) {
  reg(request({contact("sip:a@192.168.1.20"), contact("sip:b@192.168.1.20")}, 3600, "c", 1));
  RegistrationRequest star = request({}, 0, "c", 2);
  star.star = true;
  RegistrationDecision d = reg(star);
  EXPECT_EQ(d.status, 200);
  EXPECT_TRUE(d.bindings.empty());
  EXPECT_EQ(d.contacts.size(), 2u);
  EXPECT_EQ(repo.size(), 0u);
  EXPECT_TRUE(registrar.lookup(kExt, kT0).empty());
}

TEST_F(RegistrarRegisterTest, StarWithNonZeroOrMissingExpiresIs400) {
  reg(request({contact("sip:a@192.168.1.20")}));
  for (std::optional<std::uint32_t> expires :
       {std::optional<std::uint32_t>{3600}, std::optional<std::uint32_t>{}}) {
    RegistrationRequest star = request({}, expires, "other", 9);
    star.star = true;
    RegistrationDecision d = reg(star);
    EXPECT_EQ(d.status, 400);
    EXPECT_EQ(d.error, RegisterError::starWithNonZeroExpires);
  }
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 1u);
}

TEST_F(RegistrarRegisterTest, StarWithOtherContactsIs400) {
  RegistrationRequest star = request({contact("sip:a@192.168.1.20")}, 0);
  star.star = true;
  RegistrationDecision d = reg(star);
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.error, RegisterError::starWithOtherContacts);
  EXPECT_EQ(d.reason, "Contact * must be the only Contact");
}

TEST_F(RegistrarRegisterTest, InvalidContactsAre400) {
  EXPECT_EQ(reg(request({contact("")})).error, RegisterError::emptyContactUri);
  RequestContact c = contact("sip:a@192.168.1.20");
  c.q = 1.5;
  EXPECT_EQ(reg(request({c})).status, 400);
  c.q = std::nan("");
  EXPECT_EQ(reg(request({c})).error, RegisterError::invalidQValue);
  EXPECT_EQ(registrar.stats().rejected[static_cast<int>(RegisterError::invalidQValue)], 2u);
}

TEST_F(RegistrarRegisterTest, QueryWithoutContactsListsBindingsAndChangesNothing) {
  reg(request({contact("sip:a@192.168.1.20")}));
  const int writes = repo.upsertCalls;
  RegistrationDecision d = reg(request({}, std::nullopt, "q", 1), kT0 + std::chrono::seconds(10));
  EXPECT_EQ(d.status, 200);
  ASSERT_EQ(d.bindings.size(), 1u);
  EXPECT_EQ(d.bindings[0].expires, 3590u);
  EXPECT_EQ(repo.upsertCalls, writes);
}

TEST_F(RegistrarRegisterTest, BeyondLimitOldestIsReplaced) {
  for (int i = 0; i < 5; ++i) {
    reg(request({contact("sip:p" + std::to_string(i) + "@192.168.1.20")}, 3600,
                "c" + std::to_string(i), 1),
        kT0 + std::chrono::seconds(i));
  }
  // p0 is refreshed late: p1 is now the least recently refreshed.
  reg(request({contact("sip:p0@192.168.1.20")}, 3600, "c0", 2), kT0 + std::chrono::seconds(10));
  RegistrationDecision d =
      reg(request({contact("sip:p5@192.168.1.20")}, 3600, "c5", 1), kT0 + std::chrono::seconds(20));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.bindings.size(), 5u);
  auto names = contactsOf(d);
  EXPECT_EQ(std::count(names.begin(), names.end(), "sip:p1@192.168.1.20"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "sip:p5@192.168.1.20"), 1);
  EXPECT_EQ(d.contacts.back().outcome, ContactOutcome::evicted);
  EXPECT_EQ(repo.size(), 5u);
}

TEST_F(RegistrarRegisterTest, OneRequestWithMoreContactsThanTheLimitIs403) {
  std::vector<RequestContact> many;
  many.reserve(6);
  for (int i = 0; i < 6; ++i) many.push_back(contact("sip:p" + std::to_string(i) + "@10.0.0.1"));
  RegistrationDecision d = reg(request(many));
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.error, RegisterError::tooManyContacts);
  EXPECT_TRUE(registrar.lookup(kExt, kT0).empty());
}

TEST(RegistrarLimitTest, RejectModeAnswers403AndKeepsTheOldOnes) {
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  RegistrarConfig config;
  config.maxContactsPerExtension = 2;
  config.limitMode = ContactLimitMode::reject;
  Registrar registrar{config, sink};
  registrar.registerBindings(request({contact("sip:a@h")}, 3600, "a"), kT0);
  registrar.registerBindings(request({contact("sip:b@h")}, 3600, "b"), kT0);
  RegistrationDecision d =
      registrar.registerBindings(request({contact("sip:c@h")}, 3600, "c"), kT0);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 2u);
  // Refreshing one already bound is still fine at the limit.
  EXPECT_EQ(registrar.registerBindings(request({contact("sip:a@h")}, 3600, "a", 2), kT0).status,
            200);
}

TEST(RegistrarLimitTest, TheExtensionsOwnLimitAppliesWithinTheGlobalOne) {
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  RegistrarConfig config;
  config.maxContactsPerExtension = 3;
  config.limitMode = ContactLimitMode::reject;
  Registrar registrar{config, sink};
  auto limited = [](RegistrationRequest r, std::size_t max) {
    r.maxContacts = max;
    return r;
  };
  // The extension allows 1: the second phone is refused.
  EXPECT_EQ(
      registrar.registerBindings(limited(request({contact("sip:a@h")}, 3600, "a"), 1), kT0).status,
      200);
  EXPECT_EQ(
      registrar.registerBindings(limited(request({contact("sip:b@h")}, 3600, "b"), 1), kT0).status,
      403);
  // An extension allowing 10 still stops at the global 3.
  for (const char* c : {"sip:b@h", "sip:c@h"}) {
    EXPECT_EQ(registrar.registerBindings(limited(request({contact(c)}, 3600, c), 10), kT0).status,
              200);
  }
  EXPECT_EQ(
      registrar.registerBindings(limited(request({contact("sip:d@h")}, 3600, "d"), 10), kT0).status,
      403);
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 3u);
}

TEST_F(RegistrarRegisterTest, QValuesAreKeptAndOrderLookup) {
  RequestContact low = contact("sip:low@192.168.1.20"), high = contact("sip:high@192.168.1.20");
  low.q = 0.1;
  high.q = 0.9;
  reg(request({low}, 3600, "l"), kT0);
  reg(request({contact("sip:none-old@192.168.1.20")}, 3600, "n1"), kT0 + std::chrono::seconds(1));
  reg(request({high}, 3600, "h"), kT0 + std::chrono::seconds(2));
  reg(request({contact("sip:none-new@192.168.1.20")}, 3600, "n2"), kT0 + std::chrono::seconds(3));
  std::vector<Location> l = registrar.lookup(kExt, kT0 + std::chrono::seconds(4));
  ASSERT_EQ(l.size(), 4u);
  // No q counts as 1.0; equal q: newest first.
  EXPECT_EQ(l[0].requestUri, "sip:none-new@192.168.1.20");
  EXPECT_EQ(l[1].requestUri, "sip:none-old@192.168.1.20");
  EXPECT_EQ(l[2].requestUri, "sip:high@192.168.1.20");
  EXPECT_EQ(l[2].q, 0.9);
  EXPECT_EQ(l[3].requestUri, "sip:low@192.168.1.20");
  EXPECT_FALSE(l[0].q.has_value());
}

TEST_F(RegistrarRegisterTest, SameCallIdWithLowerOrEqualCSeqIsRejected) {
  reg(request({contact("sip:a@192.168.1.20")}, 3600, "call", 5));
  for (std::uint32_t cseq : {5u, 4u}) {
    RegistrationDecision d = reg(request({contact("sip:a@192.168.1.20", 0)}, 3600, "call", cseq));
    EXPECT_EQ(d.status, 500);
    EXPECT_EQ(d.error, RegisterError::cseqNotIncreasing);
    EXPECT_EQ(d.reason, "Out of order CSeq");
  }
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 1u);
  EXPECT_EQ(reg(request({contact("sip:a@192.168.1.20")}, 3600, "call", 6)).status, 200);
}

TEST_F(RegistrarRegisterTest, StarIsSubjectToTheCSeqRuleToo) {
  reg(request({contact("sip:a@192.168.1.20")}, 3600, "call", 5));
  RegistrationRequest star = request({}, 0, "call", 3);
  star.star = true;
  EXPECT_EQ(reg(star).status, 500);
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 1u);
}

TEST_F(RegistrarRegisterTest, DifferentCallIdIsAcceptedWhateverTheCSeq) {
  reg(request({contact("sip:a@192.168.1.20")}, 3600, "call-1", 50));
  RegistrationDecision d = reg(request({contact("sip:a@192.168.1.20")}, 3600, "call-2", 1));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(d.bindings.size(), 1u);
}

TEST_F(RegistrarRegisterTest, RejectedRequestChangesNothing) {
  reg(request({contact("sip:a@192.168.1.20")}, 3600, "call", 5));
  // The new contact b would be fine, but a's CSeq is stale: all or nothing.
  RegistrationDecision d =
      reg(request({contact("sip:b@192.168.1.20"), contact("sip:a@192.168.1.20")}, 3600, "call", 5));
  EXPECT_EQ(d.status, 500);
  EXPECT_EQ(registrar.lookup(kExt, kT0).size(), 1u);
  EXPECT_EQ(repo.size(), 1u);
}

TEST_F(RegistrarRegisterTest, TooBriefIs423WithMinExpires) {
  RegistrationDecision d = reg(request({contact("sip:a@192.168.1.20", 30)}, 3600));
  EXPECT_EQ(d.status, 423);
  EXPECT_EQ(d.reason, "Interval Too Brief");
  EXPECT_EQ(d.minExpires, 60u);
  EXPECT_TRUE(registrar.lookup(kExt, kT0).empty());
  EXPECT_EQ(reg(request({contact("sip:a@192.168.1.20")}, 59)).status, 423);
  EXPECT_EQ(reg(request({contact("sip:a@192.168.1.20")}, 60)).status, 200);
}

TEST(RegistrarConfigTest, MinExpiresIsConfigurableAndBadConfigThrows) {
  fakes::FakeBindingRepository repo;
  RepositoryBindingSink sink{repo};
  RegistrarConfig config;
  config.minExpires = 300;
  Registrar registrar{config, sink};
  RegistrationDecision d = registrar.registerBindings(request({contact("sip:a@h")}, 200), kT0);
  EXPECT_EQ(d.status, 423);
  EXPECT_EQ(d.minExpires, 300u);

  RegistrarConfig bad;
  bad.keepAliveIntervalSeconds = 4;
  EXPECT_THROW((Registrar{bad, sink}), std::invalid_argument);
  bad = RegistrarConfig{};
  bad.natMaxExpires = 30;
  EXPECT_THROW((Registrar{bad, sink}), std::invalid_argument);
}

TEST_F(RegistrarRegisterTest, RemainingExpiresIsReportedForEveryBinding) {
  reg(request({contact("sip:a@192.168.1.20")}, 3600, "a"), kT0);
  RegistrationDecision d = reg(request({contact("sip:b@192.168.1.20")}, 600, "b"),
                               kT0 + std::chrono::milliseconds(100'500));
  ASSERT_EQ(d.bindings.size(), 2u);
  // a: 3600 s granted 100.5 s ago -> 3499.5 s left, reported rounded up.
  EXPECT_EQ(d.bindings[0].contactUri, "sip:a@192.168.1.20");
  EXPECT_EQ(d.bindings[0].expires, 3500u);
  EXPECT_EQ(d.bindings[1].expires, 600u);
}

TEST_F(RegistrarRegisterTest, NoDriftOver100RefreshCycles) {
  // A phone that re-registers with the value from the last 200 OK, halfway
  // through, with some milliseconds of processing delay each time.
  Instant now = kT0;
  std::uint32_t granted = 3600;
  for (std::uint32_t cycle = 1; cycle <= 100; ++cycle) {
    RegistrationDecision d =
        reg(request({contact("sip:a@192.168.1.20")}, granted, "call", cycle), now);
    ASSERT_EQ(d.status, 200);
    ASSERT_EQ(d.bindings.size(), 1u);
    granted = d.bindings[0].expires;
    ASSERT_EQ(granted, 3600u) << "cycle " << cycle;
    // The listing a moment later still reports the full value.
    EXPECT_EQ(registrar.lookup(kExt, now + std::chrono::milliseconds(7))[0].expires, 3600u);
    now += std::chrono::seconds(granted / 2) + std::chrono::milliseconds(137);
  }
}

TEST_F(RegistrarRegisterTest, RebootWithNewCallIdAndPortReplacesByInstance) {
  RequestContact c = contact("sip:101@192.168.1.20:5060");
  c.instanceId = "<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";
  RegistrationRequest first = request({c}, 3600, "boot-1", 10);
  first.source = {"203.0.113.7", 40001};
  RegistrationDecision a = reg(first);
  // After the reboot the phone picks a new Contact port and Call-ID, and the
  // NAT a new source port.
  c.uri = "sip:101@192.168.1.20:5072";
  c.port = 5072;
  RegistrationRequest second = request({c}, 3600, "boot-2", 1);
  second.source = {"203.0.113.7", 40999};
  RegistrationDecision b = reg(second, kT0 + std::chrono::seconds(30));
  EXPECT_EQ(b.status, 200);
  ASSERT_EQ(b.bindings.size(), 1u);
  EXPECT_EQ(b.bindings[0].id, a.bindings[0].id);
  EXPECT_EQ(b.bindings[0].contactUri, "sip:101@192.168.1.20:5072");
  EXPECT_EQ(b.contacts[0].outcome, ContactOutcome::replaced);
  EXPECT_EQ(registrar.lookup(kExt, kT0)[0].sendTo.destination.port, 40999);
  EXPECT_EQ(repo.size(), 1u);
}

TEST_F(RegistrarRegisterTest, RebootWithNewCallIdAndPortReplacesByContactUri) {
  RegistrationRequest first = request({contact("sip:101@192.168.1.20:5060")}, 3600, "boot-1", 7);
  first.source = {"203.0.113.7", 40001};
  reg(first);
  RegistrationRequest second = request({contact("sip:101@192.168.1.20:5060")}, 3600, "boot-2", 1);
  second.source = {"203.0.113.7", 41234};
  RegistrationDecision d = reg(second, kT0 + std::chrono::seconds(5));
  ASSERT_EQ(d.bindings.size(), 1u);
  EXPECT_EQ(d.contacts[0].outcome, ContactOutcome::replaced);
  std::vector<Location> l = registrar.lookup(kExt, kT0 + std::chrono::seconds(5));
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0].sendTo.destination, (Endpoint{"203.0.113.7", 41234}));
}

TEST_F(RegistrarRegisterTest, InstanceAddedLaterReplacesTheBindingWithoutOne) {
  reg(request({contact("sip:101@192.168.1.20")}, 3600, "c", 1));
  RequestContact c = contact("sip:101@192.168.1.20");
  c.instanceId = "<urn:uuid:1>";
  RegistrationDecision d = reg(request({c}, 3600, "c", 2));
  ASSERT_EQ(d.bindings.size(), 1u);
  EXPECT_EQ(repo.size(), 1u);  // the old key was removed, the new one stored
}

TEST_F(RegistrarRegisterTest, TwoDevicesWithTheSameContactButOwnInstancesStayApart) {
  // Home office and main office: both phones on 192.168.1.20:5060.
  RequestContact home = contact("sip:101@192.168.1.20:5060"), work = home;
  home.instanceId = "<urn:uuid:home>";
  work.instanceId = "<urn:uuid:work>";
  reg(request({home}, 3600, "h"));
  RegistrationDecision d = reg(request({work}, 3600, "w"));
  EXPECT_EQ(d.bindings.size(), 2u);
  EXPECT_EQ(d.contacts[0].outcome, ContactOutcome::added);
  EXPECT_EQ(repo.size(), 2u);
}

TEST_F(RegistrarRegisterTest, RemovedAndBoundAgainInOneRequestIsOneUpsert) {
  reg(request({contact("sip:a@192.168.1.20")}, 3600, "c", 1));
  const int removes = repo.removeCalls;
  RegistrationDecision d = reg(request(
      {contact("sip:a@192.168.1.20", 0), contact("sip:a@192.168.1.20", 600)}, 3600, "c", 2));
  EXPECT_EQ(d.status, 200);
  ASSERT_EQ(d.bindings.size(), 1u);
  EXPECT_EQ(d.bindings[0].expires, 600u);
  EXPECT_EQ(repo.removeCalls, removes);  // no removal of a key that is upserted
  EXPECT_EQ(repo.size(), 1u);
}

TEST_F(RegistrarRegisterTest, ExpiredButNotYetPurgedBindingDoesNotBlockOrCount) {
  config.maxContactsPerExtension = 1;
  config.limitMode = ContactLimitMode::reject;
  Registrar strict{config, sink};
  strict.registerBindings(request({contact("sip:a@192.168.1.20")}, 60, "c", 9), kT0);
  // 61 s later, before any expire() call: the same Call-ID with a lower CSeq
  // and a second contact are both fine, the old binding is gone.
  RegistrationDecision d = strict.registerBindings(
      request({contact("sip:b@192.168.1.20")}, 3600, "c", 1), kT0 + std::chrono::seconds(61));
  EXPECT_EQ(d.status, 200);
  EXPECT_EQ(contactsOf(d), std::vector<std::string>{"sip:b@192.168.1.20"});
  EXPECT_EQ(repo.size(), 1u);
}

TEST_F(RegistrarRegisterTest, RemoveAllOfDropsTheExtension) {
  reg(request({contact("sip:a@192.168.1.20"), contact("sip:b@192.168.1.20")}));
  EXPECT_EQ(registrar.removeAllOf(kExt), 2u);
  EXPECT_TRUE(registrar.lookup(kExt, kT0).empty());
  EXPECT_EQ(repo.size(), 0u);
  EXPECT_EQ(registrar.removeAllOf(kExt), 0u);
}

}  // namespace
}  // namespace duplex::registrar
