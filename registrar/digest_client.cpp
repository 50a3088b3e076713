// Client-side digest; see digest_client.h.
#include "registrar/digest_client.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "registrar/digest_hasher.h"
#include "registrar/text.h"

namespace duplex::registrar {
namespace {

using detail::iequals;

bool isWs(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 7230 3.2.6 tchar.
bool isTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A cursor over an auth header value (RFC 7235 2.1).
class AuthParamReader {
 public:
  explicit AuthParamReader(std::string_view text) : text_(text) {}

  void skipWs() {
    while (pos_ < text_.size() && isWs(text_[pos_])) ++pos_;
  }
  bool atEnd() {
    skipWs();
    return pos_ >= text_.size();
  }
  std::string_view token() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && isTokenChar(text_[pos_])) ++pos_;
    return text_.substr(start, pos_ - start);
  }
  bool consume(char c) {
    skipWs();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  // token / quoted-string (backslash escapes removed, RFC 7230 3.2.6).
  bool value(std::string& out) {
    skipWs();
    out.clear();
    if (pos_ < text_.size() && text_[pos_] == '"') {
      ++pos_;
      while (pos_ < text_.size()) {
        char c = text_[pos_++];
        if (c == '"') return true;
        if (c == '\\') {
          if (pos_ >= text_.size()) return false;
          c = text_[pos_++];
        }
        out += c;
      }
      return false;  // unterminated
    }
    std::string_view t = token();
    if (t.empty()) return false;
    out.assign(t);
    return true;
  }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

bool fail(std::string* reason, std::string text) {
  if (reason != nullptr) *reason = std::move(text);
  return false;
}

// Higher is stronger (see the header's order).
int strength(const DigestChallenge& c) {
  int s = c.algorithm == DigestAlgorithm::kSha256 ? 10 : 0;
  return c.session ? s : s + 1;
}

std::string hexHash(detail::DigestHasher& hasher, DigestAlgorithm algorithm,
                    std::initializer_list<std::string_view> parts) {
  detail::DigestBytes bytes{};
  if (!hasher.hash(algorithm, parts, bytes)) return {};
  std::string out(2 * detail::digestSize(algorithm), '\0');
  detail::toHex(std::span(bytes.data(), detail::digestSize(algorithm)), out.data());
  return out;
}

// quoted-string content: '"' and '\' escaped (RFC 7230 3.2.6).
void appendQuoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

std::string randomCnonce() {
  std::array<std::uint8_t, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) return {};
  std::string out(2 * bytes.size(), '\0');
  detail::toHex(bytes, out.data());
  return out;
}

}  // namespace

std::string algorithmToken(const DigestChallenge& challenge) {
  std::string out(toString(challenge.algorithm));
  if (challenge.session) out += "-sess";
  return out;
}

std::optional<DigestChallenge> parseDigestChallenge(std::string_view headerValue,
                                                    std::string* reason) {
  AuthParamReader in(headerValue);
  in.skipWs();
  std::string_view scheme = in.token();
  if (!iequals(scheme, "Digest")) {
    fail(reason, scheme.empty() ? std::string("no authentication scheme")
                                : "scheme " + std::string(scheme) + " is not Digest");
    return std::nullopt;
  }
  DigestChallenge c;
  bool haveRealm = false;
  bool haveNonce = false;
  std::string algorithm;
  std::string name;
  std::string value;
  bool first = true;
  while (!in.atEnd()) {
    if (!first && !in.consume(',')) {
      fail(reason, "expected ',' between parameters");
      return std::nullopt;
    }
    first = false;
    while (in.consume(',')) {
    }  // empty list elements (RFC 7230 7)
    if (in.atEnd()) break;
    in.skipWs();
    name.assign(in.token());
    if (name.empty() || !in.consume('=') || !in.value(value)) {
      fail(reason, "malformed parameter" + (name.empty() ? std::string() : " " + name));
      return std::nullopt;
    }
    if (iequals(name, "realm")) {
      c.realm = value;
      haveRealm = true;
    } else if (iequals(name, "nonce")) {
      c.nonce = value;
      haveNonce = true;
    } else if (iequals(name, "opaque")) {
      c.opaque = value;
    } else if (iequals(name, "algorithm")) {
      algorithm = value;
    } else if (iequals(name, "stale")) {
      c.stale = iequals(value, "true");
    } else if (iequals(name, "userhash")) {
      c.userhash = iequals(value, "true");
    } else if (iequals(name, "qop")) {
      c.qopOffered = true;
      std::string_view list = value;
      while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = list.substr(0, comma);
        while (!item.empty() && isWs(item.front())) item.remove_prefix(1);
        while (!item.empty() && isWs(item.back())) item.remove_suffix(1);
        if (iequals(item, "auth")) c.qopAuth = true;
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
    }
    // domain, charset and unknown parameters are ignored (RFC 7616 3.3).
  }
  if (!haveRealm) {
    fail(reason, "challenge without realm");
    return std::nullopt;
  }
  if (!haveNonce || c.nonce.empty()) {
    fail(reason, "challenge without nonce");
    return std::nullopt;
  }
  std::string_view base = algorithm;
  constexpr std::string_view kSess = "-sess";
  if (base.size() > kSess.size() && iequals(base.substr(base.size() - kSess.size()), kSess)) {
    c.session = true;
    base.remove_suffix(kSess.size());
  }
  std::optional<DigestAlgorithm> parsed = parseDigestAlgorithm(base);
  if (!parsed || (c.session && base.empty())) {
    fail(reason, "unsupported algorithm " + algorithm);
    return std::nullopt;
  }
  c.algorithm = *parsed;
  if (c.qopOffered && !c.qopAuth) {
    fail(reason, "qop offers no \"auth\" (auth-int is not supported)");
    return std::nullopt;
  }
  return c;
}

std::optional<DigestChallenge> strongestDigestChallenge(std::span<const std::string> headerValues,
                                                        std::string* reason) {
  std::optional<DigestChallenge> best;
  std::string lastReason = "no challenge";
  for (const std::string& value : headerValues) {
    std::string why;
    std::optional<DigestChallenge> c = parseDigestChallenge(value, &why);
    if (!c) {
      lastReason = std::move(why);
      continue;
    }
    if (!best || strength(*c) > strength(*best)) best = std::move(c);
  }
  if (!best && reason != nullptr) *reason = lastReason;
  return best;
}

DigestClient::DigestClient() : DigestClient(randomCnonce) {}

DigestClient::DigestClient(CnonceSource cnonces) : cnonces_(std::move(cnonces)) {}

std::uint32_t DigestClient::nextNonceCount(std::string_view nonce) const {
  auto it = std::find_if(nonces_.begin(), nonces_.end(),
                         [nonce](const NonceUse& u) { return u.nonce == nonce; });
  return it == nonces_.end() ? 1 : it->count + 1;
}

DigestAuthorization DigestClient::authorize(const DigestChallenge& challenge,
                                            std::string_view method, std::string_view uri,
                                            const DigestClientCredentials& credentials) {
  DigestAuthorization result;
  if (!credentials.realm.empty() && credentials.realm != challenge.realm) {
    result.reason = "challenge realm \"" + challenge.realm + "\" is not the configured realm \"" +
                    credentials.realm + "\"";
    return result;
  }
  if (challenge.nonce.empty()) {
    result.reason = "challenge without nonce";
    return result;
  }
  const DigestAlgorithm alg = challenge.algorithm;
  detail::DigestHasher hasher;
  std::string ha1Hex = ha1(alg, credentials.username, challenge.realm, credentials.password);
  if (ha1Hex.empty()) {
    result.reason = "digest hashing failed";
    return result;
  }
  std::string cnonce;
  const bool withQop = challenge.qopOffered;  // parse guarantees "auth" is among them
  // RFC 7616 3.4.2: the -sess variants need a cnonce even without qop.
  if (withQop || challenge.session) {
    cnonce = cnonces_ ? cnonces_() : std::string();
    if (cnonce.empty()) {
      result.reason = "no client nonce available";
      return result;
    }
  }
  if (challenge.session) ha1Hex = hexHash(hasher, alg, {ha1Hex, challenge.nonce, cnonce});

  char nc[9] = "00000001";
  if (withQop) {
    auto it = std::find_if(nonces_.begin(), nonces_.end(),
                           [&](const NonceUse& u) { return u.nonce == challenge.nonce; });
    NonceUse use;
    if (it != nonces_.end()) {
      use = std::move(*it);
      nonces_.erase(it);
    } else {
      use.nonce = challenge.nonce;
    }
    ++use.count;
    std::snprintf(nc, sizeof nc, "%08x", use.count);
    nonces_.push_back(std::move(use));
    if (nonces_.size() > kRememberedNonces) nonces_.erase(nonces_.begin());
  }

  std::string response;
  if (withQop) {
    response = computeResponse(alg, ha1Hex, challenge.nonce, nc, cnonce, "auth", method, uri);
  } else {
    // RFC 2617 3.2.2.1 / RFC 2069: request-digest = H(HA1:nonce:HA2).
    std::string ha2 = hexHash(hasher, alg, {method, uri});
    response = hexHash(hasher, alg, {ha1Hex, challenge.nonce, ha2});
  }
  if (response.empty()) {
    result.reason = "digest hashing failed";
    return result;
  }

  std::string& out = result.value;
  out = "Digest username=";
  appendQuoted(out, challenge.userhash
                        ? hexHash(hasher, alg, {credentials.username, challenge.realm})
                        : credentials.username);
  out += ", realm=";
  appendQuoted(out, challenge.realm);
  out += ", nonce=";
  appendQuoted(out, challenge.nonce);
  out += ", uri=";
  appendQuoted(out, uri);
  out += ", response=";
  appendQuoted(out, response);
  out += ", algorithm=";
  out += algorithmToken(challenge);
  if (!cnonce.empty()) {
    out += ", cnonce=";
    appendQuoted(out, cnonce);
  }
  if (!challenge.opaque.empty()) {
    out += ", opaque=";
    appendQuoted(out, challenge.opaque);
  }
  if (withQop) {
    out += ", qop=auth, nc=";
    out += nc;
  }
  if (challenge.userhash) out += ", userhash=true";
  return result;
}

}  // namespace duplex::registrar
