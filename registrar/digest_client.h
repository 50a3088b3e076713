// Client-side digest authentication (RFC 7616, RFC 8760 for SIP, RFC 2617):
// the PBX answering a provider's 401/407 — trunk REGISTER, and INVITE, BYE,
// re-INVITE, UPDATE and other requests toward a trunk or a peer.
// For: the trunk registration client and call control (pbx/call). Thread: the
// owner's (the SIP loop); a DigestClient is not thread-safe (it counts nc per
// nonce). The parsing and selection functions are pure (any thread).
//
// Syntax: the challenge is the HTTP authentication syntax of RFC 7235 2.1 /
// RFC 7616 3.3 (scheme, then comma-separated auth-params, quoted-string with
// backslash escapes), which SIP reuses unchanged (RFC 3261 25.1); parsing it
// here keeps the registrar free of SIP message syntax while the trunk client
// only has to pass the header value.
//
// Decisions, as a user of Asterisk/FreeSWITCH would expect:
//   - Several challenges (one header each, RFC 8760 2.4): the strongest
//     supported one is answered: SHA-256 before SHA-256-sess before MD5 before
//     MD5-sess; among equals the first. Unknown algorithms (SHA-512-256) and
//     schemes other than Digest are skipped.
//   - qop: "auth" is used when offered (with cnonce and nc). A challenge
//     without qop gets the RFC 2069 answer H(HA1:nonce:HA2) (still common with
//     SIP providers). A challenge offering only "auth-int" is not supported.
//   - nc counts per nonce from 00000001 (RFC 7616 3.4: the client increments
//     it for each request that reuses a nonce); up to 64 nonces remembered,
//     then the oldest are forgotten (a forgotten nonce restarts at 1, which a
//     server answers with stale=true at worst).
//   - Realm: DigestClientCredentials::realm, when set, is the only realm the
//     password is given for: a challenge for another realm is refused with an
//     error naming both (a misconfigured or spoofed provider does not get a
//     digest of our password for its realm). Empty: the challenge's realm.
//   - userhash=true (RFC 7616 3.4.4) is honoured.
//
// Errors: nothing throws for any input. parseDigestChallenge() returns
// nullopt with a reason; authorize() returns an empty value with a reason.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "registrar/digest.h"

namespace duplex::registrar {

// One WWW-Authenticate / Proxy-Authenticate challenge, unquoted (RFC 7616 3.3).
struct DigestChallenge {
  std::string realm;
  std::string nonce;
  std::string opaque;  // empty: absent
  DigestAlgorithm algorithm = DigestAlgorithm::kMd5;
  bool session = false;     // "MD5-sess" / "SHA-256-sess"
  bool qopOffered = false;  // a qop parameter was present
  bool qopAuth = false;     // "auth" among its values
  bool stale = false;
  bool userhash = false;
};

// The algorithm token as the challenge wrote it back in the answer
// ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess").
std::string algorithmToken(const DigestChallenge& challenge);

// Parses one header value, e.g. `Digest realm="x", nonce="y", qop="auth"`.
// nullopt with `*reason` set for: a scheme other than Digest, broken syntax,
// a missing realm or nonce, an unsupported algorithm, a qop without "auth".
std::optional<DigestChallenge> parseDigestChallenge(std::string_view headerValue,
                                                    std::string* reason = nullptr);

// The strongest supported challenge among several header values (see the
// order above); nullopt with `*reason` (the last rejection's) if none is
// usable.
std::optional<DigestChallenge> strongestDigestChallenge(std::span<const std::string> headerValues,
                                                        std::string* reason = nullptr);

struct DigestClientCredentials {
  std::string username;  // the digest user (a trunk's authUsername or username)
  std::string password;
  std::string realm;  // empty: answer whatever realm the challenge names
};

struct DigestAuthorization {
  std::string value;   // the Authorization / Proxy-Authorization header value
  std::string reason;  // why value is empty
  bool ok() const { return !value.empty(); }
};

class DigestClient {
 public:
  // Client nonces: 16 random bytes from libcrypto, hex. Tests inject a fixed
  // source.
  using CnonceSource = std::function<std::string()>;
  DigestClient();
  explicit DigestClient(CnonceSource cnonces);

  // The header value answering `challenge` for `method` and `uri` (the
  // Request-URI as sent, RFC 3261 22.4). Counts nc for the challenge's nonce.
  DigestAuthorization authorize(const DigestChallenge& challenge, std::string_view method,
                                std::string_view uri, const DigestClientCredentials& credentials);

  // The nc the next authorize() will use for `nonce` (1 for a new nonce).
  std::uint32_t nextNonceCount(std::string_view nonce) const;

  static constexpr std::size_t kRememberedNonces = 64;

 private:
  struct NonceUse {
    std::string nonce;
    std::uint32_t count = 0;
  };
  CnonceSource cnonces_;
  std::vector<NonceUse> nonces_;  // most recently used last
};

}  // namespace duplex::registrar
