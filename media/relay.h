// The media relay (DESIGN.md "Media loop"): RTP/RTCP of every call goes
// through a pair of even/odd UDP ports per leg, so that no phone needs to
// reach another phone's (private) address. Packets a leg sends arrive on that
// leg's relay ports and leave toward the other leg from the other leg's
// ports: the relay sends to a leg from exactly the port it advertised to that
// leg (symmetric RTP, RFC 4961), so strictly symmetric peers accept it.
//
// Latching (comedia), not hijackable: a leg's destination starts as its SDP
// address. The first packets on the leg's port open a learning window
// (RelayConfig::learning_window, 2 s from the first packet); in it the relay
// latches to their source, and switches only to a better-matching source
// (exact SDP address > same IP as the SDP or the signalling address > any
// other). After the window the leg is locked: packets from any other source
// are dropped, counted, and never forwarded, and nothing is ever sent to them.
// setRemote() (each offer/answer, e.g. a re-INVITE) reopens learning. RTCP
// ports follow the same rule on their own.
//
// Timers (relay thread): a keep-alive (an empty RTP packet, PT 13 "comfort
// noise", RFC 6263 4.x style) toward a leg no packet was sent to for
// keepalive_interval; media timeout when no RTP came from either leg for
// `timeout` (never while a leg is on hold); one-way diagnosis `one_way_after`
// after answered().
//
// For: pbx/call (one session per relayed media stream of a call), pbx/app
// (start/stop, port preference from the NAT port mapper), admin (counters()).
//
// Threads:
//   - MediaRelay owns one relay thread (epoll, recvmmsg/sendmmsg; no
//     allocation and no lock per packet).
//   - Every public member is thread-safe and never blocks on the relay
//     thread. createSession() allocates and binds the ports synchronously (a
//     short lock on the port pool); every other command is queued to the relay
//     thread and takes effect there in order (commands for an unknown or
//     released session are ignored).
//   - The EventHandler runs ON THE RELAY THREAD: it must not block or throw;
//     post the event to your own loop (pbx/call posts to the SIP loop).
//
// Errors: createSession() returns a CreateResult with a reason ("no free RTP
// port pair in 10000-20000", "cannot bind RTP socket on 10.0.0.1:10000: Cannot
// assign requested address"). The constructor throws std::invalid_argument for
// a bad RelayConfig (no port pair in the range, bind_address not an IP) and
// std::system_error when epoll cannot be created; start() throws
// std::system_error when the thread cannot be created (start-up path only).
// Packets never throw: malformed ones are counted and dropped.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "media/address.h"
#include "media/media_stats.h"

namespace duplex::media {

class Clock;

struct RelayConfig {
  std::string bind_address = "0.0.0.0";  // local IP the RTP sockets bind to
  std::uint16_t port_min = 10000;        // even ports in [port_min, port_max] are RTP
  std::uint16_t port_max = 20000;
  std::chrono::milliseconds learning_window{2000};
  std::chrono::milliseconds keepalive_interval{15000};
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds one_way_after{5000};
  int socket_buffer_bytes = 256 * 1024;  // SO_RCVBUF/SO_SNDBUF per socket
  // SCHED_FIFO priority of the relay thread (1-99; 0 = normal scheduling).
  // media/realtime.h says why; while the relay runs flat out it drops to
  // normal priority by itself (kPriority events).
  int realtime_priority = 0;
};

using SessionId = std::uint64_t;  // never 0 for a real session

// The relay's local ports of one leg: advertise these in the SDP toward that leg.
struct LegPorts {
  std::uint16_t rtp = 0;   // even
  std::uint16_t rtcp = 0;  // rtp + 1
};

struct CreateResult {
  SessionId id = 0;  // 0 on failure
  LegPorts a;
  LegPorts b;
  std::string error;  // "" on success
  explicit operator bool() const { return id != 0; }
};

// What one offer or answer says about a leg (from media/sdp.h mediaTarget()).
struct RemoteMedia {
  std::string address;  // IP literal of the SDP c= line (resolve hostnames first)
  std::uint16_t rtp_port = 0;
  std::uint16_t rtcp_port = 0;  // 0 = rtp_port + 1 (or rtp_port with rtcp_mux)
  bool rtcp_mux = false;
  bool hold = false;       // media/sdp.h isHold(): no timeout, no one-way diagnosis
  int clock_rate = 8000;   // of the negotiated codec, for jitter
  std::string signal_ip;   // the IP the leg's SIP came from ("" if unknown): a
                           // latching preference and a diagnosis fact
  std::string advertised;  // the relay address:port given to this leg (diagnosis text);
                           // "" keeps what setAdvertised() set
};

enum class MediaEventKind {
  kLatched,     // `leg` latched (or re-latched) its RTP to `text` (the source)
  kOneWay,      // one-way audio: `leg` sent nothing; `text` says why in plain language
  kTimeout,     // no RTP either way for RelayConfig::timeout: end the call; `text` = reason
  kStats,       // answer to requestStats(); `stats` filled
  kFinalStats,  // the session was released; `stats` filled; last event of the session
  kPriority,    // relay-wide (session 0): the relay thread left or retook real-time
                // priority (media/realtime.h); `text` says why
};

struct MediaEvent {
  MediaEventKind kind = MediaEventKind::kStats;
  SessionId session = 0;
  Leg leg = Leg::kA;
  std::string text;
  SessionStats stats;  // filled for kStats, kFinalStats, kOneWay and kTimeout
};

using EventHandler = std::function<void(const MediaEvent&)>;

// Relay-wide counters for admin/status; relaxed atomics, read from any thread.
struct RelayCounters {
  std::atomic<std::uint64_t> sessions_active{0};
  std::atomic<std::uint64_t> sessions_created{0};
  std::atomic<std::uint64_t> create_failures{0};
  std::atomic<std::uint64_t> packets_relayed{0};
  std::atomic<std::uint64_t> packets_dropped_foreign{0};
  std::atomic<std::uint64_t> packets_dropped_other{0};  // no destination yet, send refused
  std::atomic<std::uint64_t> realtime_demotions{0};     // overloads that cost real-time priority
};

class MediaRelay {
 public:
  // `clock` (nullptr = the system clock) must outlive the relay.
  explicit MediaRelay(RelayConfig config, EventHandler on_event = {}, const Clock* clock = nullptr);
  ~MediaRelay();  // stop()s; open sessions are dropped without kFinalStats
  MediaRelay(const MediaRelay&) = delete;
  MediaRelay& operator=(const MediaRelay&) = delete;

