// Test support for call control; see call_test_support.h.
#include "call_test_support.h"

#include <array>

#include "registrar/digest.h"

namespace duplex::call::test {
namespace {

const std::array<std::uint8_t, 32> kSecret = {9,  8,  7,  6,  5,  4,  3,  2,  1,  10, 11,
                                              12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                              23, 24, 25, 26, 27, 28, 29, 30, 31, 32};
constexpr std::int64_t kEpochSeconds = 1'700'000'000;

}  // namespace

std::string offerSdp(const std::string& ip, int port) {
  return "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\nm=audio " +
         std::to_string(port) + " RTP/AVP 0 8\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n";
}

CallFixture::CallFixture() : authenticator(kSecret, kRealm, failures) {
  endpoint.addTransport(udp);
  b2bua = std::make_unique<B2bua>(
      B2bua::Services{endpoint, clock, [this] { return wallNow(); }, authenticator, credentials,
                      directory, registrar, addresses, media, records},
      settings);
  for (sip::Method m : {sip::Method::kInvite, sip::Method::kBye, sip::Method::kUpdate,
                        sip::Method::kInfo, sip::Method::kPrack}) {
    endpoint.setHandler(m, b2bua.get());
  }
  addExtension("101", "secret101", 1);
  addExtension("102", "secret102", 2);
  addExtension("103", "secret103", 3);
}

void CallFixture::addExtension(const std::string& number, const std::string& password,
                               std::int64_t id) {
  credentials.add(number, password, id, kRealm);
  ExtensionFeatures f;
  f.extensionId = id;
  f.number = number;
  f.displayName = "Ext " + number;
  directory.extensions[number] = f;
  passwords[number] = password;
}

void CallFixture::bind(const std::string& number, const sip::Endpoint& phone,
                       const std::string& contactUser, const std::string& callId) {
  registrar::RegistrationRequest r;
  r.extensionId = directory.extensions.at(number).extensionId;
  r.aor = "sip:" + number + "@pbx.test";
  registrar::RequestContact c;
  c.uri = "sip:" + contactUser + "@" + phone.toString();
  c.host = phone.ip;
  c.port = phone.port;
  r.contacts.push_back(c);
  r.callId = callId.empty() ? "reg-" + number + "-" + phone.toString() : callId;
  r.cseq = 1;
  r.local = {kLocal.ip, kLocal.port};
  r.source = {phone.ip, phone.port};
  r.viaHost = phone.ip;
  r.viaPort = phone.port;
  auto decision = registrar.registerBindings(r, wallNow());
  ASSERT_EQ(decision.status, 200);
}

registrar::Instant CallFixture::wallNow() const {
  return registrar::instantFromUnixSeconds(kEpochSeconds) +
         std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - start);
}

void CallFixture::advance(std::chrono::milliseconds delta) {
  const auto target = clock.now() + delta;
  // Step through the deadlines in order, like the loop would.
  while (true) {
    auto next = b2bua->nextDeadline();
    auto tx = endpoint.nextDeadline();
    if (tx && (!next || *tx < *next)) next = tx;
    if (!next || *next > target) break;
    if (*next > clock.now()) clock.set(*next);
    b2bua->onTimer(clock.now());
    endpoint.onTimer(clock.now());
  }
  clock.set(target);
  b2bua->onTimer(clock.now());
  endpoint.onTimer(clock.now());
}

std::vector<Sent> CallFixture::deliver(const std::string& text, const sip::Endpoint& from) {
  const std::size_t before = udp.sent.size();
  endpoint.onMessage(text, sip::Origin{sip::Transport::kUdp, kLocal, from, 0});
  return {udp.sent.begin() + static_cast<std::ptrdiff_t>(before), udp.sent.end()};
}

std::string CallFixture::inviteText(const Invite& inv, const std::string& auth) {
  const std::string body = inv.withSdp ? offerSdp(inv.sdpIp, 4000) : "";
  std::string t = "INVITE sip:" + inv.to + "@pbx.test SIP/2.0\r\n";
  t += "Via: SIP/2.0/UDP " + kCallerPhone.toString() + ";branch=" + inv.branch + "\r\n";
  t += "Max-Forwards: 70\r\n";
  t += "From: \"Alice\" <sip:" + inv.from + "@pbx.test>;tag=calltag1\r\n";
  t += "To: <sip:" + inv.to + "@pbx.test>\r\n";
  t += "Call-ID: " + inv.callId + "\r\n";
  t += "CSeq: " + std::to_string(inv.cseq) + " INVITE\r\n";
  t += "Contact: <sip:" + inv.from + "@" + kCallerPhone.toString() + ">\r\n";
  t += inv.extra + auth;
  if (inv.withSdp) t += "Content-Type: application/sdp\r\n";
  t += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return t;
}

