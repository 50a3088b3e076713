// The routing chain's steps one by one (STYLE.md 5), the address choice per
// leg, and the call-record write-behind into a real SQLite file.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "call_test_support.h"
#include "db/database.h"
#include "db/sqlite_repositories.h"
#include "pbx/call/call_record_writer.h"

namespace duplex::call::test {
namespace {

sip::Message invite(const std::string& uri, const std::string& maxForwards = "70") {
  std::string t = "INVITE " + uri +
                  " SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.21;branch=z9hG4bKr\r\n"
                  "From: <sip:101@pbx.test>;tag=a\r\nTo: <" +
                  uri + ">\r\nCall-ID: r\r\nCSeq: 1 INVITE\r\n";
  if (!maxForwards.empty()) t += "Max-Forwards: " + maxForwards + "\r\n";
  t += "Content-Length: 0\r\n\r\n";
  auto m = sip::Message::parse(t);
  EXPECT_TRUE(m) << t;
  return std::move(m).value();
}

class Routing : public ::testing::Test {
 protected:
  Routing() {
    for (const char* n : {"101", "102", "103", "104"}) {
      ExtensionFeatures f;
      f.extensionId = std::stoi(n);
      f.number = n;
      dir.extensions[n] = f;
    }
    ctx.caller = "101";
  }
  FakeDirectory dir;
  RoutingContext ctx;
};

TEST_F(Routing, MaxForwardsAbsentIs70ZeroIs483ElseDecremented) {
  EXPECT_FALSE(checkMaxForwards(invite("sip:102@pbx.test", ""), ctx));
  EXPECT_EQ(ctx.maxForwards, 70u);
  EXPECT_FALSE(checkMaxForwards(invite("sip:102@pbx.test", "5"), ctx));
  EXPECT_EQ(ctx.maxForwards, 4u);
  auto stop = checkMaxForwards(invite("sip:102@pbx.test", "0"), ctx);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 483);
}

TEST_F(Routing, DialPlanTakesTheUserPartWithoutVisualSeparators) {
  EXPECT_FALSE(dialPlan(invite("sip:1-0(2)@pbx.test"), ctx));
  EXPECT_EQ(ctx.dialled, "102");
  EXPECT_FALSE(dialPlan(invite("sip:%31%30%32@pbx.test"), ctx));
  EXPECT_EQ(ctx.dialled, "102");
  auto stop = dialPlan(invite("sip:pbx.test"), ctx);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 404);
}

TEST_F(Routing, UnknownAndDisabledExtensionsAre404) {
  ctx.dialled = "999";
  EXPECT_EQ(resolveExtension(dir, ctx)->status, 404);
  dir.extensions["102"].enabled = false;
  ctx.dialled = "102";
  EXPECT_EQ(resolveExtension(dir, ctx)->status, 404);
  ctx.dialled = "103";
  EXPECT_FALSE(resolveExtension(dir, ctx));
  EXPECT_EQ(ctx.target->number, "103");
}

TEST_F(Routing, UnconditionalForwardChainIsFollowedAndRecorded) {
  dir.extensions["102"].forwardUnconditional = "103";
  dir.extensions["103"].forwardUnconditional = "104";
  ctx.target = dir.extensions["102"];
  EXPECT_FALSE(applyFeatures(dir, ctx));
  EXPECT_EQ(ctx.target->number, "104");
  EXPECT_EQ(forwardStepsJson(ctx.steps), R"([{"from":"102","to":"103","why":"unconditional"},)"
                                         R"({"from":"103","to":"104","why":"unconditional"}])");
}

TEST_F(Routing, DndOfTheForwardTargetStopsTheCall) {
  dir.extensions["102"].forwardUnconditional = "103";
  dir.extensions["103"].dnd = true;
  ctx.target = dir.extensions["102"];
  auto stop = applyFeatures(dir, ctx);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 486);
}

TEST_F(Routing, ForwardBackToTheCallerIsACallToSelf) {
  dir.extensions["102"].forwardUnconditional = "101";
  ctx.target = dir.extensions["102"];
  auto stop = applyFeatures(dir, ctx);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->reason, "Busy Here (call to self)");
}

TEST_F(Routing, ForwardToUnknownTargetFails404) {
  ctx.target = dir.extensions["102"];
  auto stop = forwardTo(dir, "999", "busy", ctx);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->status, 404);
}

TEST(AddressChoice, LanPeersGetTheLocalAddressOthersTheMainAddress) {
  ConfiguredAddressChoice choice("pbx.example.com", {"10.0.0.0/8", "192.168.1.0/24", "fd00::/8"},
                                 "10.0.0.5");
  EXPECT_EQ(choice.advertisedFor("10.1.2.3", "10.0.0.5"), "10.0.0.5");
  EXPECT_EQ(choice.advertisedFor("192.168.1.77", "192.168.1.2"), "192.168.1.2");
  EXPECT_EQ(choice.advertisedFor("192.168.2.77", "192.168.1.2"), "pbx.example.com");
  EXPECT_EQ(choice.advertisedFor("203.0.113.9", "10.0.0.5"), "pbx.example.com");
  EXPECT_EQ(choice.advertisedFor("fd12::1", "0.0.0.0"), "10.0.0.5");  // wildcard: fallback
  EXPECT_EQ(choice.advertisedFor("not-an-ip", "10.0.0.5"), "pbx.example.com");
  ConfiguredAddressChoice noMain("", {"10.0.0.0/8"}, "10.0.0.5");
  EXPECT_EQ(noMain.advertisedFor("203.0.113.9", "10.0.0.5"), "10.0.0.5");
}

TEST(CallRecordWriter, RecordsReachTheDatabaseOffTheCallingThread) {
  const auto path = std::filesystem::temp_directory_path() /
                    (std::to_string(::getpid()).append("-duplex-cdr.db"));
  std::filesystem::remove(path);
  {
    db::Database migrate(path.string());  // schema
  }
  {
    CallRecordWriter writer(path.string(),
                            CallRecordWriter::Options{std::chrono::milliseconds(20)});
    for (int i = 0; i < 100; ++i) {
      db::CallRecord r;
      r.callId = std::to_string(i);
      r.callId.insert(0, 1, 'c');
      r.caller = "101";
      r.callee = "102";
      r.dialled = "102";
      r.startAt = 1'700'000'000 + i;
      r.endAt = r.startAt + 5;
      r.durationS = 5;
      r.disposition = db::Disposition::answered;
      r.mediaFacts = i == 7 ? "not json" : "{}";  // refused by the CHECK: dropped, counted
      writer.write(std::move(r));
    }
    writer.flush();
    EXPECT_EQ(writer.written(), 99u);
    EXPECT_EQ(writer.dropped(), 1u);
  }
  db::Database db(path.string());
  db::SqliteCallRecordRepository repo(db);
  auto page = repo.query({.limit = 1000});
  EXPECT_EQ(page.total, 99);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace duplex::call::test
