#include "nat/address_book_publisher.h"

#include <spdlog/spdlog.h>

namespace duplex::nat {

AddressBookChange diff(const AddressBook& before, const AddressBook& after) {
  const auto& a = before.data();
  const auto& b = after.data();
  AddressBookChange change;
  change.public_address = a.public_ip != b.public_ip;
  change.old_public_ip = a.public_ip;
  change.new_public_ip = b.public_ip;
  change.interfaces = a.interfaces != b.interfaces || a.lan_address != b.lan_address ||
                      a.main_address != b.main_address ||
                      a.additional_addresses != b.additional_addresses ||
                      a.local_networks != b.local_networks || a.dyndns_name != b.dyndns_name ||
                      a.sip_ports != b.sip_ports || a.last_public_ip != b.last_public_ip;
  change.mappings = a.mappings != b.mappings;
  return change;
}

AddressBookPublisher::AddressBookPublisher()
    : AddressBookPublisher(std::make_shared<const AddressBook>()) {}

AddressBookPublisher::AddressBookPublisher(AddressBookSnapshot initial)
    : current_(std::move(initial)) {}

void AddressBookPublisher::publish(const AddressBookSnapshot& next,
                                   const AddressBookChange& change) {
  current_.store(next);
  const std::lock_guard lock(listeners_mutex_);
  for (const auto& [id, listener] : listeners_) {
    try {
      listener(next, change);
    } catch (const std::exception& e) {
      auto log = spdlog::get("nat");
      (log ? log : spdlog::default_logger())
          ->error("address book listener {} threw: {}", id, e.what());
    }
  }
}

AddressBookChange AddressBookPublisher::publish(AddressBookData data) {
  const auto before = current();
  auto next = std::make_shared<const AddressBook>(std::move(data), before->version() + 1);
  auto change = diff(*before, *next);
  if (change.any()) publish(next, change);
  return change;
}

AddressBookPublisher::SubscriptionId AddressBookPublisher::subscribe(Listener listener) {
  const std::lock_guard lock(listeners_mutex_);
  const auto id = next_id_++;
  listeners_.emplace_back(id, std::move(listener));
  return id;
}

void AddressBookPublisher::unsubscribe(SubscriptionId id) {
  const std::lock_guard lock(listeners_mutex_);
  std::erase_if(listeners_, [id](const auto& entry) { return entry.first == id; });
}

}  // namespace duplex::nat
