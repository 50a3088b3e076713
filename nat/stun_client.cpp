#include "nat/stun_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <stdexcept>

namespace duplex::nat {
namespace {

using std::chrono::milliseconds;

stun::TransactionId randomId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  stun::TransactionId id;
  for (auto& b : id) b = static_cast<std::uint8_t>(rng());
  return id;
}

socklen_t toSockaddr(const stun::TransportAddress& a, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (a.ip.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(a.port);
    std::memcpy(&s6->sin6_addr, a.ip.bytes.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
  s4->sin_family = AF_INET;
  s4->sin_port = htons(a.port);
  std::memcpy(&s4->sin_addr, a.ip.bytes.data(), 4);
  return sizeof(sockaddr_in);
}

stun::TransportAddress fromSockaddr(const sockaddr_storage& ss) {
  stun::TransportAddress a;
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    a.ip.v6 = true;
    std::memcpy(a.ip.bytes.data(), &s6->sin6_addr, 16);
    a.port = ntohs(s6->sin6_port);
  } else {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    std::memcpy(a.ip.bytes.data(), &s4->sin_addr, 4);
    a.port = ntohs(s4->sin_port);
  }
  return a;
}

}  // namespace

std::vector<milliseconds> RetransmitSchedule::sendOffsets() const {
  std::vector<milliseconds> out;
  milliseconds at{0};
  milliseconds interval = rto;
  for (int i = 0; i < requests; ++i) {
    out.push_back(at);
    at += interval;
    interval *= 2;
  }
  return out;
}

milliseconds RetransmitSchedule::giveUpAfter() const {
  const auto offsets = sendOffsets();
  return (offsets.empty() ? milliseconds{0} : offsets.back()) + rto * final_wait_factor;
}

UdpStunTransport::UdpStunTransport(const std::string& local_ip, bool v6) {
  fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(std::string("STUN socket: ") + std::strerror(errno));
  stun::TransportAddress bind_to;
  bind_to.ip.v6 = v6;
  if (!local_ip.empty()) {
    const auto ip = IpAddress::parse(local_ip);
    if (!ip) {
      ::close(fd_);
      throw std::runtime_error("STUN socket: bad local address " + local_ip);
    }
    bind_to.ip = *ip;
  }
  sockaddr_storage ss;
  const socklen_t len = toSockaddr(bind_to, ss);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("STUN socket: bind " + bind_to.toString() + ": " + why);
  }
}

UdpStunTransport::~UdpStunTransport() {
  if (fd_ >= 0) ::close(fd_);
}

void UdpStunTransport::send(const stun::TransportAddress& to, std::span<const std::uint8_t> bytes) {
  sockaddr_storage ss;
  const socklen_t len = toSockaddr(to, ss);
  // A failed send (unreachable network) is like a lost datagram: retransmit.
  (void)::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
}

std::optional<Datagram> UdpStunTransport::receive(milliseconds wait) {
  pollfd p{fd_, POLLIN, 0};
  const int n = ::poll(&p, 1, static_cast<int>(std::max<milliseconds::rep>(0, wait.count())));
  if (n <= 0) return std::nullopt;
  std::uint8_t buf[1500];
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  const ssize_t got = ::recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&ss), &len);
  if (got < 0) return Datagram{};  // e.g. ICMP port unreachable: an empty datagram
  return Datagram{fromSockaddr(ss), std::vector<std::uint8_t>(buf, buf + got)};
}

stun::TransportAddress UdpStunTransport::localAddress() const {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
  return fromSockaddr(ss);
}

StunClient::StunClient(StunTransport& transport, const Clock& clock, RetransmitSchedule schedule,
                       std::function<stun::TransactionId()> new_id)
    : transport_(transport),
      clock_(clock),
      schedule_(schedule),
      new_id_(new_id ? std::move(new_id) : randomId) {}

BindingResult StunClient::binding(const stun::TransportAddress& server, bool change_ip,
                                  bool change_port) {
  BindingResult result;
  const stun::TransactionId id = new_id_();
  const auto request = stun::buildBindingRequest(id, change_ip, change_port, "Duplex PBX");
  const auto offsets = schedule_.sendOffsets();
  const auto start = clock_.now();
  const auto give_up = start + schedule_.giveUpAfter();
  std::size_t next = 0;
  while (true) {
    const auto now = clock_.now();
    if (now >= give_up) break;
    if (next < offsets.size() && now >= start + offsets[next]) {
      transport_.send(server, request);
      ++result.requests_sent;
      ++next;
      continue;
    }
    const auto until = next < offsets.size() ? start + offsets[next] : give_up;
    const auto wait = std::chrono::duration_cast<milliseconds>(until - now);
    auto datagram = transport_.receive(std::max(wait, milliseconds{1}));
    if (!datagram) continue;
    const auto parsed = stun::parse(datagram->bytes);
    if (!parsed.ok() || parsed.message.transaction_id != id ||
        parsed.message.method != stun::kBindingMethod ||
        (parsed.message.message_class != stun::MessageClass::kSuccess &&
         parsed.message.message_class != stun::MessageClass::kError)) {
      ++result.ignored;
      continue;
    }
    const auto& m = parsed.message;
    if (m.message_class == stun::MessageClass::kError) {
      result.error = "STUN error " + std::to_string(m.error_code.value_or(0)) +
                     (m.error_reason.empty() ? "" : " " + m.error_reason) + " from " +
                     server.toString();
      return result;
    }
    result.mapped = m.mappedAddress();
    result.other_address = m.other_address;
    result.response_origin = m.response_origin;
    if (!result.mapped) result.error = "no mapped address in the reply from " + server.toString();
    return result;
  }
  result.error = "no STUN reply from " + server.toString() + " after " +
                 std::to_string(result.requests_sent) + " requests";
  return result;
}

