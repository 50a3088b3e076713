// The relay thread: epoll over every session's sockets, batched
// recvmmsg()/sendmmsg(), the command queue from the SIP thread and the timer
// tick; and the MediaRelay facade. Decisions are RelaySession's
// (relay_session.h); this file only moves bytes and events.
#include <sys/epoll.h>
#include <time.h>

#include "media/relay.h"
#include "media/relay_engine.h"

namespace duplex::media {

using relay_detail::kMaxEvents;
using relay_detail::kTickInterval;
using relay_detail::kWakeTag;

RelaySlot* MediaRelay::Engine::find(SessionId id) {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : slots_[it->second].get();
}

void MediaRelay::Engine::processCommands(Clock::TimePoint now) {
  {
    std::lock_guard lock(commands_mutex_);
    draining_.swap(commands_);
    commands_pending_.store(false, std::memory_order_relaxed);
  }
  for (auto& command : draining_) apply(command, now);
  draining_.clear();
}

void MediaRelay::Engine::apply(Command& command, Clock::TimePoint now) {
  if (auto* add = std::get_if<AddCommand>(&command)) {
    std::uint32_t index;
    if (!free_slots_.empty()) {
      index = free_slots_.back();
      free_slots_.pop_back();
    } else {
      index = static_cast<std::uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    RelaySlot& slot = *add->slot;
    for (std::uint64_t leg = 0; leg < 2; ++leg) {
      for (std::uint64_t ch = 0; ch < 2; ++ch) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = std::uint64_t{index} << 2 | leg << 1 | ch;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, slot.fds[leg][ch], &event);
      }
    }
    index_[slot.id] = index;
    slots_[index] = std::move(add->slot);
  } else if (auto* remote = std::get_if<RemoteCommand>(&command)) {
    if (RelaySlot* slot = find(remote->id)) {
      slot->logic.setRemote(remote->leg, remote->remote, bind_.family(), now);
    }
  } else if (auto* hold = std::get_if<HoldCommand>(&command)) {
    if (RelaySlot* slot = find(hold->id)) slot->logic.setHold(hold->leg, hold->hold);
  } else if (auto* adv = std::get_if<AdvertisedCommand>(&command)) {
    if (RelaySlot* slot = find(adv->id)) slot->logic.setAdvertised(adv->leg, adv->advertised);
  } else if (auto* simple = std::get_if<SimpleCommand>(&command)) {
    RelaySlot* slot = find(simple->id);
    if (slot == nullptr) return;
    switch (simple->kind) {
      case SimpleCommand::kAnswered:
        slot->logic.answered(now);
        break;
      case SimpleCommand::kStats:
        emit(MediaEventKind::kStats, *slot, Leg::kA, {}, now);
        break;
      case SimpleCommand::kRelease:
        removeSlot(simple->id, now, true);
        break;
    }
  }
}

void MediaRelay::Engine::removeSlot(SessionId id, Clock::TimePoint now, bool final_stats) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  const std::uint32_t index = it->second;
  index_.erase(it);
  std::unique_ptr<RelaySlot> slot = std::move(slots_[index]);
  free_slots_.push_back(index);
  for (auto& leg : slot->fds) {
    for (int fd : leg) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  }
  counters_.sessions_active.fetch_sub(1, std::memory_order_relaxed);
  MediaEvent event;
  event.kind = MediaEventKind::kFinalStats;
  event.session = slot->id;
  if (final_stats) event.stats = slot->logic.stats(now);
  slot.reset();  // closes the sockets and returns the ports before anyone hears of it
  if (final_stats && on_event_) on_event_(event);
}

void MediaRelay::Engine::emit(MediaEventKind kind, const RelaySlot& slot, Leg leg, std::string text,
                              Clock::TimePoint now) {
  if (!on_event_) return;
  MediaEvent event;
  event.kind = kind;
  event.session = slot.id;
  event.leg = leg;
  event.text = std::move(text);
  if (kind != MediaEventKind::kLatched) event.stats = slot.logic.stats(now);
  on_event_(event);
}

