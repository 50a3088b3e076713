// libFuzzer target for the SIP message parser (STYLE.md 14): parse the
// input as one datagram, then exercise every typed view, the serializer, a
// clone and a re-parse of the serialized form. Untrusted input must never
// crash, assert, read out of bounds or overflow (run under ASan + UBSan).
#include <cstddef>
#include <cstdint>
#include <string>

#include "pbx/sip/message.h"

namespace duplex::sip {

// Shared with the unit test that replays corpora and mutations
// (tests/unit/sip_parser/fuzz_replay_test.cpp).
void exerciseMessageParser(const std::uint8_t* data, std::size_t size);

void exerciseMessageParser(const std::uint8_t* data, std::size_t size) {
  auto parsed = Message::parse(std::string(reinterpret_cast<const char*>(data), size));
  if (!parsed.ok()) {
    // Every rejection carries a status and a non-empty static reason.
    if (parsed.error().reason.empty() || parsed.error().status < 400) __builtin_trap();
    return;
  }
  const Message& m = *parsed;
  (void)m.topVia();
  if (auto vias = m.vias()) {
    for (const Via& v : *vias) (void)v.hasRfc3261Branch();
  }
  if (auto from = m.from()) (void)from->tag();
  if (auto to = m.to()) (void)to->uri.userUnescaped();
  (void)m.cseq();
  (void)m.maxForwards();
  (void)m.expires();
  (void)m.contentLength();
  (void)m.date();
  if (auto contacts = m.contacts()) {
    for (const ContactEntry& c : contacts->entries) (void)c.address.uri.userUnescaped();
  }
  (void)m.routes();
  (void)m.recordRoutes();
  for (const Credentials& c : m.authorizations()) (void)c.param("response");
  (void)m.proxyAuthorizations();
  (void)m.wwwAuthenticates();
  (void)m.proxyAuthenticates();
  (void)m.optionTags(HeaderId::kRequire);
  (void)m.optionTags(HeaderId::kSupported);
  for (const Header& h : m.headers()) (void)m.headerValues(h.name);
  (void)m.requestUri().userUnescaped();

  // What the parser accepted, the serializer writes and the parser accepts
  // again with the same start line and headers.
  const std::string wire = m.serialize();
  auto again = Message::parse(wire);
  if (!again.ok() || again->headers().size() != m.headers().size() ||
      again->requestUriText() != m.requestUriText() || again->body() != m.body()) {
    __builtin_trap();
  }
  Message copy = m.clone();
  if (copy.serialize() != wire) __builtin_trap();
  if (m.isRequest()) {
    Message response = Message::responseTo(m, 200, "OK", "fuzz");
    (void)response.serialize();
  }
}

}  // namespace duplex::sip

#ifndef DUPLEX_FUZZ_NO_MAIN
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  duplex::sip::exerciseMessageParser(data, size);
  return 0;
}
#endif
