// Test support for the REGISTER adapter; see register_test_support.h.
#include "register_test_support.h"

#include <array>
#include <cstdint>

namespace duplex::call::test {
namespace {

const std::array<std::uint8_t, 32> kSecret = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                              23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
constexpr std::int64_t kEpochSeconds = 1'700'000'000;

}  // namespace

std::string registerText(const RegisterSpec& spec, const std::string& branch) {
  const std::string toUser = spec.toUser.empty() ? spec.user : spec.toUser;
  return "REGISTER sip:pbx.test SIP/2.0\r\n"
         "Via: SIP/2.0/UDP " +
         spec.via + ";branch=" + branch +
         "\r\n"
         "Max-Forwards: 70\r\n"
         "From: <sip:" +
         toUser + "@pbx.test>;tag=ft" + branch + "\r\nTo: <sip:" + toUser +
         "@pbx.test>\r\n"
         "Call-ID: " +
         spec.callId + "\r\nCSeq: " + std::to_string(spec.cseq) +
         " REGISTER\r\n"
         "Contact: " +
         spec.contact + "\r\nUser-Agent: TestPhone/1.0\r\n" + spec.extra +
         "Content-Length: 0\r\n\r\n";
}

RegisterFixture::RegisterFixture()
    : authenticator(kSecret, kRealm, failures),
      handler(registrar, authenticator, credentials, [this] { return wallNow(); }) {
  endpoint.addTransport(udp);
  endpoint.setHandler(sip::Method::kRegister, &handler);
  endpoint.setClientHandler(&handler);
}

void RegisterFixture::addUser(const std::string& number, const std::string& password,
                              std::int64_t id) {
  credentials.add(number, password, id, kRealm);
}

registrar::Instant RegisterFixture::wallNow() const {
  return registrar::instantFromUnixSeconds(kEpochSeconds) +
         std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
}

void RegisterFixture::advance(std::chrono::milliseconds delta) {
  clock.advance(delta);
  endpoint.onTimer(clock.now());
}

sip::Message RegisterFixture::exchange(const std::string& text, const sip::Origin& origin) {
  const std::size_t before = udp.sent.size();
  endpoint.onMessage(text, origin);
  EXPECT_GT(udp.sent.size(), before) << "no response to\n" << text;
  if (udp.sent.size() == before) return sip::Message::response(0, "none");
  auto parsed = sip::Message::parse(udp.sent.back().wire);
  EXPECT_TRUE(parsed) << udp.sent.back().wire;
  return std::move(parsed).value();
}

std::string RegisterFixture::authorization(const sip::Message& challenge, const std::string& user,
                                           const std::string& password,
                                           registrar::DigestAlgorithm algorithm,
                                           const std::string& nc, const std::string& uri) {
  for (const sip::Challenge& c : challenge.wwwAuthenticates()) {
    if (c.param("algorithm").value_or("") != registrar::toString(algorithm)) continue;
    const std::string realm(c.param("realm").value_or(""));
    const std::string nonce(c.param("nonce").value_or(""));
    const std::string opaque(c.param("opaque").value_or(""));
    const std::string cnonce = "c0ffee";
    const std::string response =
        registrar::computeResponse(algorithm, registrar::ha1(algorithm, user, realm, password),
                                   nonce, nc, cnonce, "auth", "REGISTER", uri);
    std::string out = "Authorization: Digest username=\"" + user;
    out += "\", realm=\"" + realm;
    out += "\", nonce=\"" + nonce;
    out += "\", uri=\"" + uri;
    out += "\", response=\"" + response;
    out += "\", algorithm=";
    out += registrar::toString(algorithm);
    out += ", cnonce=\"" + cnonce;
    out += "\", qop=auth, nc=" + nc;
    out += ", opaque=\"" + opaque;
    out += "\"\r\n";
    return out;
  }
  ADD_FAILURE() << "no challenge for " << registrar::toString(algorithm);
  return {};
}

sip::Message RegisterFixture::registerWithAuth(RegisterSpec spec, const std::string& password,
                                               const sip::Origin& origin) {
  const std::string extra = spec.extra;
  sip::Message challenge =
      exchange(registerText(spec, "z9hG4bKb" + std::to_string(++branches)), origin);
  EXPECT_EQ(challenge.statusCode(), 401);
  spec.cseq += 1;
  spec.extra =
      extra + authorization(challenge, spec.user, password, registrar::DigestAlgorithm::kSha256);
  return exchange(registerText(spec, "z9hG4bKb" + std::to_string(++branches)), origin);
}

std::vector<std::string> headerValues(const sip::Message& m, std::string_view name) {
  std::vector<std::string> out;
  for (const sip::Header& h : m.headers()) {
    if (sip::headerIdFromName(h.name) == sip::headerIdFromName(name) &&
        (sip::headerIdFromName(name) != sip::HeaderId::kOther || h.name == name)) {
      out.emplace_back(h.value);
    }
  }
  return out;
}

}  // namespace duplex::call::test
