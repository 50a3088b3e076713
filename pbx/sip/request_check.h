// Stateless checks a UAS core applies to a request before any transaction or
// PBX logic sees it (RFC 3261 8.2.1-8.2.3, RFC 4475 verdicts).
//
// For: the SIP endpoint on the SIP loop thread. Pure functions: no sockets,
// no clock, no state. The answer is a Rejection the endpoint turns into a
// stateless response; nullopt means "well-formed enough to process".
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pbx/sip/message.h"

namespace duplex::sip {

struct Rejection {
  int status = 400;
  std::string_view reason;
  // Extra headers the status requires: Allow (405/501), Unsupported (420),
  // Accept (415/406).
  std::vector<std::pair<std::string, std::string>> headers;
};

struct RequestPolicy {
  std::span<const Method> allowed_methods;      // methods the PBX answers
  std::span<const std::string_view> supported;  // option tags we support
};

// The checks, in the order RFC 3261 8.2 applies them, first failure wins:
//  1. the Via is readable (else 400), and the method is known, else 501
//     with Allow (RFC 3261 8.2.1; RFC 4475 3.1.2.18: 501 before the CSeq
//     mismatch);
//  2. every header the request relies on is well-formed (From, To, CSeq,
//     Call-ID, Max-Forwards, Contact, Expires, Route, Content-Length, Date)
//     -> 400 with the parser's reason;
//  3. CSeq method differs from the request method -> 400 (inside 2);
//  4. a Request-URI scheme other than sip/sips -> 416 (RFC 3261 8.2.2.1);
//  5. REGISTER whose To is not a SIP/SIPS URI -> 400 (RFC 3261 10.3 step 3);
//  6. Require with tags we do not support -> 420 with Unsupported
//     (RFC 3261 8.2.2.3; never for ACK and CANCEL);
//  7. a session body we cannot read -> 415 with Accept (RFC 3261 8.2.3);
//  8. an INVITE whose Accept excludes application/sdp -> 406 (RFC 4475 3.3.15).
// Known methods with no handler (405) and Max-Forwards (483, only for requests
// the PBX would route on) are the endpoint's to decide.
std::optional<Rejection> checkRequest(const Message& request, const RequestPolicy& policy);

// "INVITE, ACK, ..." for an Allow header.
std::string allowHeaderValue(std::span<const Method> methods);

}  // namespace duplex::sip
