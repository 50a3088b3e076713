// A REGISTER's facts as the registrar wants them: the Contact list, Expires,
// Call-ID, CSeq, where the packet came from and what the phone wrote in its
// top Via (RFC 3261 10.3; RFC 3581 for the real source). Internal to
// pbx/call. Any thread (pure function).
#pragma once

#include <cstdint>
#include <string>

#include "pbx/sip/message.h"
#include "registrar/registrar.h"

namespace duplex::call {

// Errors are 400s with the reason to answer with ("Bad Contact", ...).
sip::Result<registrar::RegistrationRequest> toRegistrationRequest(const sip::Message& request,
                                                                  std::int64_t extensionId,
                                                                  std::string aor);

// `<uri>;expires=N` plus q and +sip.instance when set (RFC 3261 10.3 step 8,
// RFC 5626 6).
std::string formatContact(const registrar::CurrentBinding& binding);

// RFC 3261 20.17 rfc1123-date in GMT: "Sun, 22 Nov 2026 23:44:37 GMT".
std::string formatSipDate(registrar::Instant at);

registrar::Transport toRegistrarTransport(sip::Transport transport);
sip::Transport toSipTransport(registrar::Transport transport);

}  // namespace duplex::call
