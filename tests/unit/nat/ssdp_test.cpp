// Which SSDP datagrams mean "a gateway (re)announced itself".
#include <gtest/gtest.h>

#include "nat/ssdp_watcher.h"

namespace duplex::nat {
namespace {

const char* kAlive =
    "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=120\r\n"
    "LOCATION: http://10.0.0.1:5000/rootDesc.xml\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n"
    "NT: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
    "USN: uuid:1::urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nNTS: ssdp:alive\r\n"
    "OPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n01-NLS: 1700000000\r\n"
    "BOOTID.UPNP.ORG: 1700000000\r\nCONFIGID.UPNP.ORG: 1337\r\n\r\n";

TEST(Ssdp, GatewayAliveGivesLocationAndBootId) {
  EXPECT_EQ(igdAnnouncementKey(kAlive), "http://10.0.0.1:5000/rootDesc.xml|1700000000");
}

TEST(Ssdp, RebootChangesTheKey) {
  std::string reboot = kAlive;
  reboot.replace(reboot.find("BOOTID.UPNP.ORG: 1700000000"), 27, "BOOTID.UPNP.ORG: 1700000999");
  EXPECT_NE(igdAnnouncementKey(reboot), igdAnnouncementKey(kAlive));
}

TEST(Ssdp, IgnoresByebyeSearchesOtherDevicesAndGarbage) {
  std::string byebye = kAlive;
  byebye.replace(byebye.find("ssdp:alive"), 10, "ssdp:byebye");
  EXPECT_FALSE(igdAnnouncementKey(byebye));
  std::string printer = kAlive;
  printer.replace(printer.find("InternetGatewayDevice:1\r\nUSN"), 23, "Printer:1              ");
  EXPECT_FALSE(igdAnnouncementKey(printer));
  EXPECT_FALSE(igdAnnouncementKey("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"));
  EXPECT_FALSE(igdAnnouncementKey(""));
  EXPECT_FALSE(igdAnnouncementKey("NOTIFY * HTTP/1.1\r\nNTS: ssdp:alive\r\n"));
  EXPECT_FALSE(igdAnnouncementKey(std::string(3000, ':')));
}

}  // namespace
}  // namespace duplex::nat
