// Target resolution for an authenticated INVITE, as an ordered chain of small
// steps (STYLE.md 5), each a pure function testable alone:
//   checkMaxForwards -> dialPlan -> resolveExtension -> applyFeatures
//   -> findBindings
// Each step either fills in the RoutingContext and lets the next one run, or
// stops the chain with the final response (status and reason) the caller
// gets. Authentication comes before the chain (B2bua, 407) and the legs after
// it (B2bua, one INVITE per binding).
//
// Decisions documented here:
// - Forwarding targets must be internal extensions: a forward to anything
//   else is ignored (toll fraud, like 3xx; see B2bua) and the call rings the
//   extension itself. At most kMaxForwardSteps forwards; a forwarding loop
//   ends with 482 "Loop Detected".
// - A call to oneself gets 486 "Busy Here (call to self)" until voicemail
//   exists.
// - An extension without bindings: 480 "Temporarily Unavailable" (or its
//   no-answer forward, when it has one: nobody could answer).
//
// For: B2bua. Thread: any (pure functions over the interfaces passed in,
// which are SIP-loop objects). Errors: as RouteStop values; nothing throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pbx/call/extension_directory.h"
#include "pbx/sip/message.h"
#include "registrar/registrar.h"

namespace duplex::call {

inline constexpr int kMaxForwardSteps = 5;

// A final response that ends routing.
struct RouteStop {
  int status = 0;
  std::string reason;
};

// One forwarding step taken, for the call record ("forward_steps").
struct ForwardStep {
  std::string from;  // the extension that forwarded
  std::string to;
  std::string why;  // "unconditional", "busy", "no_answer", "redirect"
};

struct RoutingContext {
  std::string caller;              // the authenticated extension number
  std::string dialled;             // what the caller dialled (Request-URI user)
  std::uint32_t maxForwards = 70;  // for the outgoing legs, already decremented
  std::optional<ExtensionFeatures> target;
  std::vector<ForwardStep> steps;
  std::vector<registrar::Location> locations;
};

// RFC 3261 16.3 step 3 / 16.6 step 3: absent -> 70; 0 -> 483; else the value
// minus one for the legs we send.
std::optional<RouteStop> checkMaxForwards(const sip::Message& invite, RoutingContext& ctx);
// The dialled number: the Request-URI's user part (unescaped). 404 when the
// URI has none, 484 "Address Incomplete" when it is empty.
std::optional<RouteStop> dialPlan(const sip::Message& invite, RoutingContext& ctx);
// The extension dialled: 404 "Not Found" for unknown or disabled ones.
std::optional<RouteStop> resolveExtension(const ExtensionDirectory& directory, RoutingContext& ctx);
// DND (486 "Busy Here (do not disturb)"), unconditional forwarding (followed
// to internal extensions, each hop checked again for DND and forwards),
// call to self (486).
std::optional<RouteStop> applyFeatures(const ExtensionDirectory& directory, RoutingContext& ctx);
// The target's bindings; 480 when there are none and no no-answer forward.
// Takes the forward then (recorded as "unavailable").
std::optional<RouteStop> findBindings(const registrar::Registrar& registrar,
                                      const ExtensionDirectory& directory, registrar::Instant now,
                                      RoutingContext& ctx);

// Forwards the call to `number` for `why` ("busy", "no_answer"): checks that
// it is an internal, enabled extension, that the chain is not too long, and
// runs applyFeatures() for the new target. The caller then runs
// findBindings() again. nullopt on success.
std::optional<RouteStop> forwardTo(const ExtensionDirectory& directory, std::string_view number,
                                   std::string_view why, RoutingContext& ctx);

// The steps as JSON for db::CallRecord::forwardSteps.
std::string forwardStepsJson(const std::vector<ForwardStep>& steps);

}  // namespace duplex::call
