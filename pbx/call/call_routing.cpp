// The routing chain of call control; see call_routing.h.
#include "pbx/call/call_routing.h"

#include <algorithm>

namespace duplex::call {
namespace {

std::string jsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<RouteStop> checkMaxForwards(const sip::Message& invite, RoutingContext& ctx) {
  auto mf = invite.maxForwards();
  if (!mf) return RouteStop{mf.error().status, std::string(mf.error().reason)};
  if (!mf->has_value()) {
    ctx.maxForwards = 70;
    return std::nullopt;
  }
  if (**mf == 0) return RouteStop{483, "Too Many Hops"};
  ctx.maxForwards = std::min<std::uint32_t>(**mf - 1, 70);
  return std::nullopt;
}

std::optional<RouteStop> dialPlan(const sip::Message& invite, RoutingContext& ctx) {
  const sip::Uri& uri = invite.requestUri();
  if (!uri.isSip() || !uri.hasUser()) return RouteStop{404, "Not Found"};
  std::string user = uri.userUnescaped();
  if (user.empty()) return RouteStop{484, "Address Incomplete"};
  // Visual separators some phones keep in dialled numbers (RFC 3966 5.1.1).
  std::erase_if(user, [](char c) { return c == '-' || c == '.' || c == '(' || c == ')'; });
  ctx.dialled = user;
  return std::nullopt;
}

std::optional<RouteStop> resolveExtension(const ExtensionDirectory& directory,
                                          RoutingContext& ctx) {
  auto ext = directory.find(ctx.dialled);
  if (!ext || !ext->enabled) return RouteStop{404, "Not Found"};
  ctx.target = std::move(ext);
  return std::nullopt;
}

std::optional<RouteStop> applyFeatures(const ExtensionDirectory& directory, RoutingContext& ctx) {
  while (true) {
    const ExtensionFeatures& t = *ctx.target;
    if (t.number == ctx.caller) return RouteStop{486, "Busy Here (call to self)"};
    if (t.dnd) return RouteStop{486, "Busy Here (do not disturb)"};
    if (!t.forwardUnconditional || t.forwardUnconditional->empty()) return std::nullopt;
    auto next = directory.find(*t.forwardUnconditional);
    if (!next || !next->enabled) return std::nullopt;  // not internal: ring the extension
    if (static_cast<int>(ctx.steps.size()) >= kMaxForwardSteps ||
        std::any_of(ctx.steps.begin(), ctx.steps.end(),
                    [&](const ForwardStep& s) { return s.from == next->number; })) {
      return RouteStop{482, "Loop Detected"};
    }
    ctx.steps.push_back({t.number, next->number, "unconditional"});
    ctx.target = std::move(next);
  }
}

std::optional<RouteStop> forwardTo(const ExtensionDirectory& directory, std::string_view number,
                                   std::string_view why, RoutingContext& ctx) {
  auto next = directory.find(number);
  if (!next || !next->enabled) return RouteStop{404, "Not Found"};
  if (static_cast<int>(ctx.steps.size()) >= kMaxForwardSteps ||
      std::any_of(ctx.steps.begin(), ctx.steps.end(),
                  [&](const ForwardStep& s) { return s.from == next->number; })) {
    return RouteStop{482, "Loop Detected"};
  }
  ctx.steps.push_back(
      {ctx.target ? ctx.target->number : std::string(), next->number, std::string(why)});
  ctx.target = std::move(next);
  ctx.locations.clear();
  return applyFeatures(directory, ctx);
}

std::optional<RouteStop> findBindings(const registrar::Registrar& registrar,
                                      const ExtensionDirectory& directory, registrar::Instant now,
                                      RoutingContext& ctx) {
  for (int hop = 0; hop <= kMaxForwardSteps; ++hop) {
    ctx.locations = registrar.lookup(ctx.target->extensionId, now);
    if (!ctx.locations.empty()) return std::nullopt;
    const auto& fwd = ctx.target->forwardNoAnswer;
    if (!fwd || fwd->empty()) return RouteStop{480, "Temporarily Unavailable"};
    if (auto stop = forwardTo(directory, *fwd, "unavailable", ctx)) return stop;
  }
  return RouteStop{482, "Loop Detected"};
}

std::string forwardStepsJson(const std::vector<ForwardStep>& steps) {
  std::string out = "[";
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"from\":\"";
    out += jsonEscape(steps[i].from);
    out += "\",\"to\":\"";
    out += jsonEscape(steps[i].to);
    out += "\",\"why\":\"";
    out += jsonEscape(steps[i].why);
    out += "\"}";
  }
  out += ']';
  return out;
}

}  // namespace duplex::call
