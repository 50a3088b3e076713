// AddressChoice (address_choice.h) on the NAT issue's address book
// (nat/address_book.h): the current snapshot is read (one atomic load) for
// every choice, so a newly discovered public address is used for the next
// leg without a restart. The per-peer rule is the address book's
// advertisedFor(peer): LAN address for local peers, main/public otherwise.
// For: pbx/app (CallWiring). Thread: the SIP loop (the publisher is
// thread-safe). Errors: none.
#pragma once

#include "nat/address_book_publisher.h"
#include "pbx/call/address_choice.h"

namespace duplex::call {

class AddressBookChoice final : public AddressChoice {
 public:
  // `publisher` must outlive this object. `fallback` answers when the
  // snapshot has no address at all (empty book before the NAT worker's
  // first publication).
  AddressBookChoice(const nat::AddressBookPublisher& publisher, const AddressChoice& fallback,
                    std::uint16_t sip_port)
      : publisher_(publisher), fallback_(fallback), sip_port_(sip_port) {}

  std::string advertisedFor(std::string_view peer_ip, std::string_view local_ip) const override {
    const nat::AddressBookSnapshot book = publisher_.current();
    if (book) {
      nat::AddressBook::Advertised a = book->advertisedFor(peer_ip, nat::Protocol::kUdp, sip_port_);
      if (!a.host.empty()) return a.host;
    }
    return fallback_.advertisedFor(peer_ip, local_ip);
  }

 private:
  const nat::AddressBookPublisher& publisher_;
  const AddressChoice& fallback_;
  std::uint16_t sip_port_;
};

}  // namespace duplex::call
