// Publishes the current AddressBook snapshot and tells subscribers when it
// changes.
//
// For: the NAT worker publishes; call control, the registrar adapter, trunks
// and the media relay read current() and subscribe to changes.
//
// Threads: current() is one atomic load, callable from any thread, never
// blocks on the publisher. publish() is called by one thread at a time (the
// NAT worker in the daemon). Listeners run ON THE PUBLISHING THREAD (the NAT
// worker), after the new snapshot is visible through current(), in
// subscription order; a listener must be quick and must not block: it posts
// the event to its own loop (e.g. the SIP loop's post()). A listener must not
// call subscribe()/unsubscribe() (the listener list is locked while they
// run). After unsubscribe() returns the listener is never called again.
//
// Errors: none; an exception thrown by a listener is caught, logged to the
// "nat" logger, and does not stop the other listeners.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "nat/address_book.h"

namespace duplex::nat {

// What changed between two snapshots (more than one flag may be set).
struct AddressBookChange {
  bool public_address = false;  // the discovered public IP changed
  bool interfaces = false;      // local interfaces or their addresses changed
  bool mappings = false;        // UPnP mappings (or their external ports) changed
  std::string old_public_ip;    // "" = was unknown
  std::string new_public_ip;    // "" = now unknown

  bool any() const { return public_address || interfaces || mappings; }
};

// Compares two snapshots' data.
AddressBookChange diff(const AddressBook& before, const AddressBook& after);

class AddressBookPublisher {
 public:
  using Listener = std::function<void(const AddressBookSnapshot&, const AddressBookChange&)>;
  using SubscriptionId = std::uint64_t;

  AddressBookPublisher();  // starts with an empty AddressBook
  explicit AddressBookPublisher(AddressBookSnapshot initial);

  AddressBookSnapshot current() const noexcept { return current_.load(); }

  // Makes `next` current and calls every listener with it and `change`.
  void publish(const AddressBookSnapshot& next, const AddressBookChange& change);
  // Builds the snapshot from `data` with the next version number, computes
  // the change against the current one, and publishes it when anything
  // changed. Returns the change (any() == false: nothing published).
  AddressBookChange publish(AddressBookData data);

  SubscriptionId subscribe(Listener listener);
  void unsubscribe(SubscriptionId id);

 private:
  std::atomic<AddressBookSnapshot> current_;
  std::mutex listeners_mutex_;
  std::vector<std::pair<SubscriptionId, Listener>> listeners_;
  SubscriptionId next_id_ = 1;
};

}  // namespace duplex::nat
