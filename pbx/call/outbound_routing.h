// Outbound routing: what happens to a dialled number that is not an internal
// extension. Pure functions over the TrunkDirectory records (trunk_directory.h)
// and the caller's ExtensionFeatures, in the order call control runs them:
//   findOutboundRoute -> manipulateDigits -> classifyNumber -> checkPermission
//   -> checkOutsideCallLimit -> availableTrunks
// (planOutboundCall() runs them all). A step that refuses the call returns a
// RouteStop (status + reason phrase) that B2bua logs and answers with.
//
// Pattern syntax (OutboundRoute::pattern), Asterisk-style without the '_':
//   0-9 * # +  themselves            X  any digit 0-9
//   Z          a digit 1-9           N  a digit 2-9
//   [15-7]     one digit of the set (single digits and ranges)
//   .          one or more characters of anything (usually last)
//   !          zero or more characters of anything
//   /regex     (leading '/') an ECMAScript regex that must match the whole
//              number; one trailing '/' is ignored ("/^00[1-9].*/").
// The whole number must match: "00" matches only "00"; a prefix route is
// written "00." (Asterisk behaves the same). Letters never match the digit
// classes. A pattern that is empty, has an unclosed '[' or a bad regex never
// matches (validatePattern() tells the admin API why).
//
// Classification (DialingRules), on the number as the user dialled it, before
// the route strips or adds digits (so "00." stripping "00" and adding "+"
// still counts as international): a premium-rate prefix first, then an
// international prefix, then the national prefix; anything else is local.
// Internal extensions never get here.
//
// Permissions: each class includes the ones before (internal < local <
// national < international); the default for a new extension is national, so
// international needs an explicit setting. Premium-rate numbers are refused
// unless DialingRules::allowPremium is set AND the extension may dial
// international.
//
// Refusals (all 403 with the reason in the phrase, except trunk capacity):
//   403 "Forbidden (international calls not allowed for 201)"
//   403 "Forbidden (premium-rate numbers are blocked)"
//   403 "Forbidden (premium-rate calls not allowed for 201)"
//   403 "Forbidden (201 reached its limit of 2 outside calls)"
//   503 "Service Unavailable (all trunks of route <name> are busy)"
//   503 "Service Unavailable (no enabled trunk for route <name>)"
//   484 "Address Incomplete (route <name> leaves no digits)"
// A number that matches no route is not answered here: the caller keeps the
// 404 an unknown extension gets.
//
// For: B2bua (pbx/call). Thread: any; pure functions. Nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pbx/call/call_routing.h"
#include "pbx/call/extension_directory.h"
#include "pbx/call/trunk_directory.h"

namespace duplex::call {

// The characters an outside number may have, and its length limit.
inline constexpr std::size_t kMaxDialledDigits = 32;
bool isDialableNumber(std::string_view number);

// nullopt when `pattern` is usable, else why not (for the admin API).
std::optional<std::string> validatePattern(std::string_view pattern);
bool matchesPattern(std::string_view pattern, std::string_view number);

// The first enabled route (in the order given: by position) whose pattern
// matches; nullptr when none does.
const OutboundRoute* findOutboundRoute(const std::vector<OutboundRoute>& routes,
                                       std::string_view number);

// Strip route.stripDigits from the front, then add route.prefix.
std::string manipulateDigits(const OutboundRoute& route, std::string_view number);

NumberClass classifyNumber(std::string_view dialled, const DialingRules& rules);
std::string_view toString(NumberClass numberClass);

std::optional<RouteStop> checkPermission(const ExtensionFeatures& caller, NumberClass numberClass,
                                         const DialingRules& rules);
std::optional<RouteStop> checkOutsideCallLimit(const ExtensionFeatures& caller,
                                               int activeOutsideCalls);

// The route's trunks in order of preference that exist, are enabled and have
// room (activeCalls(trunkId) < maxCalls). Empty -> `stop` says why (503).
std::vector<TrunkConfig> availableTrunks(const TrunkDirectory& directory,
                                         const OutboundRoute& route,
                                         const std::function<int(std::int64_t)>& activeCalls,
                                         std::optional<RouteStop>& stop);

// The caller ID an outbound call presents on `trunk`: the route's override,
// else the trunk's callerId, else its username.
std::string outboundCallerId(const OutboundRoute& route, const TrunkConfig& trunk);

struct OutboundPlan {
  OutboundRoute route;
  std::string dialled;     // as the caller dialled it
  std::string sendNumber;  // after strip and prefix: the Request-URI user at the provider
  NumberClass numberClass = NumberClass::local;
  std::vector<TrunkConfig> trunks;  // to try in order (failover)
};

struct OutboundUsage {
  int callerOutsideCalls = 0;                   // the caller's outside calls now
  std::function<int(std::int64_t)> trunkCalls;  // calls on a trunk now
};

struct OutboundDecision {
  std::optional<OutboundPlan> plan;  // set: place the call
  std::optional<RouteStop> stop;     // set: refuse with this
  // Neither: no route matches (the caller answers 404 as for an unknown
  // extension).
};

OutboundDecision planOutboundCall(const TrunkDirectory& directory, const ExtensionFeatures& caller,
                                  std::string_view dialled, const OutboundUsage& usage);

}  // namespace duplex::call
