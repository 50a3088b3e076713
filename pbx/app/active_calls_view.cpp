// The admin status's active calls; see active_calls_view.h.
#include "pbx/app/active_calls_view.h"

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "media/media_stats.h"
#include "pbx/app/call_wiring.h"

namespace duplex::app {
namespace {

using Facts = call::RelayMediaSessions::LiveFactsBySession;

std::string notAvailable(const std::string& detail) {
  Poco::JSON::Object o;
  o.set("available", false);
  o.set("detail", detail);
  std::ostringstream out;
  Poco::JSON::Stringifier::stringify(o, out);
  return out.str();
}

// "both_ways" when RTP came from both phones, else who is silent.
std::string audioOf(const media::SessionStats& s) {
  const bool a = s.a.rtp_packets_in > 0;
  const bool b = s.b.rtp_packets_in > 0;
  if (a && b) return "both_ways";
  if (a) return "caller_only";
  if (b) return "callee_only";
  return "none";
}

}  // namespace

std::string activeCallsToJson(const std::vector<call::CallSnapshot>& calls, const Facts& media,
                              std::int64_t nowUnix) {
  Poco::JSON::Array out;
  for (const auto& c : calls) {
    Poco::JSON::Object::Ptr call = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
    call->set("id", static_cast<Poco::UInt64>(c.id));
    call->set("state", c.state);
    call->set("direction", c.direction);
    call->set("trunk", c.trunk);
    call->set("caller", c.caller);
    call->set("dialled", c.dialled);
    call->set("callee", c.callee);
    call->set("started_at", static_cast<Poco::Int64>(c.startedAt));
    call->set("answered_at", c.answeredAt
                                 ? Poco::Dynamic::Var(static_cast<Poco::Int64>(*c.answeredAt))
                                 : Poco::Dynamic::Var());
    call->set("duration_s", static_cast<Poco::Int64>(nowUnix - c.startedAt));
    // The relay's own per-leg JSON (media_stats.h), split into its legs.
    const auto facts = media.find(c.mediaSession);
    Poco::JSON::Object::Ptr legA, legB;
    if (facts != media.end()) {
      try {
        Poco::JSON::Parser parser;
        auto parsed = parser.parse(media::mediaFactsJson(facts->second.stats))
                          .extract<Poco::JSON::Object::Ptr>();
        legA = parsed->getObject("a");
        legB = parsed->getObject("b");
      } catch (const Poco::Exception&) {  // cannot happen with our own JSON; show no facts
      }
    }
    Poco::JSON::Array legs;
    for (const auto& l : c.legs) {
      Poco::JSON::Object::Ptr leg = new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER);
      leg->set("side", l.side);
      leg->set("state", l.state);
      leg->set("extension", l.extension);
      leg->set("call_id", l.callId);
      leg->set("peer", l.peer);
      leg->set("transport", l.transport);
      leg->set("advertised", l.advertised);
      leg->set("status", l.status != 0 ? Poco::Dynamic::Var(l.status) : Poco::Dynamic::Var());
      leg->set("reason", l.reason);
      const auto& m = l.side == "caller" ? legA : legB;
      leg->set("media", m.isNull() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(m));
      legs.add(leg);
    }
    call->set("legs", legs);
    if (facts != media.end()) {
      call->set("audio", audioOf(facts->second.stats));
      call->set("diagnosis", facts->second.diagnosis.empty()
                                 ? Poco::Dynamic::Var()
                                 : Poco::Dynamic::Var(facts->second.diagnosis));
    } else {
      call->set("audio", "unknown");
      call->set("diagnosis", Poco::Dynamic::Var());
    }
    out.add(call);
  }
  std::ostringstream text;
  Poco::JSON::Stringifier::stringify(out, text);
  return text.str();
}

std::string SipActiveCallsView::activeCallsJson() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(cacheMutex_);
    if (!cached_.empty() && now - cachedAt_ < maxAge_) return cached_;
  }
  std::string fresh = fetch();
  if (fresh.front() == '[') {  // an answer, not "not available": worth reusing
    std::lock_guard lock(cacheMutex_);
    cached_ = fresh;
    cachedAt_ = now;
  }
  return fresh;
}

std::string SipActiveCallsView::fetch() {
  struct Slot {
    std::mutex mutex;
    std::condition_variable ready;
    std::optional<ActiveCallsAnswer> answer;
  };
  auto slot = std::make_shared<Slot>();
  const bool asked = source_([slot](ActiveCallsAnswer answer) {
    {
      std::lock_guard lock(slot->mutex);
      slot->answer = std::move(answer);
    }
    slot->ready.notify_all();
  });
  if (!asked) return notAvailable("the SIP loop is not running");
  std::unique_lock lock(slot->mutex);
  if (!slot->ready.wait_for(lock, timeout_, [&] { return slot->answer.has_value(); })) {
    return notAvailable("call control did not answer within " + std::to_string(timeout_.count()) +
                        " ms (busy); try again");
  }
  if (!slot->answer->callControl) return notAvailable("call control is not running (no database)");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  return activeCallsToJson(slot->answer->calls, slot->answer->media, now);
}

SipActiveCallsView::Source callControlSource(
    std::function<bool(std::function<void(CallWiring*)>)> postToCallControl) {
  return [post = std::move(postToCallControl)](std::function<void(ActiveCallsAnswer)> deliver) {
    return post([deliver = std::move(deliver)](CallWiring* wiring) {
      if (wiring == nullptr) {
        deliver(ActiveCallsAnswer{false, {}, {}});
        return;
      }
      wiring->activeCalls([deliver](std::vector<call::CallSnapshot> calls, Facts media) {
        deliver(ActiveCallsAnswer{true, std::move(calls), std::move(media)});
      });
    });
  };
}

}  // namespace duplex::app
