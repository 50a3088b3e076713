// Which public address to believe, and what the status says when the
// sources disagree.
#include <gtest/gtest.h>

#include "nat/public_address.h"

namespace duplex::nat {
namespace {

AddressSource src(const char* name, const char* address) {
  return {name, address, "", {}};
}

TEST(PublicAddress, ConfiguredIpWins) {
  const auto d = decidePublicAddress({src("config", "198.51.100.9"), src("stun", "203.0.113.7")});
  EXPECT_EQ(d.address, "198.51.100.9");
  EXPECT_EQ(d.disagreement,
            "the configured main address 198.51.100.9 differs from 203.0.113.7 that STUN sees");
}

TEST(PublicAddress, StunBeatsUpnpAndPrivateUpnpMeansDoubleNat) {
  const auto d = decidePublicAddress({src("upnp", "100.64.0.7"), src("stun", "203.0.113.7")});
  EXPECT_EQ(d.address, "203.0.113.7");
  EXPECT_EQ(d.source, "stun");
  EXPECT_NE(d.disagreement.find("double NAT"), std::string::npos);
}

TEST(PublicAddress, UpnpAloneIsUsedWhenPublic) {
  EXPECT_EQ(decidePublicAddress({src("upnp", "203.0.113.7")}).address, "203.0.113.7");
  EXPECT_EQ(decidePublicAddress({src("upnp", "192.168.1.2")}).address, "");
}

TEST(PublicAddress, StaleDynDnsNameIsReported) {
  const auto d = decidePublicAddress({src("upnp", "203.0.113.7"), src("dyndns-dns", "203.0.113.6")},
                                     "office.example.org");
  EXPECT_EQ(d.address, "203.0.113.7");
  EXPECT_EQ(d.disagreement,
            "the DynDNS name office.example.org still points to the old address 203.0.113.6, "
            "not 203.0.113.7");
}

TEST(PublicAddress, AgreeingSourcesSayNothing) {
  const auto d = decidePublicAddress(
      {src("upnp", "203.0.113.7"), src("stun", "203.0.113.7"), src("dyndns-dns", "203.0.113.7")});
  EXPECT_EQ(d.disagreement, "");
  EXPECT_EQ(decidePublicAddress({}).address, "");
}

}  // namespace
}  // namespace duplex::nat
