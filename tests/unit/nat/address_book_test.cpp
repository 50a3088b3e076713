// The address book's per-peer rule, isSelf, and the publisher.
#include <gtest/gtest.h>

#include <thread>

#include "nat/address_book_publisher.h"

namespace duplex::nat {
namespace {

AddressBookData office() {
  AddressBookData d;
  d.interfaces = {{"lo", "127.0.0.1", 8, true},
                  {"eth0", "10.0.0.5", 24, false},
                  {"eth1", "10.9.0.1", 16, false}};
  d.local_networks = {"10.200.0.0/16"};  // a VPN range behind another router
  d.main_address = "pbx.example.org";
  d.additional_addresses = {"pbx.lan"};
  d.public_ip = "203.0.113.7";
  d.last_public_ip = "203.0.113.6";
  d.dyndns_name = "office.dyndns.example";
  d.lan_address = "10.0.0.5";
  d.sip_ports = {5060};
  d.mappings = {{Protocol::kUdp, 5060, 5062, false},
                {Protocol::kUdp, 10000, 10000, true},
                {Protocol::kUdp, 10002, 20002, true}};
  return d;
}

TEST(AddressBook, LanPeerGetsTheAddressOfItsInterfaceAndTheInternalPort) {
  const AddressBook book(office());
  auto a = book.advertisedFor("10.0.0.77", Protocol::kUdp, 5060);
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_EQ(a.port, 5060);
  EXPECT_TRUE(a.lan);
  EXPECT_EQ(book.advertisedFor("10.9.3.3", Protocol::kUdp, 5060).host, "10.9.0.1");
}

TEST(AddressBook, ConfiguredLocalNetworkGetsThePreferredLanAddress) {
  const AddressBook book(office());
  const auto a = book.advertisedFor("10.200.1.1", Protocol::kUdp, 10002);
  EXPECT_TRUE(a.lan);
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_EQ(a.port, 10002);
}

TEST(AddressBook, WanPeerGetsMainAddressAndTheMappedExternalPort) {
  const AddressBook book(office());
  const auto sip = book.advertisedFor("198.51.100.20", Protocol::kUdp, 5060);
  EXPECT_EQ(sip.host, "pbx.example.org");
  EXPECT_EQ(sip.port, 5062);  // 718 moved it
  EXPECT_FALSE(sip.lan);
  EXPECT_EQ(book.advertisedFor("198.51.100.20", Protocol::kUdp, 10002).port, 20002);
  EXPECT_EQ(book.advertisedFor("198.51.100.20", Protocol::kTcp, 5060).port, 5060);  // not mapped
}

TEST(AddressBook, AutoMainAddressUsesTheDiscoveredPublicIp) {
  auto d = office();
  d.main_address = "auto";
  EXPECT_EQ(AddressBook(d).advertisedFor("198.51.100.20", Protocol::kUdp, 5060).host,
            "203.0.113.7");
  d.main_address = "";
  EXPECT_EQ(AddressBook(d).publicAddress(), "203.0.113.7");
}

TEST(AddressBook, UnknownPublicSideFallsBackToLanAndSaysSo) {
  auto d = office();
  d.main_address = "";
  d.public_ip = "";
  const auto a = AddressBook(d).advertisedFor("198.51.100.20", Protocol::kUdp, 5060);
  EXPECT_EQ(a.host, "10.0.0.5");
  EXPECT_FALSE(a.public_known);
}

TEST(AddressBook, HairpinnedPeerGetsThePublicSide) {
  const AddressBook book(office());
  EXPECT_FALSE(book.isLocal("203.0.113.7"));
  const auto a = book.advertisedFor("203.0.113.7", Protocol::kUdp, 5060);
  EXPECT_FALSE(a.lan);
  EXPECT_EQ(a.host, "pbx.example.org");
  EXPECT_EQ(a.port, 5062);
}

TEST(AddressBook, IsSelfCoversEveryNameAndOnlyOurPorts) {
  const AddressBook book(office());
  for (const char* host : {"pbx.example.org", "PBX.Example.ORG.", "pbx.lan", "203.0.113.7",
                           "203.0.113.6", "office.dyndns.example", "10.0.0.5", "127.0.0.1"}) {
    EXPECT_TRUE(book.isSelf(host, 5060)) << host;
    EXPECT_TRUE(book.isSelf(host, 0)) << host;
  }
  EXPECT_TRUE(book.isSelf("203.0.113.7", 5062));  // the mapped external SIP port
  EXPECT_FALSE(book.isSelf("203.0.113.7", 5070));
  EXPECT_FALSE(book.isSelf("203.0.113.8", 5060));
  EXPECT_FALSE(book.isSelf("other.example.org", 5060));
  EXPECT_FALSE(book.isSelf("", 5060));
}

TEST(AddressBook, NamesAndGarbageAreNeverLocal) {
  const AddressBook book(office());
  EXPECT_FALSE(book.isLocal("pbx.lan"));
  EXPECT_FALSE(book.isLocal("10.0.0.300"));
  EXPECT_FALSE(book.isLocal(""));
  EXPECT_TRUE(book.isLocal("[::ffff:10.0.0.9]"));
}

TEST(AddressBook, MappedRtpPortsAreSortedAndExcludeSip) {
  EXPECT_EQ(AddressBook(office()).mappedRtpPorts(), (std::vector<std::uint16_t>{10000, 10002}));
}

TEST(IpNetwork, ParsesAndContains) {
  const auto net = IpNetwork::parse("172.16.5.4/12");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->toString(), "172.16.0.0/12");
  EXPECT_TRUE(net->contains(*IpAddress::parse("172.31.255.255")));
  EXPECT_FALSE(net->contains(*IpAddress::parse("172.32.0.0")));
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/33"));
  EXPECT_FALSE(IpNetwork::parse("10.0.0.0/"));
  EXPECT_FALSE(IpNetwork::parse("host/8"));
  EXPECT_TRUE(IpNetwork::parse("fc00::/7")->contains(*IpAddress::parse("fd12::1")));
  EXPECT_TRUE(isPrivateOrCarrierGrade(*IpAddress::parse("100.64.1.1")));
  EXPECT_TRUE(isPrivateOrCarrierGrade(*IpAddress::parse("192.168.1.1")));
  EXPECT_FALSE(isPrivateOrCarrierGrade(*IpAddress::parse("203.0.113.1")));
  EXPECT_FALSE(isPrivateOrCarrierGrade(*IpAddress::parse("100.128.0.1")));
}

TEST(AddressBookPublisher, PublishesOnlyRealChangesAndTellsWhatChanged) {
  AddressBookPublisher publisher;
  std::vector<AddressBookChange> seen;
  const auto id =
      publisher.subscribe([&](const AddressBookSnapshot& s, const AddressBookChange& c) {
        EXPECT_EQ(publisher.current(), s);  // visible before listeners run
        seen.push_back(c);
      });
  auto d = office();
  EXPECT_TRUE(publisher.publish(d).any());
  EXPECT_FALSE(publisher.publish(d).any());  // same data: nothing published
  const auto v = publisher.current()->version();
  d.public_ip = "203.0.113.99";
  publisher.publish(d);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen[1].public_address);
  EXPECT_FALSE(seen[1].mappings);
  EXPECT_EQ(seen[1].old_public_ip, "203.0.113.7");
  EXPECT_EQ(seen[1].new_public_ip, "203.0.113.99");
  EXPECT_GT(publisher.current()->version(), v);
  publisher.unsubscribe(id);
  d.mappings.clear();
  publisher.publish(d);
  EXPECT_EQ(seen.size(), 2u);
}

TEST(AddressBookPublisher, ReadersOnOtherThreadsAlwaysSeeAWholeSnapshot) {
  AddressBookPublisher publisher;
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!stop) {
      const auto s = publisher.current();
      // Each published snapshot has public_ip == "203.0.113.<n>" and last == n-1.
      const auto& d = s->data();
      if (!d.public_ip.empty() && d.main_address != "auto") ++torn;
    }
  });
  for (int i = 1; i < 2000; ++i) {
    AddressBookData d;
    d.main_address = "auto";
    d.public_ip = "203.0.113." + std::to_string(i % 250);
    publisher.publish(d);
  }
  stop = true;
  reader.join();
  EXPECT_EQ(torn, 0);
}

}  // namespace
}  // namespace duplex::nat
