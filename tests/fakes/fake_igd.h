// A fake Internet Gateway Device (nat/igd.h) with the misbehaviours of real
// routers: refuses beyond N mappings, holds ports for other clients (718),
// only takes permanent leases (725), ignores the lease, loses every mapping
// (reboot), changes its external address, disappears (no answer), and
// expires entries by the ManualClock when it honours leases.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nat/clock.h"
#include "nat/igd.h"

namespace duplex::nat::fakes {

class FakeIgd final : public Igd {
 public:
  explicit FakeIgd(const ManualClock& clock) : clock_(clock) {}

  struct Entry {
    std::string client;
    std::uint16_t internal_port = 0;
    std::string description;
    std::uint32_t lease = 0;
    Clock::TimePoint added{};
  };
  using Key = std::pair<Protocol, std::uint16_t>;

  // Behaviour.
  bool present = true;          // false: discovery finds nothing, actions get -3
  bool connected = true;        // UPNP_GetValidIGD 1 (true) or 2
  int max_mappings = 1000;      // beyond: 728 NoPortMapsAvailable
  bool only_permanent = false;  // 725 for a finite lease
  bool ignore_lease = false;    // stores every mapping as permanent
  bool read_back_broken = false;
  std::string external_ip = "203.0.113.5";
  std::string our_lan = "10.0.0.5";
  std::map<Key, Entry> table;

  // Observations.
  int discover_calls = 0;
  int add_calls = 0;
  int delete_calls = 0;

  // Another device on the LAN holds this external port.
  void holdForOther(Protocol p, std::uint16_t ext, const std::string& client = "10.0.0.9") {
    table[{p, ext}] = Entry{client, ext, "someone else", 0, clock_.now()};
  }
  void loseAll() { table.clear(); }
  int countFor(const std::string& client) {
    expire();
    int n = 0;
    for (const auto& [key, e] : table) n += e.client == client ? 1 : 0;
    return n;
  }
  const Entry* find(Protocol p, std::uint16_t ext) {
    expire();
    const auto it = table.find({p, ext});
    return it == table.end() ? nullptr : &it->second;
  }

  std::optional<IgdInfo> discover(std::chrono::milliseconds, std::string& error) override {
    ++discover_calls;
    if (!present) {
      error = "no UPnP device found";
      return std::nullopt;
    }
    return IgdInfo{"http://10.0.0.1:5000/rootDesc.xml", our_lan, connected};
  }
  IgdResult externalIp(std::string& out) override {
    if (!present) return noAnswer();
    out = external_ip;
    return {};
  }
  IgdResult addMapping(Protocol p, std::uint16_t ext, const std::string& client,
                       std::uint16_t internal, const std::string& description,
                       std::uint32_t lease) override {
    ++add_calls;
    if (!present) return noAnswer();
    expire();
    if (only_permanent && lease != 0)
      return {kUpnpOnlyPermanentLeases, "OnlyPermanentLeasesSupported"};
    const auto it = table.find({p, ext});
    if (it != table.end() && it->second.client != client)
      return {kUpnpConflict, "ConflictInMappingEntry"};
    if (it == table.end() && static_cast<int>(table.size()) >= max_mappings) {
      return {728, "NoPortMapsAvailable"};
    }
    table[{p, ext}] = Entry{client, internal, description, ignore_lease ? 0 : lease, clock_.now()};
    return {};
  }
  IgdResult getMapping(Protocol p, std::uint16_t ext, IgdMappingEntry& out) override {
    if (!present) return noAnswer();
    if (read_back_broken) return {kUpnpNoSuchEntry, "NoSuchEntryInArray"};
    const Entry* e = find(p, ext);
    if (!e) return {kUpnpNoSuchEntry, "NoSuchEntryInArray"};
    out = toEntry({p, ext}, *e);
    return {};
  }
  IgdResult deleteMapping(Protocol p, std::uint16_t ext) override {
    ++delete_calls;
    if (!present) return noAnswer();
    return table.erase({p, ext}) ? IgdResult{} : IgdResult{kUpnpNoSuchEntry, "NoSuchEntryInArray"};
  }
  IgdResult getMappingByIndex(int index, IgdMappingEntry& out) override {
    if (!present) return noAnswer();
    expire();
    int i = 0;
    for (const auto& [key, e] : table) {
      if (i++ == index) {
        out = toEntry(key, e);
        return {};
      }
    }
    return {kUpnpInvalidIndex, "SpecifiedArrayIndexInvalid"};
  }

 private:
  static IgdResult noAnswer() { return {kUpnpNoAnswer, "Miniupnpc Socket error"}; }
  void expire() {
    std::erase_if(table, [&](const auto& kv) {
      const auto& e = kv.second;
      return e.lease != 0 && clock_.now() >= e.added + std::chrono::seconds(e.lease);
    });
  }
  IgdMappingEntry toEntry(const Key& key, const Entry& e) const {
    IgdMappingEntry out;
    out.protocol = key.first;
    out.external_port = key.second;
    out.internal_client = e.client;
    out.internal_port = e.internal_port;
    out.description = e.description;
    out.lease_seconds =
        e.lease == 0
            ? 0
            : static_cast<std::uint32_t>(
                  e.lease -
                  std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - e.added).count());
    return out;
  }

  const ManualClock& clock_;
};

}  // namespace duplex::nat::fakes
