// Location service (RFC 3261 10, 16.5): where to send a request for an
// extension. Reads memory only, never the database.
#include <algorithm>

#include "registrar/binding.h"
#include "registrar/registrar.h"

namespace duplex::registrar {

Location locationOf(const Binding& b, Instant now) {
  Location l;
  l.id = b.id;
  l.sendTo = sendToOf(b);
  // RFC 3261 16.5: the Request-URI is the registered Contact, even when the
  // packet goes to the NAT's address instead (RFC 5626 5.3 keeps them apart).
  l.requestUri = b.contactUri;
  l.q = b.q;
  l.behindNat = b.behindNat;
  l.expires = remainingSeconds(b.expiresAt, now);
  return l;
}

std::vector<Location> Registrar::lookup(std::int64_t extensionId, Instant now) const {
  std::vector<const Binding*> live;
  if (const std::vector<Binding>* bindings = table_->find(extensionId)) {
    for (const Binding& b : *bindings) {
      if (b.expiresAt > now) live.push_back(&b);
    }
  }
  // RFC 3261 16.6 / 3840: higher q first; a Contact without q counts as 1.0.
  // Among equals the most recently registered first, then the newer binding.
  std::sort(live.begin(), live.end(), [](const Binding* a, const Binding* b) {
    const double qa = a->q.value_or(1.0), qb = b->q.value_or(1.0);
    if (qa != qb) return qa > qb;
    if (a->registeredAt != b->registeredAt) return a->registeredAt > b->registeredAt;
    return a->id > b->id;
  });
  std::vector<Location> out;
  out.reserve(live.size());
  for (const Binding* b : live) out.push_back(locationOf(*b, now));
  return out;
}

}  // namespace duplex::registrar
