// Media relay benchmark driver (issue 4 section 6). Not a test: prints figures.
//
//   relay_bench serve --sessions N --sink-base PORT [--source-port P] [--cpu C]
//                     [--port-min M]
//       Starts a MediaRelay on 127.0.0.1 with N sessions (relay ports from M,
//       default 36000): leg A expects media
//       from 127.0.0.1:P (the load generator's fixed source port, default
//       27000), leg B sends to 127.0.0.1:(PORT + i). Prints "TARGETS p,p,..."
//       (the leg-A RTP ports, for `udpbench send -P`) and "MEMORY ..." (RSS
//       growth per session), then relays until SIGTERM/SIGINT and prints
//       "RESULT packets_relayed=... cpu_s=... " like the anchor's udpbench.
//
//   relay_bench latency --sessions N --rate PPS --secs S [--direct] [--rt PRIO]
//       In one process: the relay thread pinned to CPU 1, a load generator
//       pinned to CPU 0 that plays both phones of N calls (both directions,
//       paced to PPS in total, 172-byte G.711 packets with a send timestamp)
//       and receives what the relay forwards. Prints the one-way latency
//       p50/p99/p99.9/max through the relay, and with --direct the same
//       generator sending phone to phone without the relay (the loopback
//       stack's own latency), so added latency = relay - direct.
//       The relay thread runs at SCHED_FIFO priority PRIO (default 10, the
//       daemon's media.realtime_priority; 0 = normal scheduling, as the
//       anchor). The generator does not catch up after it was descheduled
//       (another task took CPU 0): the packets it missed are skipped, not
//       sent in one burst that no set of real phones would send; the rate
//       actually offered is printed (offered_pps, skipped).
//
// Loopback only (everything binds to 127.0.0.1).
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "media/relay.h"

using namespace duplex::media;

namespace {

std::atomic<bool> g_stop{false};
void onSignal(int) {
  g_stop = true;
}

long rssKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

double cpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void pinTo(int cpu) {
  if (cpu < 0 || std::thread::hardware_concurrency() < 2) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof set, &set);
}

void unpin() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned i = 0; i < std::thread::hardware_concurrency(); ++i) CPU_SET(i, &set);
  sched_setaffinity(0, sizeof set, &set);
}

std::int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int arg(int argc, char** argv, const char* name, int fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::atoi(argv[i + 1]);
  }
  return fallback;
}

bool flag(int argc, char** argv, const char* name) {
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return true;
  }
  return false;
}

RelayConfig benchConfig(int sessions, int port_min = 36000) {
  RelayConfig c;
  c.bind_address = "127.0.0.1";
  c.port_min = static_cast<std::uint16_t>(port_min);  // 4 ports per session
  c.port_max = static_cast<std::uint16_t>(std::min(65535, port_min + sessions * 4 + 400));
  c.socket_buffer_bytes = 4 << 20;  // as the anchor (udpbench -B default)
  return c;
}

RemoteMedia remoteAt(std::uint16_t port) {
  RemoteMedia r;
  r.address = "127.0.0.1";
  r.rtp_port = port;
  return r;
}

int serve(int argc, char** argv) {
  const int sessions = arg(argc, argv, "--sessions", 100);
  const int sink_base = arg(argc, argv, "--sink-base", 23000);
  const int source_port = arg(argc, argv, "--source-port", 27000);
  pinTo(arg(argc, argv, "--cpu", -1));
  MediaRelay relay(benchConfig(sessions, arg(argc, argv, "--port-min", 36000)));
  const long rss_before = rssKb();
  std::vector<CreateResult> created;
  created.reserve(static_cast<std::size_t>(sessions));
  for (int i = 0; i < sessions; ++i) {
    CreateResult r = relay.createSession();
    if (!r) {
      std::fprintf(stderr, "createSession: %s\n", r.error.c_str());
      return 1;
    }
    relay.setRemote(r.id, Leg::kA, remoteAt(static_cast<std::uint16_t>(source_port)));
    relay.setRemote(r.id, Leg::kB, remoteAt(static_cast<std::uint16_t>(sink_base + i)));
    relay.answered(r.id);
    created.push_back(r);
  }
  relay.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // sessions applied
  const long rss_after = rssKb();
  std::string targets;
  for (const auto& r : created) {
    if (!targets.empty()) targets += ',';
    targets += std::to_string(r.a.rtp);
  }
  std::printf("TARGETS %s\n", targets.c_str());
  std::printf("MEMORY sessions=%d rss_before_kb=%ld rss_after_kb=%ld bytes_per_session=%ld\n",
              sessions, rss_before, rss_after, (rss_after - rss_before) * 1024 / sessions);
  std::fflush(stdout);
  signal(SIGTERM, onSignal);
  signal(SIGINT, onSignal);
  const double cpu0 = cpuSeconds();
  const auto t0 = std::chrono::steady_clock::now();
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpuSeconds() - cpu0;
  const auto& k = relay.counters();
  std::printf(
      "RESULT mode=duplex-relay n=%d packets_out=%llu dropped_foreign=%llu dropped_other=%llu "
      "seconds=%.3f cpu_s=%.3f cpu_pct=%.1f\n",
      sessions, static_cast<unsigned long long>(k.packets_relayed.load()),
      static_cast<unsigned long long>(k.packets_dropped_foreign.load()),
      static_cast<unsigned long long>(k.packets_dropped_other.load()), secs, cpu, 100 * cpu / secs);
  relay.stop();
  return 0;
}

