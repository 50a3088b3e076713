// frameStreamMessage (RFC 3261 18.3, RFC 5626 4.4.1, RFC 4475 3.1.2.2/3.1.2.3/3.3.9).
#include <gtest/gtest.h>

#include <string>

#include "pbx/sip/message.h"
#include "transport_test_support.h"

namespace duplex::sip {
namespace {

constexpr std::size_t kMax = 65535;

const std::string kHead =
    "INVITE sip:bob@example.com SIP/2.0\r\n"
    "Via: SIP/2.0/TCP 192.0.2.1;branch=z9hG4bK1\r\n"
    "Call-ID: a\r\n";

std::size_t lengthOf(const std::string& stream, std::size_t max = kMax) {
  auto frame = frameStreamMessage(stream, max);
  EXPECT_TRUE(frame.ok()) << frame.error().reason;
  return frame.ok() ? frame->length : 0;
}

SipError errorOf(const std::string& stream, std::size_t max = kMax) {
  auto frame = frameStreamMessage(stream, max);
  EXPECT_FALSE(frame.ok());
  return frame.ok() ? SipError{} : frame.error();
}

TEST(StreamFraming, CompleteMessageWithBody) {
  const std::string message = kHead + "Content-Length: 5\r\n\r\nhello";
  EXPECT_EQ(lengthOf(message), message.size());
  EXPECT_EQ(lengthOf(message + "OPTIONS sip:x SIP/2.0\r\n"), message.size());
}

TEST(StreamFraming, NeedsMoreUntilHeadersAndBodyAreComplete) {
  const std::string message = kHead + "Content-Length: 5\r\n\r\nhello";
  for (std::size_t cut = 0; cut < message.size(); ++cut) {
    auto frame = frameStreamMessage(std::string_view(message).substr(0, cut), kMax);
    ASSERT_TRUE(frame.ok()) << "cut at " << cut;
    EXPECT_EQ(frame->length, 0u) << "cut at " << cut;
  }
}

TEST(StreamFraming, LeadingCrlfKeepalivesAreSkipped) {
  const std::string message = kHead + "Content-Length: 0\r\n\r\n";
  auto frame = frameStreamMessage("\r\n\r\n" + message, kMax);
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->skip, 4u);
  EXPECT_EQ(frame->length, message.size());

  auto only = frameStreamMessage("\r\n\r\n", kMax);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(only->skip, 4u);
  EXPECT_EQ(only->length, 0u);
}

TEST(StreamFraming, CompactAndCaseInsensitiveNames) {
  EXPECT_EQ(lengthOf(kHead + "l: 2\r\n\r\nab"), kHead.size() + 10);
  EXPECT_EQ(lengthOf(kHead + "L:2\r\n\r\nab"), kHead.size() + 9);
  EXPECT_EQ(lengthOf(kHead + "CONTENT-length   :  2 \r\n\r\nab"), kHead.size() + 28);
}

TEST(StreamFraming, FoldedValue) {
  const std::string message = kHead + "Content-Length:\r\n   3\r\n\r\nabc";
  EXPECT_EQ(lengthOf(message), message.size());
}

TEST(StreamFraming, OnlyHeaderNamesAtLineStartCount) {
  // "l: 99" inside another header's value, folded or not, is not Content-Length.
  const std::string message = kHead +
                              "Subject: l: 99\r\n"
                              "X-Note: first\r\n l: 99\r\n"
                              "lx: 99\r\n"
                              "Content-Length: 1\r\n\r\nz";
  EXPECT_EQ(lengthOf(message), message.size());
  EXPECT_EQ(errorOf("l: 5\r\nSubject: l: 5\r\n\r\n").reason, "Missing Content-Length");
}

TEST(StreamFraming, MissingContentLengthIsAnError) {
  EXPECT_EQ(errorOf(kHead + "\r\n"), (SipError{400, "Missing Content-Length"}));
}

TEST(StreamFraming, InvalidValuesAreErrors) {
  for (const char* value : {"-999", "abc", "", "5 5", "5,5", "+5", "0x10", "12abc"}) {
    EXPECT_EQ(errorOf(kHead + "Content-Length: " + value + "\r\n\r\n"),
              (SipError{400, "Invalid Content-Length"}))
        << value;
  }
}

TEST(StreamFraming, DuplicatesMustAgree) {
  const std::string same = kHead + "Content-Length: 1\r\nl: 01\r\n\r\nx";
  EXPECT_EQ(lengthOf(same), same.size());
  EXPECT_EQ(errorOf(kHead + "Content-Length: 13\r\nl: 5\r\n\r\nabcde"),
            (SipError{400, "Conflicting Content-Length"}));
}

TEST(StreamFraming, TooLargeIsReportedAs513) {
  const SipError too_large{513, "Message Too Large"};
  EXPECT_EQ(errorOf(kHead + "Content-Length: 1000\r\n\r\n", 500), too_large);
  // Digits enough to overflow 64 bits must saturate, not wrap.
  EXPECT_EQ(errorOf(kHead + "Content-Length: 99999999999999999999999999\r\n\r\n"), too_large);
  // Headers that never end within the limit.
  EXPECT_EQ(errorOf(kHead + std::string(600, 'x'), 500), too_large);
  // Exactly the limit is fine.
  const std::string exact = kHead + "Content-Length: 10\r\n\r\n0123456789";
  EXPECT_EQ(lengthOf(exact, exact.size()), exact.size());
  EXPECT_EQ(errorOf(exact, exact.size() - 1), too_large);
}

TEST(StreamFraming, Rfc4475Corpus) {
  const auto ncl = test::rfc4475("ncl.dat");
  const auto mcl01 = test::rfc4475("mcl01.dat");
  const auto clerr = test::rfc4475("clerr.dat");
  ASSERT_TRUE(ncl) << test::missingCorpus("ncl.dat");
  ASSERT_TRUE(mcl01) << test::missingCorpus("mcl01.dat");
  ASSERT_TRUE(clerr) << test::missingCorpus("clerr.dat");
  EXPECT_EQ(errorOf(*ncl).reason, "Invalid Content-Length");        // 3.1.2.3: -999
  EXPECT_EQ(errorOf(*mcl01).reason, "Conflicting Content-Length");  // 3.3.9: 13 and 5
  auto frame = frameStreamMessage(*clerr, kMax);                    // 3.1.2.2: 9999 > body
  ASSERT_TRUE(frame.ok());
  EXPECT_EQ(frame->length, 0u);  // waits for more: the transport's timeout closes it
}

}  // namespace
}  // namespace duplex::sip
