// Outbound routing steps; see outbound_routing.h.
#include "pbx/call/outbound_routing.h"

#include <algorithm>
#include <bitset>
#include <regex>

namespace duplex::call {
namespace {

bool isDialChar(char c) {
  return (c >= '0' && c <= '9') || c == '*' || c == '#' || c == '+';
}

// One pattern element: a set of characters, repeated once, 1..n or 0..n times.
struct PatternElement {
  enum class Repeat { once, oneOrMore, zeroOrMore };
  std::bitset<128> chars;
  Repeat repeat = Repeat::once;
};

void addRange(std::bitset<128>& set, char from, char to) {
  for (char c = from; c <= to; ++c) set.set(static_cast<unsigned char>(c));
}

// Compiles a non-regex pattern; nullopt + reason when malformed.
std::optional<std::vector<PatternElement>> compile(std::string_view pattern, std::string* reason) {
  std::vector<PatternElement> out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    PatternElement e;
    switch (c) {
      case 'X':
      case 'x':
        addRange(e.chars, '0', '9');
        break;
      case 'Z':
      case 'z':
        addRange(e.chars, '1', '9');
        break;
      case 'N':
      case 'n':
        addRange(e.chars, '2', '9');
        break;
      case '.':
      case '!':
        e.chars.set();
        e.repeat =
            c == '.' ? PatternElement::Repeat::oneOrMore : PatternElement::Repeat::zeroOrMore;
        break;
      case '[': {
        const std::size_t close = pattern.find(']', i + 1);
        if (close == std::string_view::npos) {
          if (reason) *reason = "unclosed '[' at position " + std::to_string(i + 1);
          return std::nullopt;
        }
        std::string_view body = pattern.substr(i + 1, close - i - 1);
        if (body.empty()) {
          if (reason) *reason = "empty set '[]' at position " + std::to_string(i + 1);
          return std::nullopt;
        }
        for (std::size_t k = 0; k < body.size(); ++k) {
          if (!isDialChar(body[k])) {
            if (reason) *reason = std::string("'") + body[k] + "' is not allowed in a set";
            return std::nullopt;
          }
          if (k + 2 < body.size() && body[k + 1] == '-') {
            if (!isDialChar(body[k + 2]) || body[k + 2] < body[k]) {
              if (reason) *reason = "bad range in set [" + std::string(body) + "]";
              return std::nullopt;
            }
            addRange(e.chars, body[k], body[k + 2]);
            k += 2;
          } else {
            e.chars.set(static_cast<unsigned char>(body[k]));
          }
        }
        i = close;
        break;
      }
      default:
        if (!isDialChar(c)) {
          if (reason) {
            *reason = std::string("'") + c + "' at position " + std::to_string(i + 1) +
                      " is not a digit, *, #, +, X, Z, N, [set], '.' or '!'";
          }
          return std::nullopt;
        }
        e.chars.set(static_cast<unsigned char>(c));
    }
    out.push_back(e);
  }
  return out;
}

bool matchFrom(const std::vector<PatternElement>& p, std::size_t pi, std::string_view s,
               std::size_t si) {
  while (pi < p.size()) {
    const PatternElement& e = p[pi];
    if (e.repeat == PatternElement::Repeat::once) {
      if (si >= s.size() || static_cast<unsigned char>(s[si]) >= 128 ||
          !e.chars.test(static_cast<unsigned char>(s[si]))) {
        return false;
      }
      ++pi;
      ++si;
      continue;
    }
    // '.' / '!': every possible length, shortest first (numbers are short:
    // kMaxDialledDigits bounds the work).
    std::size_t min = e.repeat == PatternElement::Repeat::oneOrMore ? 1 : 0;
    for (std::size_t n = min; si + n <= s.size(); ++n) {
      if (matchFrom(p, pi + 1, s, si + n)) return true;
    }
    return false;
  }
  return si == s.size();
}

std::string_view regexBody(std::string_view pattern) {
  std::string_view body = pattern.substr(1);
  if (body.size() > 1 && body.back() == '/') body.remove_suffix(1);
  return body;
}

int rank(db::CallPermission p) {
  return static_cast<int>(p);
}

bool startsWithAny(std::string_view number, const std::vector<std::string>& prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(), [number](const std::string& p) {
    return !p.empty() && number.starts_with(p);
  });
}

}  // namespace

bool isDialableNumber(std::string_view number) {
  return !number.empty() && number.size() <= kMaxDialledDigits &&
         std::all_of(number.begin(), number.end(), isDialChar);
}

