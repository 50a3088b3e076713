// The Contact the PBX advertises to a trunk provider: the address the
// provider can reach (public address and UPnP-mapped SIP port from the NAT
// address book; the LAN address for a provider on the LAN; main_address from
// the configuration without a NAT service), and whether that means the PBX is
// behind NAT (which caps the registration refresh).
#include <gtest/gtest.h>

#include "nat/address_book_publisher.h"
#include "pbx/app/trunk_wiring.h"

namespace duplex::app {
namespace {

nat::AddressBookData office() {
  nat::AddressBookData d;
  d.interfaces = {{"lo", "127.0.0.1", 8, true}, {"eth0", "10.0.0.5", 24, false}};
  d.public_ip = "203.0.113.7";
  d.lan_address = "10.0.0.5";
  d.sip_ports = {5060};
  d.mappings = {{nat::Protocol::kUdp, 5060, 5062, false}};
  return d;
}

const call::ConfiguredAddressChoice kConfigured{"198.51.100.1", {"10.0.0.0/8"}, "10.0.0.5"};

TEST(TrunkContacts, ProviderOnTheInternetGetsThePublicAddressAndTheMappedPort) {
  nat::AddressBookPublisher book;
  book.publish(office());
  AddressBookContacts contacts(&book, kConfigured, 5060);
  const auto c = contacts.contactFor("198.51.100.20", sip::Transport::kUdp);
  EXPECT_EQ(c.host, "203.0.113.7");
  EXPECT_EQ(c.port, 5062);
  EXPECT_TRUE(c.behindNat);
}

TEST(TrunkContacts, ProviderOnTheLanGetsTheLanAddress) {
  nat::AddressBookPublisher book;
  book.publish(office());
  AddressBookContacts contacts(&book, kConfigured, 5060);
  const auto c = contacts.contactFor("10.0.0.40", sip::Transport::kUdp);
  EXPECT_EQ(c.host, "10.0.0.5");
  EXPECT_EQ(c.port, 5060);
  EXPECT_FALSE(c.behindNat);
}

TEST(TrunkContacts, APublicInterfaceIsNotBehindNat) {
  nat::AddressBookData d = office();
  d.interfaces.push_back({"eth1", "203.0.113.7", 24, false});
  d.mappings.clear();
  nat::AddressBookPublisher book;
  book.publish(d);
  AddressBookContacts contacts(&book, kConfigured, 5060);
  const auto c = contacts.contactFor("198.51.100.20", sip::Transport::kUdp);
  EXPECT_EQ(c.host, "203.0.113.7");
  EXPECT_EQ(c.port, 5060);
  EXPECT_FALSE(c.behindNat);
}

TEST(TrunkContacts, ANewPublicAddressIsUsedForTheNextContact) {
  nat::AddressBookPublisher book;
  book.publish(office());
  AddressBookContacts contacts(&book, kConfigured, 5060);
  nat::AddressBookData moved = office();
  moved.public_ip = "203.0.113.99";
  book.publish(moved);
  EXPECT_EQ(contacts.contactFor("198.51.100.20", sip::Transport::kUdp).host, "203.0.113.99");
}

TEST(TrunkContacts, WithoutANatServiceTheConfigurationDecides) {
  AddressBookContacts contacts(nullptr, kConfigured, 5070);
  const auto wan = contacts.contactFor("198.51.100.20", sip::Transport::kUdp);
  EXPECT_EQ(wan.host, "198.51.100.1");
  EXPECT_EQ(wan.port, 5070);
  EXPECT_TRUE(wan.behindNat);
  const auto lan = contacts.contactFor("10.1.2.3", sip::Transport::kUdp);
  EXPECT_FALSE(lan.behindNat);
}

}  // namespace
}  // namespace duplex::app