void MediaRelay::Engine::run() {
  std::array<epoll_event, kMaxEvents> events;
  auto next_tick = clock_->now() + kTickInterval;
  while (!stop_.load(std::memory_order_relaxed)) {
    const int ready = relay_detail::relayEpollWait(epoll_fd_, events.data(), kMaxEvents,
                                                   static_cast<int>(kTickInterval.count()));
    if (ready < 0 && errno != EINTR) break;
    const auto now = clock_->now();
    // Commands first: one posted before a packet was sent (an answer's new
    // address, answered()) must apply to that packet. post() sets the flag
    // before it wakes the loop, so no command waits beyond this round.
    if (commands_pending_.load(std::memory_order_acquire)) processCommands(now);
    for (int i = 0; i < ready; ++i) {
      const std::uint64_t tag = events[static_cast<std::size_t>(i)].data.u64;
      if (tag == kWakeTag) {
        std::uint64_t value;
        [[maybe_unused]] auto got = ::read(wake_fd_, &value, sizeof value);
        continue;
      }
      const std::size_t index = tag >> 2;
      if (index >= slots_.size() || !slots_[index]) continue;
      onReadable(*slots_[index], static_cast<Leg>((tag >> 1) & 1), static_cast<Channel>(tag & 1),
                 now);
    }
    flushRoundCounters();
    if (now >= next_tick) {
      if (realtime_) guardPriority();
      tickAll(now);
      next_tick = now + kTickInterval;
    }
  }
}

void MediaRelay::Engine::flushRoundCounters() {
  if (round_relayed_ != 0) {
    counters_.packets_relayed.fetch_add(round_relayed_, std::memory_order_relaxed);
  }
  if (round_foreign_ != 0) {
    counters_.packets_dropped_foreign.fetch_add(round_foreign_, std::memory_order_relaxed);
  }
  if (round_other_ != 0) {
    counters_.packets_dropped_other.fetch_add(round_other_, std::memory_order_relaxed);
  }
  round_relayed_ = round_foreign_ = round_other_ = 0;
}