std::optional<std::string> validatePattern(std::string_view pattern) {
  if (pattern.empty()) return std::string("empty pattern");
  if (pattern.front() == '/') {
    std::string_view body = regexBody(pattern);
    if (body.empty()) return std::string("empty regex");
    try {
      std::regex re(body.begin(), body.end(), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return std::string("bad regex: ") + e.what();
    }
    return std::nullopt;
  }
  std::string reason;
  if (!compile(pattern, &reason)) return reason;
  return std::nullopt;
}

bool matchesPattern(std::string_view pattern, std::string_view number) {
  if (pattern.empty()) return false;
  if (pattern.front() == '/') {
    std::string_view body = regexBody(pattern);
    if (body.empty()) return false;
    try {
      std::regex re(body.begin(), body.end(), std::regex::ECMAScript);
      return std::regex_match(number.begin(), number.end(), re);
    } catch (const std::regex_error&) {
      return false;  // validatePattern() reports it; a bad route never matches
    }
  }
  auto compiled = compile(pattern, nullptr);
  return compiled && matchFrom(*compiled, 0, number, 0);
}

const OutboundRoute* findOutboundRoute(const std::vector<OutboundRoute>& routes,
                                       std::string_view number) {
  for (const OutboundRoute& r : routes) {
    if (r.enabled && matchesPattern(r.pattern, number)) return &r;
  }
  return nullptr;
}

std::string manipulateDigits(const OutboundRoute& route, std::string_view number) {
  const std::size_t strip = std::min<std::size_t>(
      static_cast<std::size_t>(std::max(route.stripDigits, 0)), number.size());
  std::string out = route.prefix;
  out += number.substr(strip);
  return out;
}

NumberClass classifyNumber(std::string_view dialled, const DialingRules& rules) {
  if (startsWithAny(dialled, rules.premiumPrefixes)) return NumberClass::premium;
  if (startsWithAny(dialled, rules.internationalPrefixes)) return NumberClass::international;
  if (!rules.nationalPrefix.empty() && dialled.starts_with(rules.nationalPrefix)) {
    return NumberClass::national;
  }
  return NumberClass::local;
}

std::string_view toString(NumberClass numberClass) {
  switch (numberClass) {
    case NumberClass::internal:
      return "internal";
    case NumberClass::local:
      return "local";
    case NumberClass::national:
      return "national";
    case NumberClass::international:
      return "international";
    case NumberClass::premium:
      return "premium";
  }
  return "local";
}

std::optional<RouteStop> checkPermission(const ExtensionFeatures& caller, NumberClass numberClass,
                                         const DialingRules& rules) {
  if (numberClass == NumberClass::premium) {
    if (!rules.allowPremium) return RouteStop{403, "Forbidden (premium-rate numbers are blocked)"};
    if (rank(caller.permissions) < rank(db::CallPermission::international)) {
      return RouteStop{403, "Forbidden (premium-rate calls not allowed for " + caller.number + ")"};
    }
    return std::nullopt;
  }
  db::CallPermission needed = db::CallPermission::internal;
  switch (numberClass) {
    case NumberClass::local:
      needed = db::CallPermission::local;
      break;
    case NumberClass::national:
      needed = db::CallPermission::national;
      break;
    case NumberClass::international:
      needed = db::CallPermission::international;
      break;
    default:
      break;
  }
  if (rank(caller.permissions) < rank(needed)) {
    return RouteStop{403, "Forbidden (" + std::string(toString(numberClass)) +
                              " calls not allowed for " + caller.number + ")"};
  }
  return std::nullopt;
}

std::optional<RouteStop> checkOutsideCallLimit(const ExtensionFeatures& caller,
                                               int activeOutsideCalls) {
  if (caller.maxOutsideCalls && activeOutsideCalls >= *caller.maxOutsideCalls) {
    return RouteStop{403, "Forbidden (" + caller.number + " reached its limit of " +
                              std::to_string(*caller.maxOutsideCalls) + " outside call" +
                              (*caller.maxOutsideCalls == 1 ? "" : "s") + ")"};
  }
  return std::nullopt;
}

std::vector<TrunkConfig> availableTrunks(const TrunkDirectory& directory,
                                         const OutboundRoute& route,
                                         const std::function<int(std::int64_t)>& activeCalls,
                                         std::optional<RouteStop>& stop) {
  std::vector<TrunkConfig> out;
  bool anyEnabled = false;
  for (std::int64_t id : route.trunkIds) {
    std::optional<TrunkConfig> t = directory.trunk(id);
    if (!t || !t->enabled) continue;
    anyEnabled = true;
    if (t->maxCalls && activeCalls && activeCalls(id) >= *t->maxCalls) continue;  // full: next
    out.push_back(std::move(*t));
  }
  if (out.empty()) {
    stop =
        anyEnabled
            ? RouteStop{503,
                        "Service Unavailable (all trunks of route " + route.name + " are busy)"}
            : RouteStop{503, "Service Unavailable (no enabled trunk for route " + route.name + ")"};
  }
  return out;
}

std::string outboundCallerId(const OutboundRoute& route, const TrunkConfig& trunk) {
  if (!route.callerId.empty()) return route.callerId;
  if (!trunk.callerId.empty()) return trunk.callerId;
  return trunk.username;
}

OutboundDecision planOutboundCall(const TrunkDirectory& directory, const ExtensionFeatures& caller,
                                  std::string_view dialled, const OutboundUsage& usage) {
  OutboundDecision d;
  if (!isDialableNumber(dialled)) return d;
  std::vector<OutboundRoute> routes = directory.outboundRoutes();
  const OutboundRoute* route = findOutboundRoute(routes, dialled);
  if (route == nullptr) return d;
  OutboundPlan plan;
  plan.route = *route;
  plan.dialled = std::string(dialled);
  plan.sendNumber = manipulateDigits(*route, dialled);
  if (plan.sendNumber.empty()) {
    d.stop = RouteStop{484, "Address Incomplete (route " + route->name + " leaves no digits)"};
    return d;
  }
  const DialingRules rules = directory.dialingRules();
  plan.numberClass = classifyNumber(dialled, rules);
  if ((d.stop = checkPermission(caller, plan.numberClass, rules))) return d;
  if ((d.stop = checkOutsideCallLimit(caller, usage.callerOutsideCalls))) return d;
  plan.trunks = availableTrunks(directory, *route, usage.trunkCalls, d.stop);
  if (d.stop) return d;
  d.plan = std::move(plan);
  return d;
}

}  // namespace duplex::call