std::string CallFixture::proxyAuthorization(const sip::Message& challenge, const std::string& user,
                                            const std::string& password, const std::string& uri) {
  const auto algorithm = registrar::DigestAlgorithm::kSha256;
  for (const sip::Challenge& c : challenge.proxyAuthenticates()) {
    if (c.param("algorithm").value_or("") != registrar::toString(algorithm)) continue;
    const std::string realm(c.param("realm").value_or(""));
    const std::string nonce(c.param("nonce").value_or(""));
    const std::string opaque(c.param("opaque").value_or(""));
    const std::string response =
        registrar::computeResponse(algorithm, registrar::ha1(algorithm, user, realm, password),
                                   nonce, "00000001", "c0ffee", "auth", "INVITE", uri);
    return "Proxy-Authorization: Digest username=\"" + user + "\", realm=\"" + realm +
           "\", nonce=\"" + nonce + "\", uri=\"" + uri + "\", response=\"" + response +
           "\", algorithm=SHA-256, cnonce=\"c0ffee\", qop=auth, nc=00000001, opaque=\"" + opaque +
           "\"\r\n";
  }
  ADD_FAILURE() << "no SHA-256 Proxy-Authenticate";
  return {};
}

std::vector<Sent> CallFixture::authenticatedInvite(const Invite& invite) {
  auto first = deliver(inviteText(invite), kCallerPhone);
  const Sent* challenge = findSent(first, "SIP/2.0 407");
  EXPECT_NE(challenge, nullptr);
  if (challenge == nullptr) return {};
  // The phone ACKs the 407 (same branch) and retries with a new one.
  {
    sip::Message c = parse(*challenge);
    std::string ack = "ACK sip:" + invite.to + "@pbx.test SIP/2.0\r\n";
    ack += "Via: SIP/2.0/UDP " + kCallerPhone.toString() + ";branch=" + invite.branch + "\r\n";
    ack += "Max-Forwards: 70\r\nFrom: " + std::string(*c.header(sip::HeaderId::kFrom)) + "\r\n";
    ack += "To: " + std::string(*c.header(sip::HeaderId::kTo)) + "\r\n";
    ack += "Call-ID: " + invite.callId + "\r\nCSeq: " + std::to_string(invite.cseq) +
           " ACK\r\nContent-Length: 0\r\n\r\n";
    deliver(ack, kCallerPhone);
  }
  Invite again = invite;
  again.cseq = invite.cseq + 1;
  again.branch = invite.branch + "-auth";
  return deliver(
      inviteText(again, proxyAuthorization(parse(*challenge), invite.from, passwords[invite.from],
                                           "sip:" + invite.to + "@pbx.test")),
      kCallerPhone);
}

std::string CallFixture::responseTo(const sip::Message& req, int status, const std::string& reason,
                                    const std::string& tag, const std::string& body,
                                    const std::string& contact) {
  sip::Message r = sip::Message::responseTo(req, status, reason, tag);
  if (!contact.empty()) r.addHeader("Contact", "<" + contact + ">");
  if (!body.empty()) r.setBody("application/sdp", body);
  return r.serialize();
}

std::string CallFixture::inDialogRequest(const std::string& method, const std::string& requestUri,
                                         const std::string& from, const std::string& to,
                                         const std::string& callId, std::uint32_t cseq,
                                         const std::string& via, const std::string& body) {
  std::string t = method + " " + requestUri + " SIP/2.0\r\n";
  t += "Via: SIP/2.0/UDP " + via + ";branch=z9hG4bKdlg" + std::to_string(++branches) + "\r\n";
  t += "Max-Forwards: 70\r\nFrom: " + from + "\r\nTo: " + to + "\r\nCall-ID: " + callId + "\r\n";
  t += "CSeq: " + std::to_string(cseq) + " " + method + "\r\n";
  if (method == "INVITE" || method == "UPDATE") t += "Contact: <sip:x@" + via + ">\r\n";
  if (!body.empty()) t += "Content-Type: application/sdp\r\n";
  t += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return t;
}

sip::Message CallFixture::parse(const Sent& s) {
  auto m = sip::Message::parse(s.wire);
  EXPECT_TRUE(m) << s.wire;
  return m ? std::move(m).value() : sip::Message::response(0, "unparsable");
}

std::vector<sip::Message> CallFixture::parseAll(const std::vector<Sent>& sent) {
  std::vector<sip::Message> out;
  for (const Sent& s : sent) out.push_back(parse(s));
  return out;
}

const Sent* CallFixture::findSent(const std::vector<Sent>& sent, const std::string& startLine,
                                  const sip::Endpoint* to) {
  for (const Sent& s : sent) {
    if (s.wire.rfind(startLine, 0) == 0 && (to == nullptr || s.to.endpoint == *to)) return &s;
  }
  return nullptr;
}

}  // namespace duplex::call::test
