// STUN Binding transactions (RFC 5389 7.2.1) and the RFC 5780 NAT behaviour
// discovery built on them. Internal to nat/.
//
// StunClient is socket-free: it sends and receives through a StunTransport
// (the real one is a UDP socket, UdpStunTransport; tests pass a fake) and
// times retransmissions with the injected Clock. The transport's receive()
// blocks for at most the given wait, so the NAT worker thread is the only
// caller. Garbage, responses to other transactions and error responses are
// ignored (counted) and never end a transaction early, except that an error
// response of the right transaction ends it with that error.
//
// Errors: BindingResult::error, plain text ("no STUN reply from 1.2.3.4:3478
// after 7 requests", "STUN error 400 Bad Request", "no mapped address").
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nat/clock.h"
#include "nat/nat_status.h"
#include "nat/stun_message.h"

namespace duplex::nat {

// RFC 5389 7.2.1: requests at 0, RTO, 3 RTO, 7 RTO, ... (Rc requests in all),
// then wait Rm * RTO after the last one.
struct RetransmitSchedule {
  std::chrono::milliseconds rto{500};
  int requests = 7;            // Rc
  int final_wait_factor = 16;  // Rm

  std::vector<std::chrono::milliseconds> sendOffsets() const;
  std::chrono::milliseconds giveUpAfter() const;
};

struct Datagram {
  stun::TransportAddress from;
  std::vector<std::uint8_t> bytes;
};

class StunTransport {
 public:
  virtual ~StunTransport() = default;
  virtual void send(const stun::TransportAddress& to, std::span<const std::uint8_t> bytes) = 0;
  // The next datagram, or nullopt after `wait` without one.
  virtual std::optional<Datagram> receive(std::chrono::milliseconds wait) = 0;
  // The local address:port of the socket (to see "no NAT").
  virtual stun::TransportAddress localAddress() const = 0;
};

// A UDP socket on `local_ip` (""= any), port 0. Throws std::runtime_error if
// the socket cannot be created (start-up of a probe, caught by the worker).
class UdpStunTransport final : public StunTransport {
 public:
  explicit UdpStunTransport(const std::string& local_ip = "", bool v6 = false);
  ~UdpStunTransport() override;
  UdpStunTransport(const UdpStunTransport&) = delete;
  UdpStunTransport& operator=(const UdpStunTransport&) = delete;
  void send(const stun::TransportAddress& to, std::span<const std::uint8_t> bytes) override;
  std::optional<Datagram> receive(std::chrono::milliseconds wait) override;
  stun::TransportAddress localAddress() const override;

 private:
  int fd_ = -1;
};

struct BindingResult {
  std::optional<stun::TransportAddress> mapped;
  std::optional<stun::TransportAddress> other_address;
  std::optional<stun::TransportAddress> response_origin;
  std::string error;  // "" on success
  int requests_sent = 0;
  int ignored = 0;  // garbage or foreign datagrams
};

class StunClient {
 public:
  StunClient(StunTransport& transport, const Clock& clock, RetransmitSchedule schedule = {},
             std::function<stun::TransactionId()> new_id = {});
  BindingResult binding(const stun::TransportAddress& server, bool change_ip = false,
                        bool change_port = false);

 private:
  StunTransport& transport_;
  const Clock& clock_;
  RetransmitSchedule schedule_;
  std::function<stun::TransactionId()> new_id_;
};

// RFC 5780 4.3 (mapping) and 4.4 (filtering) from one local socket. Needs a
// server that returns OTHER-ADDRESS; without it only test I runs and the
// verdict stays unknown (text says why).
struct NatProbeResult {
  std::optional<stun::TransportAddress> mapped;  // test I
  NatTypeVerdict verdict;                        // `when` left for the caller
  std::string error;                             // "" when test I got an answer
};
// `local_ips` are this host's addresses, `local_port` the mapping socket's
// port: a mapped address equal to one of them means no NAT. The filtering
// tests run from a second, fresh socket (`filtering_client`): the mapping
// tests have already opened the NAT's filter toward the server's other
// address on the first one.
NatProbeResult probeNatType(StunClient& client, StunClient& filtering_client,
                            const stun::TransportAddress& server,
                            const std::vector<IpAddress>& local_ips, std::uint16_t local_port);

// The plain-language sentence for a verdict.
std::string verdictText(MappingBehavior mapping, FilteringBehavior filtering);

}  // namespace duplex::nat
