// Logging: one logger per component with its own level, the file sink, and
// the SIP trace switch.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <sstream>

#include "pbx/app/logging.h"
#include "test_support.h"

namespace duplex::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

Config configWith(std::initializer_list<std::string> args) {
  const std::vector<std::string> v(args);
  return resolveConfig({}, parseCommandLine(v).overrides);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(Logging, ComponentLevelsFallBackToLogLevel) {
  test::ScratchDir dir;
  const Config c = configWith({"--data.dir=" + dir.path(), "--log.level=warn",
                               "--log.level.sip=debug", "--log.level.db=off"});
  Logging logging(c.log, false, {.console = false});
  EXPECT_EQ(logging.logger("sip")->level(), spdlog::level::debug);
  EXPECT_EQ(logging.logger("db")->level(), spdlog::level::off);
  for (auto name : {"admin", "registrar", "media", "nat", "app"}) {
    EXPECT_EQ(logging.logger(name)->level(), spdlog::level::warn) << name;
  }
  // Components find their logger in spdlog's registry, without this header.
  EXPECT_EQ(spdlog::get("sip"), logging.logger("sip"));
  EXPECT_EQ(logging.logger("unknown"), nullptr);
}

TEST(Logging, WritesTheFileWithComponentNamesAndLevels) {
  test::ScratchDir dir;
  const Config c = configWith({"--data.dir=" + dir.path(), "--log.level.nat=error"});
  {
    Logging logging(c.log, false, {.console = false});
    spdlog::get("registrar")->info("binding added");
    spdlog::get("nat")->warn("hidden: below the nat level");
    spdlog::get("nat")->error("no UPnP gateway");
    spdlog::info("through the default logger");
  }
  const std::string text = slurp(dir.file("duplex.log"));
  EXPECT_THAT(text, HasSubstr("info  [registrar] binding added"));
  EXPECT_THAT(text, HasSubstr("error [nat] no UPnP gateway"));
  EXPECT_THAT(text, Not(HasSubstr("hidden")));
  EXPECT_THAT(text, HasSubstr("through the default logger"));
}

TEST(Logging, NoFileWhenLogFileIsEmpty) {
  test::ScratchDir dir;
  const Config c = configWith({"--data.dir=" + dir.path(), "--log.file="});
  Logging logging(c.log, false, {.console = false});
  logging.logger("app")->info("nowhere");
  logging.logToFileOnly(spdlog::level::critical, "nowhere either");
  EXPECT_FALSE(std::filesystem::exists(dir.file("duplex.log")));
}

TEST(Logging, UnwritableFileIsAnErrorNamingIt) {
  const Config c = configWith({"--log.file=/proc/duplex-cannot-write/x.log"});
  try {
    Logging logging(c.log, false, {.console = false});
    FAIL() << "no error";
  } catch (const LoggingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("log.file: cannot open '/proc/duplex-cannot-write/x.log'"));
  }
}

TEST(Logging, SipTraceSwitchesAtRunTime) {
  test::ScratchDir dir;
  const Config c = configWith({"--data.dir=" + dir.path()});
  Logging logging(c.log, /*sip_trace=*/false, {.console = false});
  auto trace = spdlog::get(std::string(kSipTraceLogger));
  ASSERT_NE(trace, nullptr);
  EXPECT_FALSE(logging.sipTraceEnabled());
  EXPECT_FALSE(trace->should_log(spdlog::level::info));
  trace->info("INVITE hidden");

  EXPECT_TRUE(logging.toggleSipTrace());
  EXPECT_TRUE(logging.sipTraceFlag().load());
  EXPECT_TRUE(trace->should_log(spdlog::level::info));
  trace->info("OPTIONS sip:pbx SIP/2.0");

  logging.setSipTrace(false);
  EXPECT_FALSE(trace->should_log(spdlog::level::info));
  logging.flush();
  const std::string text = slurp(dir.file("duplex.log"));
  EXPECT_THAT(text, HasSubstr("[sip.trace] OPTIONS sip:pbx SIP/2.0"));
  EXPECT_THAT(text, Not(HasSubstr("INVITE hidden")));
}

TEST(Logging, TraceStartsOnWhenConfigured) {
  const Config c = configWith({"--log.file=", "--sip.trace=true"});
  Logging logging(c.log, c.sip.trace, {.console = false});
  EXPECT_TRUE(logging.sipTraceEnabled());
  EXPECT_TRUE(logging.logger("sip.trace")->should_log(spdlog::level::info));
}

TEST(Logging, StartupFailureGoesToTheFileOnly) {
  test::ScratchDir dir;
  const Config c = configWith({"--data.dir=" + dir.path()});
  Logging logging(c.log, false, {.console = false});
  logging.logToFileOnly(spdlog::level::critical, "cannot start: sip.port: in use");
  EXPECT_THAT(slurp(dir.file("duplex.log")), HasSubstr("cannot start: sip.port: in use"));
}

}  // namespace
}  // namespace duplex::app
