// Nonce-count table; see nonce_count.h.
#include "registrar/nonce_count.h"

#include <new>
#include <type_traits>

#include <bit>

namespace duplex::registrar {

namespace {

// a is newer than b, modulo 2^32 (RFC 1982 serial number arithmetic).
bool newer(std::uint32_t a, std::uint32_t b) {
  return static_cast<std::int32_t>(a - b) > 0;
}

}  // namespace

NonceCountTable::NonceCountTable(std::size_t capacity)
    : mask_(std::bit_ceil(capacity < 2 ? std::size_t{2} : capacity) - 1) {
  // Slot is trivially copyable and all-zero means empty.
  static_assert(std::is_trivially_copyable_v<Slot>);
  slots_.reset(static_cast<Slot*>(std::calloc(mask_ + 1, sizeof(Slot))));
  if (!slots_) throw std::bad_alloc();
}

NonceCountTable::Check NonceCountTable::check(const NonceIdentity& nonce, std::uint32_t nc) const {
  const Slot& slot = slots_[nonce.sequence & mask_];
  if (slot.highestNc == 0) return Check::kFresh;
  if (slot.sequence == nonce.sequence) return nc > slot.highestNc ? Check::kFresh : Check::kReplay;
  // An older nonce in the slot: this one was never used (it would have
  // replaced it). A newer one: this one's state may be gone.
  return newer(slot.sequence, nonce.sequence) ? Check::kUnknownOld : Check::kFresh;
}

void NonceCountTable::commit(const NonceIdentity& nonce, std::uint32_t nc) {
  Slot& slot = slots_[nonce.sequence & mask_];
  if (slot.highestNc != 0 && slot.sequence == nonce.sequence) {
    if (nc > slot.highestNc) slot.highestNc = nc;
  } else if (slot.highestNc == 0 || newer(nonce.sequence, slot.sequence)) {
    slot = Slot{nonce.sequence, nc};
  }
}

}  // namespace duplex::registrar