  // Starts the relay thread. Throws (see above); a second start() is a no-op.
  void start();
  // After start(): "" when the relay thread runs at RelayConfig::realtime_priority
  // (or none was asked for), else why it runs at normal priority, with the fix.
  const std::string& realtimeError() const;
  // Stops and joins the thread; sessions still open are closed (their
  // ports returned). Safe to call twice.
  void stop();

  // UPnP-mapped ports first (set by pbx/app from the NAT port mapper; media
  // knows nothing of NAT): `is_preferred(even_rtp_port)` is evaluated under
  // the pool lock when set and when a pair returns to the pool; call again
  // when the mapped set changes. Must be cheap and thread-safe. {} = none.
  void setPortPreference(std::function<bool(std::uint16_t)> is_preferred);

  // Allocates and binds an RTP/RTCP pair for each leg. Until setRemote() the
  // legs have no destination: packets are latched as they come but not
  // forwarded to a leg without a destination.
  CreateResult createSession();
  // An offer/answer for `leg`: sets its SDP address (initial destination),
  // hold, and reopens its learning window.
  void setRemote(SessionId id, Leg leg, RemoteMedia remote);
  // Hold/resume without a new address (e.g. a=inactive re-INVITE with the same c=).
  void setHold(SessionId id, Leg leg, bool hold);
  // The relay address:port the SDP sent to `leg` gave it (a fact for the
  // call record and the diagnosis). That SDP is written when the other leg's
  // offer or answer is rewritten, so it is set on its own; setRemote() keeps it.
  void setAdvertised(SessionId id, Leg leg, std::string advertised);
  // The call was answered: starts the one-way-audio check (one_way_after).
  void answered(SessionId id);
  // Asks for a kStats event with a snapshot of the session.
  void requestStats(SessionId id);
  // Closes the session's sockets, returns its ports and emits kFinalStats.
  void releaseSession(SessionId id);

  // The RTP port range for sessions created from now on (an admin change,
  // applied without restart; media/port_pool.h): sessions in progress keep
  // their ports, a pair in use is never handed out twice, and a pair outside
  // the new range is not reused once released. Returns "" or why the range
  // was refused ("media port range 20001-20001 holds no even/odd RTP/RTCP
  // port pair"; the old range stays). Thread-safe, never blocks for long.
  std::string setPortRange(std::uint16_t min, std::uint16_t max);
  std::pair<std::uint16_t, std::uint16_t> portRange() const;

  const RelayCounters& counters() const;
  std::size_t freePortPairs() const;
  std::size_t portPairsInUse() const;
  // As constructed (port_min/port_max: the start-up range; see portRange()).
  const RelayConfig& config() const;

 private:
  class Engine;
  std::unique_ptr<Engine> engine_;
};

}  // namespace duplex::media
