// A fake StunTransport (nat/stun_client.h): a NAT with a chosen mapping and
// filtering behaviour (RFC 4787 terms) in front of an RFC 5780 STUN server on
// two IPs and two ports, all in memory. receive() with nothing queued advances
// the ManualClock by the wait, so retransmission schedules run instantly.
#pragma once

#include <deque>
#include <map>
#include <set>
#include <vector>

#include "nat/clock.h"
#include "nat/stun_client.h"
#include "nat/stun_message.h"

namespace duplex::nat::fakes {

class FakeStunNetwork final : public StunTransport {
 public:
  enum class Mapping { kEndpointIndependent, kAddressDependent, kAddressAndPortDependent, kNone };
  enum class Filtering { kEndpointIndependent, kAddressDependent, kAddressAndPortDependent };

  explicit FakeStunNetwork(ManualClock& clock) : clock_(clock) {}

  // Settings (change any time).
  Mapping mapping = Mapping::kEndpointIndependent;
  Filtering filtering = Filtering::kEndpointIndependent;
  bool other_address = true;  // server supports RFC 5780
  int drop_requests = 0;      // lose this many requests first
  bool silent = false;        // never answer
  bool send_garbage_first = false;
  stun::TransportAddress primary{*IpAddress::parse("198.51.100.1"), 3478};
  IpAddress alt_ip = *IpAddress::parse("198.51.100.2");
  std::uint16_t alt_port = 3479;
  IpAddress public_ip = *IpAddress::parse("203.0.113.5");
  stun::TransportAddress local{*IpAddress::parse("10.0.0.5"), 5000};

  // Observations.
  std::vector<std::chrono::milliseconds> send_times;  // since the first send
  int requests = 0;

  void send(const stun::TransportAddress& to, std::span<const std::uint8_t> bytes) override {
    if (send_times.empty()) first_send_ = clock_.now();
    send_times.push_back(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - first_send_));
    ++requests;
    sent_to_.insert(to);
    if (silent || drop_requests > 0) {
      if (drop_requests > 0) --drop_requests;
      return;
    }
    const auto req = stun::parse(bytes);
    if (!req.ok()) return;
    stun::TransportAddress from = to;
    if (req.message.change_ip) from.ip = from.ip == primary.ip ? alt_ip : primary.ip;
    if (req.message.change_port) from.port = from.port == primary.port ? alt_port : primary.port;
    if (!passesFilter(from)) return;
    const stun::TransportAddress mapped = mappedFor(to);
    std::optional<stun::TransportAddress> other;
    if (other_address) other = stun::TransportAddress{alt_ip, alt_port};
    if (send_garbage_first) {
      queue_.push_back({from, {0x80, 0x00, 0x01, 0x02}});  // RTP-looking noise
      auto foreign = req.message.transaction_id;
      foreign[0] ^= 0xff;
      queue_.push_back({from, stun::buildBindingSuccess(foreign, mapped)});
    }
    queue_.push_back({from, stun::buildBindingSuccess(req.message.transaction_id, mapped, other)});
  }

  std::optional<Datagram> receive(std::chrono::milliseconds wait) override {
    if (queue_.empty()) {
      clock_.advance(wait);
      return std::nullopt;
    }
    auto d = queue_.front();
    queue_.pop_front();
    return d;
  }

  stun::TransportAddress localAddress() const override { return local; }

 private:
  stun::TransportAddress mappedFor(const stun::TransportAddress& to) {
    if (mapping == Mapping::kNone) return local;
    stun::TransportAddress key = to;
    if (mapping == Mapping::kEndpointIndependent) key = {};
    if (mapping == Mapping::kAddressDependent) key.port = 0;
    auto [it, fresh] = ports_.try_emplace(key.toString(), 0);
    if (fresh) it->second = static_cast<std::uint16_t>(40000 + ports_.size());
    return {public_ip, it->second};
  }
  bool passesFilter(const stun::TransportAddress& from) const {
    if (mapping == Mapping::kNone) return true;
    switch (filtering) {
      case Filtering::kEndpointIndependent:
        return true;
      case Filtering::kAddressDependent:
        for (const auto& s : sent_to_)
          if (s.ip == from.ip) return true;
        return false;
      case Filtering::kAddressAndPortDependent:
        return sent_to_.count(from) > 0;
    }
    return false;
  }
  struct Less {
    bool operator()(const stun::TransportAddress& a, const stun::TransportAddress& b) const {
      return a.toString() < b.toString();
    }
  };

  ManualClock& clock_;
  Clock::TimePoint first_send_{};
  std::deque<Datagram> queue_;
  std::set<stun::TransportAddress, Less> sent_to_;
  std::map<std::string, std::uint16_t> ports_;
};

}  // namespace duplex::nat::fakes