void MediaRelay::Engine::onReadable(RelaySlot& slot, Leg leg, Channel channel,
                                    Clock::TimePoint now) {
  Buffers& b = *buffers_;
  // The kernel writes msg_namelen of the entries it fills; reset just those.
  for (std::size_t j = 0; j < b.rx_used; ++j) {
    b.rx[j].msg_hdr.msg_namelen = UdpAddress::kReceiveBufferLength;
  }
  b.rx_used = 0;
  const int received = relay_detail::relayRecvmmsg(
      slot.fds[static_cast<std::size_t>(leg)][static_cast<std::size_t>(channel)], b.rx.data(),
      kBatch, MSG_DONTWAIT);
  if (received <= 0) return;
  b.rx_used = static_cast<std::size_t>(received);
  const Leg to = otherLeg(leg);
  std::size_t out = 0;
  std::uint64_t dropped = 0;
  const std::uint64_t foreign_before = slot.logic.foreignDropped(leg);
  for (std::size_t j = 0; j < b.rx_used; ++j) {
    const mmsghdr& rx = b.rx[j];
    // A source too short for its family cannot happen on a UDP socket; such a
    // packet would have no address to latch to, so it is dropped like a truncated one.
    if ((rx.msg_hdr.msg_flags & MSG_TRUNC) != 0 ||
        rx.msg_hdr.msg_namelen < static_cast<socklen_t>(sizeof(sockaddr_in))) {
      ++dropped;
      continue;
    }
    const UdpAddress& source = b.names[j];
    bool latched = false;
    const UdpAddress* dest =
        slot.logic.onPacket(leg, channel, source, b.data[j].data(), rx.msg_len, now, latched);
    if (latched) {
      emit(MediaEventKind::kLatched, slot, leg,
           (channel == Channel::kRtp ? "RTP " : "RTCP ") + source.toString(), now);
    }
    if (dest == nullptr) {
      ++dropped;
      continue;
    }
    // Straight from the other leg's latch: packets from this leg never move
    // it, so the address stays put until sendmmsg() below has used it.
    b.tx_iov[out] = iovec{b.data[j].data(), rx.msg_len};
    b.tx[out].msg_hdr.msg_name = const_cast<sockaddr*>(dest->sockaddrPtr());
    b.tx[out].msg_hdr.msg_namelen = dest->sockaddrLength();
    ++out;
  }
  const int out_fd = slot.fds[static_cast<std::size_t>(to)][static_cast<std::size_t>(channel)];
  std::size_t offset = 0;
  std::uint64_t relayed = 0;
  std::uint64_t bytes = 0;
  while (offset < out) {
    const int sent = relay_detail::relaySendmmsg(out_fd, b.tx.data() + offset,
                                                 static_cast<unsigned>(out - offset), MSG_DONTWAIT);
    if (sent > 0) {
      for (std::size_t k = offset; k < offset + static_cast<std::size_t>(sent); ++k) {
        bytes += b.tx_iov[k].iov_len;
      }
      offset += static_cast<std::size_t>(sent);
      relayed += static_cast<std::uint64_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    // A refused datagram (full buffer, unreachable family): count it, go on.
    slot.logic.onSent(to, channel, 0, false, now);
    ++offset;
    ++dropped;
  }
  if (relayed != 0) slot.logic.onSentBatch(to, channel, relayed, bytes, now);
  const std::uint64_t foreign = slot.logic.foreignDropped(leg) - foreign_before;
  round_relayed_ += relayed;
  round_foreign_ += foreign;
  round_other_ += dropped - foreign;
}

void MediaRelay::Engine::sendKeepalive(RelaySlot& slot, Leg leg, Clock::TimePoint now) {
  const UdpAddress& to = slot.logic.destination(leg, Channel::kRtp);
  if (!to.isSet() || to.isNull()) return;
  // RFC 6263 4.6-style keep-alive: an RTP header with no payload and payload
  // type 13 (comfort noise, RFC 3389), which receivers play as silence or drop.
  const auto i = static_cast<std::size_t>(leg);
  const std::uint16_t seq = slot.keepalive_seq[i]++;
  const std::uint32_t ssrc = slot.keepalive_ssrc + static_cast<std::uint32_t>(i);
  const std::uint8_t packet[12] = {0x80,
                                   13,
                                   static_cast<std::uint8_t>(seq >> 8),
                                   static_cast<std::uint8_t>(seq),
                                   0,
                                   0,
                                   0,
                                   0,
                                   static_cast<std::uint8_t>(ssrc >> 24),
                                   static_cast<std::uint8_t>(ssrc >> 16),
                                   static_cast<std::uint8_t>(ssrc >> 8),
                                   static_cast<std::uint8_t>(ssrc)};
  const ssize_t sent = ::sendto(slot.fds[i][0], packet, sizeof packet, MSG_DONTWAIT,
                                to.sockaddrPtr(), to.sockaddrLength());
  if (sent == static_cast<ssize_t>(sizeof packet)) {
    slot.logic.onKeepaliveSent(leg, now);
  } else {
    slot.logic.onSent(leg, Channel::kRtp, 0, false, now);
  }
}

void MediaRelay::Engine::guardPriority() {
  timespec cpu_now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_now);
  const auto cpu = std::chrono::seconds(cpu_now.tv_sec) + std::chrono::nanoseconds(cpu_now.tv_nsec);
  const auto wall = std::chrono::steady_clock::now();
  const bool first = guard_wall_ == std::chrono::steady_clock::time_point{};
  const auto wall_spent = wall - guard_wall_;
  const auto cpu_spent = cpu - guard_cpu_;
  guard_wall_ = wall;
  guard_cpu_ = cpu;
  if (first || wall_spent <= std::chrono::nanoseconds::zero()) return;
  const double share = std::chrono::duration<double>(cpu_spent).count() /
                       std::chrono::duration<double>(wall_spent).count();
  const int percent = static_cast<int>(share * 100.0 + 0.5);
  switch (guard_.onTick(share)) {
    case PriorityGuard::Action::kNone:
      return;
    case PriorityGuard::Action::kDemote:
      setNormalPriority(::pthread_self());
      counters_.realtime_demotions.fetch_add(1, std::memory_order_relaxed);
      emitRelayWide(MediaEventKind::kPriority,
                    "media relay overloaded (" + std::to_string(percent) +
                        " % of a core): running at normal priority until the load recedes, so "
                        "that the rest of the system keeps its share of this core");
      return;
    case PriorityGuard::Action::kPromote: {
      std::string error = setRealtimePriority(::pthread_self(), config_.realtime_priority);
      realtime_ = error.empty();  // a refusal now (limits lowered meanwhile) is final
      emitRelayWide(MediaEventKind::kPriority,
                    error.empty() ? "media relay load receded (" + std::to_string(percent) +
                                        " % of a core): real-time priority " +
                                        std::to_string(config_.realtime_priority) + " again"
                                  : error);
      return;
    }
  }
}