int udpSocket(std::uint16_t port = 0) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  const int size = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) std::perror("bind");
  return fd;
}

std::uint16_t portOf(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

int latency(int argc, char** argv) {
  const int sessions = arg(argc, argv, "--sessions", 1000);
  const int rate = arg(argc, argv, "--rate", 100000);
  const int secs = arg(argc, argv, "--secs", 10);
  const bool direct = flag(argc, argv, "--direct");
  // --anchor-in IN --anchor-out OUT: no Duplex relay; the anchor's bare relay
  // (`udpbench relay -l 127.0.0.1:IN -d 127.0.0.1:OUT -n 2N`, one socket per
  // stream) carries both directions of the N calls: call i's A side is stream
  // 2i, its B side stream 2i+1; stream k arrives on IN+k and leaves to OUT+k,
  // where the generator has a socket per stream.
  const int anchor_in = arg(argc, argv, "--anchor-in", 0);
  const int anchor_out = arg(argc, argv, "--anchor-out", 0);
  const bool anchor = anchor_in != 0;
  // The two phones of every call: one socket each, shared by all calls.
  const int phone_a = udpSocket();
  const int phone_b = udpSocket();
  std::vector<int> anchor_sinks;
  const int sink_epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (anchor) {
    for (int k = 0; k < 2 * sessions; ++k) {
      const int fd = udpSocket(static_cast<std::uint16_t>(anchor_out + k));
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.fd = fd;
      ::epoll_ctl(sink_epoll, EPOLL_CTL_ADD, fd, &event);
      anchor_sinks.push_back(fd);
    }
  }
  std::vector<sockaddr_in> to_a;  // where phone A sends for call i (relay leg A port)
  std::vector<sockaddr_in> to_b;
  pinTo(1);  // the relay thread inherits CPU 1
  RelayConfig config = benchConfig(sessions);
  config.realtime_priority = arg(argc, argv, "--rt", 10);
  MediaRelay relay(config);
  const long rss_before = rssKb();
  if (anchor) {
    for (int i = 0; i < sessions; ++i) {
      to_a.push_back(loopback(static_cast<std::uint16_t>(anchor_in + 2 * i)));
      to_b.push_back(loopback(static_cast<std::uint16_t>(anchor_in + 2 * i + 1)));
    }
  } else if (!direct) {
    for (int i = 0; i < sessions; ++i) {
      CreateResult r = relay.createSession();
      if (!r) {
        std::fprintf(stderr, "createSession: %s\n", r.error.c_str());
        return 1;
      }
      relay.setRemote(r.id, Leg::kA, remoteAt(portOf(phone_a)));
      relay.setRemote(r.id, Leg::kB, remoteAt(portOf(phone_b)));
      relay.answered(r.id);
      to_a.push_back(loopback(r.a.rtp));
      to_b.push_back(loopback(r.b.rtp));
    }
    relay.start();
    if (!relay.realtimeError().empty()) std::fprintf(stderr, "%s\n", relay.realtimeError().c_str());
  } else {
    to_a.assign(static_cast<std::size_t>(sessions), loopback(portOf(phone_b)));
    to_b.assign(static_cast<std::size_t>(sessions), loopback(portOf(phone_a)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const long rss_after = rssKb();
  pinTo(0);  // the load generator

  constexpr int kBatch = 8;
  std::vector<std::int64_t> samples;
  samples.reserve(static_cast<std::size_t>(rate) * static_cast<std::size_t>(secs) + 1024);
  std::uint8_t tx[kBatch][172];
  std::uint8_t rx[64][2048];
  mmsghdr txh[kBatch];
  iovec txv[kBatch];
  mmsghdr rxh[64];
  iovec rxv[64];
  for (int j = 0; j < 64; ++j) {
    rxv[j] = iovec{rx[j], sizeof rx[j]};
    std::memset(&rxh[j], 0, sizeof rxh[j]);
    rxh[j].msg_hdr.msg_iov = &rxv[j];
    rxh[j].msg_hdr.msg_iovlen = 1;
  }
  std::uint64_t sent = 0;
  std::uint64_t skipped = 0;  // due while the generator was descheduled
  std::uint64_t received = 0;
  std::uint16_t seq = 0;
  std::size_t next_call = 0;
  bool side_a = true;
  const std::int64_t start = nowNs();
  const std::int64_t warmup_end = start + 1'000'000'000LL;  // 1 s before sampling
  const std::int64_t end = start + static_cast<std::int64_t>(secs) * 1'000'000'000LL;
  while (nowNs() < end + 200'000'000LL) {
    const std::int64_t now = nowNs();
    if (now < end) {
      auto due = static_cast<std::int64_t>(static_cast<double>(now - start) * rate / 1e9) -
                 static_cast<std::int64_t>(sent + skipped);
      if (due > 4 * kBatch) {  // descheduled for a while: skip, don't burst
        skipped += static_cast<std::uint64_t>(due - kBatch);
        due = kBatch;
      }
      int n = static_cast<int>(std::min<std::int64_t>(due, kBatch));
      // Both phones send: alternate batches from A and from B.
      const int fd = side_a ? phone_a : phone_b;
      std::vector<sockaddr_in>& dst = side_a ? to_a : to_b;
      for (int j = 0; j < n; ++j) {
        std::uint8_t* p = tx[j];
        std::memset(p, 0xD5, 172);
        p[0] = 0x80;
        p[1] = 0;
        p[2] = static_cast<std::uint8_t>(seq >> 8);
        p[3] = static_cast<std::uint8_t>(seq);
        ++seq;
        const std::int64_t stamp = nowNs();
        std::memcpy(p + 12, &stamp, sizeof stamp);
        txv[j] = iovec{p, 172};
        std::memset(&txh[j], 0, sizeof txh[j]);
        txh[j].msg_hdr.msg_iov = &txv[j];
        txh[j].msg_hdr.msg_iovlen = 1;
        txh[j].msg_hdr.msg_name = &dst[next_call];
        txh[j].msg_hdr.msg_namelen = sizeof(sockaddr_in);
        next_call = (next_call + 1) % dst.size();
      }
      if (n > 0) {
        const int s = ::sendmmsg(fd, txh, static_cast<unsigned>(n), 0);
        if (s > 0) sent += static_cast<std::uint64_t>(s);
        side_a = !side_a;
      }
    }
    std::array<int, 64> readable{phone_a, phone_b};
    int n_readable = 2;
    if (anchor) {
      std::array<epoll_event, 64> events;
      n_readable = ::epoll_wait(sink_epoll, events.data(), 64, 0);
      for (int k = 0; k < n_readable; ++k)
        readable[static_cast<std::size_t>(k)] = events[static_cast<std::size_t>(k)].data.fd;
    }
    for (int k = 0; k < n_readable; ++k) {
      const int fd = readable[static_cast<std::size_t>(k)];
      const int r = ::recvmmsg(fd, rxh, 64, MSG_DONTWAIT, nullptr);
      if (r <= 0) continue;
      const std::int64_t at = nowNs();
      for (int j = 0; j < r; ++j) {
        if (rxh[j].msg_len < 20) continue;
        std::int64_t stamp;
        std::memcpy(&stamp, rx[j] + 12, sizeof stamp);
        ++received;
        if (stamp >= warmup_end && stamp < end) samples.push_back(at - stamp);
      }
    }
  }
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double q) {
    if (samples.empty()) return 0.0;
    const auto i = static_cast<std::size_t>(q * static_cast<double>(samples.size() - 1));
    return static_cast<double>(samples[i]) / 1000.0;
  };
  const double loss =
      sent ? 100.0 * (1.0 - static_cast<double>(received) / static_cast<double>(sent)) : 100.0;
  std::printf(
      "RESULT mode=latency path=%s sessions=%d rate=%d secs=%d rt=%d sent=%llu received=%llu "
      "skipped=%llu offered_pps=%.0f loss_pct=%.4f samples=%zu p50_us=%.1f p90_us=%.1f p99_us=%.1f "
      "p999_us=%.1f max_us=%.1f "
      "rss_per_session_bytes=%ld\n",
      direct ? "direct" : (anchor ? "anchor" : "relay"), sessions, rate, secs,
      direct || anchor || !relay.realtimeError().empty() ? 0 : config.realtime_priority,
      static_cast<unsigned long long>(sent), static_cast<unsigned long long>(received),
      static_cast<unsigned long long>(skipped), static_cast<double>(sent) / secs, loss,
      samples.size(), pct(0.5), pct(0.9), pct(0.99), pct(0.999),
      samples.empty() ? 0.0 : static_cast<double>(samples.back()) / 1000.0,
      direct ? 0L : (rss_after - rss_before) * 1024 / sessions);
  unpin();
  relay.stop();
  ::close(phone_a);
  ::close(phone_b);
  for (int fd : anchor_sinks) ::close(fd);
  ::close(sink_epoll);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "serve") == 0) return serve(argc, argv);
  if (argc >= 2 && std::strcmp(argv[1], "latency") == 0) return latency(argc, argv);
  std::fprintf(
      stderr,
      "usage: relay_bench serve --sessions N --sink-base PORT [--source-port P] [--cpu C]\n"
      "                         [--port-min M]\n"
      "       relay_bench latency --sessions N --rate PPS --secs S [--direct]\n");
  return 2;
}