std::string verdictText(MappingBehavior mapping, FilteringBehavior filtering) {
  std::string text;
  switch (mapping) {
    case MappingBehavior::kUnknown:
      return "NAT type unknown: the STUN server does not support RFC 5780 (no OTHER-ADDRESS); "
             "the PBX relays media anyway";
    case MappingBehavior::kNoNat:
      return "no NAT: the PBX's own address is public; phones anywhere can reach it";
    case MappingBehavior::kEndpointIndependent:
      text =
          "endpoint-independent mapping: phones with STUN will work; the PBX relays media "
          "anyway";
      break;
    case MappingBehavior::kAddressDependent:
      text =
          "address-dependent mapping (symmetric): only relayed media works for phones behind "
          "this router";
      break;
    case MappingBehavior::kAddressAndPortDependent:
      text =
          "address- and port-dependent mapping (symmetric): only relayed media works for "
          "phones behind this router";
      break;
  }
  switch (filtering) {
    case FilteringBehavior::kUnknown:
      break;
    case FilteringBehavior::kEndpointIndependent:
      text += "; endpoint-independent filtering: once a port is open anyone can send to it";
      break;
    case FilteringBehavior::kAddressDependent:
      text +=
          "; address-dependent filtering: only hosts the PBX has sent to get through, so "
          "unmapped ports need the PBX to send first";
      break;
    case FilteringBehavior::kAddressAndPortDependent:
      text +=
          "; address- and port-dependent filtering: only the exact address and port the PBX "
          "has sent to get through, so unmapped ports need the PBX to send first";
      break;
  }
  return text;
}

NatProbeResult probeNatType(StunClient& client, StunClient& filtering_client,
                            const stun::TransportAddress& server,
                            const std::vector<IpAddress>& local_ips, std::uint16_t local_port) {
  NatProbeResult out;
  out.verdict.server = server.toString();
  // Test I (RFC 5780 4.3).
  const BindingResult t1 = client.binding(server);
  if (!t1.mapped) {
    out.error = t1.error;
    out.verdict.text = "NAT type unknown: " + t1.error;
    return out;
  }
  out.mapped = t1.mapped;
  if (t1.mapped->port == local_port &&
      std::find(local_ips.begin(), local_ips.end(), t1.mapped->ip) != local_ips.end()) {
    out.verdict.mapping = MappingBehavior::kNoNat;
    out.verdict.filtering = FilteringBehavior::kUnknown;
    out.verdict.text = verdictText(out.verdict.mapping, out.verdict.filtering);
    return out;
  }
  if (!t1.other_address || t1.other_address->ip == server.ip) {
    out.verdict.text = verdictText(MappingBehavior::kUnknown, FilteringBehavior::kUnknown);
    return out;
  }
  const stun::TransportAddress alt_ip_primary_port{t1.other_address->ip, server.port};
  // Test II: the alternate IP, primary port.
  const BindingResult t2 = client.binding(alt_ip_primary_port);
  if (!t2.mapped) {
    out.verdict.text =
        "NAT type unknown: the STUN server's other address did not answer (" + t2.error + ")";
    return out;
  }
  if (*t2.mapped == *t1.mapped) {
    out.verdict.mapping = MappingBehavior::kEndpointIndependent;
  } else {
    // Test III: the alternate IP and port.
    const BindingResult t3 = client.binding(*t1.other_address);
    if (!t3.mapped) {
      out.verdict.text =
          "NAT type unknown: the STUN server's other port did not answer (" + t3.error + ")";
      return out;
    }
    out.verdict.mapping = *t3.mapped == *t2.mapped ? MappingBehavior::kAddressDependent
                                                   : MappingBehavior::kAddressAndPortDependent;
  }
  // Filtering (RFC 5780 4.4) from a fresh socket: test I opens the filter
  // toward the primary address only; test II asks for a reply from the other
  // IP and port, test III from the other port only.
  if (!filtering_client.binding(server).mapped) {
    out.verdict.text = verdictText(out.verdict.mapping, out.verdict.filtering);
    return out;
  }
  if (filtering_client.binding(server, true, true).mapped) {
    out.verdict.filtering = FilteringBehavior::kEndpointIndependent;
  } else if (filtering_client.binding(server, false, true).mapped) {
    out.verdict.filtering = FilteringBehavior::kAddressDependent;
  } else {
    out.verdict.filtering = FilteringBehavior::kAddressAndPortDependent;
  }
  out.verdict.text = verdictText(out.verdict.mapping, out.verdict.filtering);
  return out;
}

}  // namespace duplex::nat
