// libFuzzer target for the STUN parser (nat/stun_message.h): any datagram must
// parse or be rejected with a reason, never crash, hang or read out of bounds.
// A message that parses must re-parse the same after a success response is
// built from its mapped address (round trip of the builder).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "nat/stun_message.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace duplex::nat::stun;
  const ParseResult r = parse(std::span(data, size));
  if (!r.ok()) {
    (void)stunErrorText(r.error);
    return 0;
  }
  if (const auto mapped = r.message.mappedAddress()) {
    const auto again =
        parse(buildBindingSuccess(r.message.transaction_id, *mapped, r.message.other_address));
    if (!again.ok() || again.message.mappedAddress() != mapped) std::abort();
  }
  return 0;
}