void MediaRelay::Engine::emitRelayWide(MediaEventKind kind, std::string text) {
  if (!on_event_) return;
  MediaEvent event;
  event.kind = kind;
  event.text = std::move(text);
  on_event_(event);
}

void MediaRelay::Engine::tickAll(Clock::TimePoint now) {
  TickActions& actions = tick_actions_;
  for (auto& slot : slots_) {
    if (!slot) continue;
    slot->logic.tick(now, actions);
    for (Leg leg : {Leg::kA, Leg::kB}) {
      if (actions.keepalive[static_cast<std::size_t>(leg)]) sendKeepalive(*slot, leg, now);
    }
    if (actions.one_way)
      emit(MediaEventKind::kOneWay, *slot, actions.one_way_leg, actions.text, now);
    if (actions.timed_out) emit(MediaEventKind::kTimeout, *slot, Leg::kA, actions.text, now);
  }
}

MediaRelay::MediaRelay(RelayConfig config, EventHandler on_event, const Clock* clock)
    : engine_(std::make_unique<Engine>(std::move(config), std::move(on_event), clock)) {}

MediaRelay::~MediaRelay() = default;

void MediaRelay::start() {
  engine_->start();
}
const std::string& MediaRelay::realtimeError() const {
  return engine_->realtime_error_;
}
void MediaRelay::stop() {
  engine_->stop();
}

void MediaRelay::setPortPreference(std::function<bool(std::uint16_t)> is_preferred) {
  engine_->setPreference(std::move(is_preferred));
}

CreateResult MediaRelay::createSession() {
  return engine_->create();
}

void MediaRelay::setRemote(SessionId id, Leg leg, RemoteMedia remote) {
  engine_->post(RemoteCommand{id, leg, std::move(remote)});
}

void MediaRelay::setAdvertised(SessionId id, Leg leg, std::string advertised) {
  engine_->post(AdvertisedCommand{id, leg, std::move(advertised)});
}

void MediaRelay::setHold(SessionId id, Leg leg, bool hold) {
  engine_->post(HoldCommand{id, leg, hold});
}

void MediaRelay::answered(SessionId id) {
  engine_->post(SimpleCommand{SimpleCommand::kAnswered, id});
}
void MediaRelay::requestStats(SessionId id) {
  engine_->post(SimpleCommand{SimpleCommand::kStats, id});
}
void MediaRelay::releaseSession(SessionId id) {
  engine_->post(SimpleCommand{SimpleCommand::kRelease, id});
}

const RelayCounters& MediaRelay::counters() const {
  return engine_->counters_;
}
std::size_t MediaRelay::freePortPairs() const {
  return engine_->pool_.freeCount();
}
std::size_t MediaRelay::portPairsInUse() const {
  return engine_->pool_.inUseCount();
}
std::string MediaRelay::setPortRange(std::uint16_t min, std::uint16_t max) {
  if (engine_->pool_.setRange(min, max)) return "";
  return "media port range " + std::to_string(min) + "-" + std::to_string(max) +
         " holds no even/odd RTP/RTCP port pair";
}
std::pair<std::uint16_t, std::uint16_t> MediaRelay::portRange() const {
  return engine_->pool_.range();
}
const RelayConfig& MediaRelay::config() const {
  return engine_->config_;
}

}  // namespace duplex::media
