// Nonce-count replay protection (RFC 7616 3.4, 5.6; RFC 2617 3.2.2): the
// highest nc accepted per nonce, so that a replayed or reused nc is rejected.
// For: DigestAuthenticator. Thread: one owner (the SIP loop); not
// thread-safe.
//
// A ring indexed by the nonce's sequence number (registrar/nonce.h): slot
// sequence % capacity holds the last nonce of that slot that was used with a
// verified digest, and its highest nc. Memory is fixed at construction:
// `capacity` (rounded up to a power of two) slots of 8 bytes; the default
// 131,072 slots = 1 MiB track at least the last 131,072 nonces issued.
// Only commit() writes, and only after a verified digest, so unauthenticated
// peers asking for challenges cannot push anything out. A slot holding a
// newer sequence than the one asked about means that nonce's state may have
// been overwritten: check() answers kUnknownOld and the caller demands a
// fresh nonce (stale) — an evicted nonce is never accepted again.
// Sequences compare modulo 2^32, valid while fewer than 2^31 nonces are
// issued within one nonce lifetime (7 million a second for 5 minutes).
//
// Errors: none; check() and commit() take any identity.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "registrar/nonce.h"

namespace duplex::registrar {

class NonceCountTable {
 public:
  static constexpr std::size_t kDefaultCapacity = 131072;

  enum class Check {
    kFresh,       // nc is greater than any accepted for this nonce
    kReplay,      // nc <= the highest accepted for this nonce
    kUnknownOld,  // state overwritten by a newer nonce: demand a fresh one
  };

  explicit NonceCountTable(std::size_t capacity = kDefaultCapacity);

  // Does not modify the table (RFC 7616 3.4: nc state changes only after the
  // digest verified; see commit()).
  Check check(const NonceIdentity& nonce, std::uint32_t nc) const;
  // Records `nc` as the highest accepted for `nonce`. Call after check()
  // returned kFresh and the response verified.
  void commit(const NonceIdentity& nonce, std::uint32_t nc);

  std::size_t capacity() const { return mask_ + 1; }

 private:
  struct Slot {
    std::uint32_t sequence = 0;
    std::uint32_t highestNc = 0;  // 0: empty (a valid nc is >= 1)
  };

  // calloc'd: the kernel hands out zero pages lazily, so an idle PBX does
  // not keep the whole megabyte resident (a zero-filled vector would).
  struct FreeSlots {
    void operator()(Slot* p) const { std::free(p); }
  };
  std::unique_ptr<Slot[], FreeSlots> slots_;
  std::size_t mask_;
};

}  // namespace duplex::registrar
