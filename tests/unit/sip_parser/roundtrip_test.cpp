// Golden round trips: parse -> serialize -> parse keeps the start line, the
// headers (name, value, order) and the body for every corpus message that
// parses; a message written in canonical "Name: value" form serializes back
// byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "pbx/sip/message.h"

namespace duplex::sip {
namespace {

namespace fs = std::filesystem;

std::string readFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void expectSameMessage(const Message& a, const Message& b, const std::string& what) {
  EXPECT_EQ(a.isRequest(), b.isRequest()) << what;
  EXPECT_EQ(a.methodToken(), b.methodToken()) << what;
  EXPECT_EQ(a.method(), b.method()) << what;
  EXPECT_EQ(a.requestUriText(), b.requestUriText()) << what;
  EXPECT_EQ(a.statusCode(), b.statusCode()) << what;
  EXPECT_EQ(a.reasonPhrase(), b.reasonPhrase()) << what;
  ASSERT_EQ(a.headers().size(), b.headers().size()) << what;
  for (std::size_t i = 0; i < a.headers().size(); ++i) {
    EXPECT_EQ(a.headers()[i].id, b.headers()[i].id) << what << " header " << i;
    EXPECT_EQ(a.headers()[i].name, b.headers()[i].name) << what << " header " << i;
    EXPECT_EQ(a.headers()[i].value, b.headers()[i].value) << what << " header " << i;
  }
  EXPECT_EQ(a.body(), b.body()) << what;
}

TEST(RoundTrip, EveryParsableRfc4475Message) {
  int parsed = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(DUPLEX_TEST_DATA) / "rfc4475")) {
    if (entry.path().extension() != ".dat") continue;
    const std::string name = entry.path().filename().string();
    auto first = Message::parse(readFile(entry.path()));
    if (!first.ok()) continue;
    ++parsed;
    const std::string wire = first->serialize();
    auto second = Message::parse(wire);
    ASSERT_TRUE(second.ok()) << name << ": " << second.error().reason;
    expectSameMessage(*first, *second, name);
    EXPECT_EQ(second->serialize(), wire) << name;  // serializing is idempotent
    Message copy = second->clone();
    EXPECT_EQ(copy.serialize(), wire) << name;
  }
  // 49 RFC messages + test.dat; 15 are rejected by parse() itself (clerr, ncl,
  // scalar02, scalarlg, ltgtruri, lwsruri, lwsstart, trws, escruri, badvers,
  // bigcode, insuf, multi01, mcl01, test).
  EXPECT_EQ(parsed, 35);
}

TEST(RoundTrip, CanonicalMessagesAreByteIdentical) {
  const std::string messages[] = {
      "REGISTER sip:example.com SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport\r\n"
      "Max-Forwards: 70\r\n"
      "To: <sip:alice@example.com>\r\n"
      "From: <sip:alice@example.com>;tag=1928301774\r\n"
      "Call-ID: a84b4c76e66710@pc33.example.com\r\n"
      "CSeq: 2 REGISTER\r\n"
      "Contact: <sip:alice@192.0.2.10:5062>\r\n"
      "Authorization: Digest username=\"alice\", realm=\"example.com\", nonce=\"abc\", "
      "uri=\"sip:example.com\", response=\"0123456789abcdef0123456789abcdef\"\r\n"
      "Expires: 3600\r\n"
      "Content-Length: 0\r\n"
      "\r\n",
      "INVITE sip:bob@example.com SIP/2.0\r\n"
      "Via: SIP/2.0/TCP [2001:db8::1]:5060;branch=z9hG4bKnashds8\r\n"
      "Max-Forwards: 70\r\n"
      "To: Bob <sip:bob@example.com>\r\n"
      "From: \"Alice A.\" <sip:alice@example.com>;tag=1928301774\r\n"
      "Call-ID: a84b4c76e66710\r\n"
      "CSeq: 314159 INVITE\r\n"
      "Contact: <sip:alice@pc33.example.com>\r\n"
      "X-Unknown: ;;,,\r\n"
      "Content-Type: application/sdp\r\n"
      "Content-Length: 23\r\n"
      "\r\n"
      "v=0\r\n"
      "o=- 1 1 IN IP4 x\r\n",
      "SIP/2.0 486 Busy Here\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1;received=192.0.2.9;rport=5070\r\n"
      "From: <sip:a@example.com>;tag=1\r\n"
      "To: <sip:b@example.com>;tag=2\r\n"
      "Call-ID: x@y\r\n"
      "CSeq: 7 INVITE\r\n"
      "Content-Length: 0\r\n"
      "\r\n",
  };
  for (const std::string& text : messages) {
    auto m = Message::parse(text);
    ASSERT_TRUE(m.ok()) << m.error().reason << "\n" << text;
    EXPECT_EQ(m->serialize(), text);
    std::string appended = "prefix";
    m->serializeTo(appended);
    EXPECT_EQ(appended, "prefix" + text);
  }
}

}  // namespace
}  // namespace duplex::sip
