// What the trunk, outbound-route and inbound-number handlers share. Internal
// to admin/. Any admin worker thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

#include "admin/api_handlers.h"

namespace duplex::admin {

// A path {id}: a positive decimal integer, else nullopt (the caller's 404).
std::optional<std::int64_t> parseId(std::string_view text);

// Held from a trunk/route/number write to its notification, so that two
// admin threads cannot hand the live side their changes out of order.
std::mutex& trunkWriteOrder();

// Tells the running PBX (LiveChanges::trunksChanged), if there is one.
void notifyTrunksChanged(Call& call);

}  // namespace duplex::admin
