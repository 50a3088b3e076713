// The daemon's subsystems started and stopped for real (loopback, port 0, a
// temporary database), and the failures a user sees: a port in use, a
// database that cannot be created.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Poco/AutoPtr.h>
#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Util/Application.h>

#include <filesystem>

#include "pbx/app/duplex_app.h"
#include "pbx/app/exit_codes.h"
#include "pbx/app/logging.h"
#include "pbx/app/sip_subsystem.h"
#include "pbx/app/startup_error.h"
#include "pbx/app/subsystems.h"
#include "test_support.h"

namespace duplex::app {
namespace {

using ::testing::HasSubstr;

Config configWith(std::initializer_list<std::string> args) {
  const std::vector<std::string> v(args);
  return resolveConfig({}, parseCommandLine(v).overrides);
}

class SubsystemTest : public ::testing::Test {
 protected:
  // Start-up failures come out of initialize() as StartupError.
  template <class S>
  StartupError startupErrorOf(S& subsystem) {
    try {
      subsystem.initialize(*app_);
    } catch (const StartupError& e) {
      return e;
    }
    return StartupError("no error", 0);
  }

  test::ScratchDir dir_;
  Poco::AutoPtr<Poco::Util::Application> app_{new Poco::Util::Application};
};

TEST(ListeningLine, NamesEveryTransportWithRealPorts) {
  const std::vector<ListeningPoint> points = {{sip::Transport::kUdp, {"0.0.0.0", 5060}},
                                              {sip::Transport::kTcp, {"0.0.0.0", 5060}}};
  EXPECT_EQ(listeningLine(points, "127.0.0.1", 8080),
            "listening: SIP UDP 0.0.0.0:5060, SIP TCP 0.0.0.0:5060, admin http://127.0.0.1:8080");
  EXPECT_EQ(listeningLine({{sip::Transport::kTcp, {"::", 5070}}}, "::1", 8081),
            "listening: SIP TCP [::]:5070, admin http://[::1]:8081");
}

TEST_F(SubsystemTest, SipBindsUdpAndTcpOnTheSameFreePort) {
  const Config config = configWith({"--sip.bind=127.0.0.1", "--sip.port=0", "--log.file="});
  Logging logging(config.log, false, {.console = false});
  Poco::AutoPtr<SipSubsystem> sip(new SipSubsystem(config.sip, logging));
  sip->initialize(*app_);
  ASSERT_TRUE(sip->running());
  const auto points = sip->listeningPoints();
  ASSERT_EQ(points.size(), 2u);
  EXPECT_EQ(points[0].transport, sip::Transport::kUdp);
  EXPECT_EQ(points[1].transport, sip::Transport::kTcp);
  EXPECT_NE(points[0].local.port, 0);
  EXPECT_EQ(points[0].local.port, points[1].local.port);
  EXPECT_EQ(points[0].local.ip, "127.0.0.1");

  // Really listening: a TCP connect succeeds; a task posted runs on the loop.
  Poco::Net::StreamSocket client;
  client.connect(Poco::Net::SocketAddress("127.0.0.1", points[1].local.port));
  std::promise<std::thread::id> ran;
  ASSERT_TRUE(sip->post([&ran] { ran.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(ran.get_future().get(), std::this_thread::get_id());

  sip->uninitialize();
  EXPECT_FALSE(sip->running());
  EXPECT_FALSE(sip->post([] {}));
  // The sockets are closed: the port can be bound again.
  Poco::Net::DatagramSocket again(Poco::Net::SocketAddress("127.0.0.1", points[0].local.port),
                                  false);
}

TEST_F(SubsystemTest, SipOnlyTcp) {
  const Config config =
      configWith({"--sip.bind=127.0.0.1", "--sip.port=0", "--sip.udp=false", "--log.file="});
  Logging logging(config.log, false, {.console = false});
  Poco::AutoPtr<SipSubsystem> sip(new SipSubsystem(config.sip, logging));
  sip->initialize(*app_);
  const auto points = sip->listeningPoints();
  ASSERT_EQ(points.size(), 1u);
  EXPECT_EQ(points[0].transport, sip::Transport::kTcp);
  sip->uninitialize();
}

TEST_F(SubsystemTest, SipPortInUseNamesThePort) {
  Poco::Net::DatagramSocket taken(Poco::Net::SocketAddress("127.0.0.1", 0), false);
  const auto port = std::to_string(taken.address().port());
  const Config config = configWith({"--sip.bind=127.0.0.1", "--sip.port=" + port, "--log.file="});
  Logging logging(config.log, false, {.console = false});
  Poco::AutoPtr<SipSubsystem> sip(new SipSubsystem(config.sip, logging));
  const StartupError error = startupErrorOf(*sip);
  EXPECT_EQ(error.exitCode(), kExitUnavailable);
  EXPECT_THAT(error.what(), HasSubstr("sip.port: cannot listen on UDP 127.0.0.1:" + port));
  EXPECT_THAT(error.what(), HasSubstr("in use"));
  EXPECT_FALSE(sip->running());
  sip->uninitialize();  // harmless after a failed start
}

TEST_F(SubsystemTest, DatabaseIsCreatedMigratedAndClosed) {
  const Config config = configWith({"--data.dir=" + dir_.path(), "--log.file="});
  Logging logging(config.log, false, {.console = false});
  Poco::AutoPtr<DatabaseSubsystem> db(new DatabaseSubsystem(config.db_path));
  db->initialize(*app_);
  ASSERT_NE(db->database(), nullptr);
  EXPECT_GE(db->database()->schemaVersion(), 1);
  db->uninitialize();
  EXPECT_EQ(db->database(), nullptr);
  EXPECT_TRUE(std::filesystem::exists(dir_.file("duplex.db")));
}

TEST_F(SubsystemTest, DatabaseThatCannotBeCreated) {
  Poco::AutoPtr<DatabaseSubsystem> db(new DatabaseSubsystem(dir_.file("missing/dir/duplex.db")));
  const StartupError error = startupErrorOf(*db);
  EXPECT_EQ(error.exitCode(), kExitCantCreate);
  EXPECT_THAT(error.what(), HasSubstr("db.path: "));
  EXPECT_THAT(error.what(), HasSubstr("missing/dir/duplex.db"));
}

TEST_F(SubsystemTest, AdminPortInUse) {
  Poco::Net::ServerSocket taken;
  taken.bind(Poco::Net::SocketAddress("127.0.0.1", 0), true, false);
  taken.listen();
  const auto port = std::to_string(taken.address().port());
  const Config config = configWith({"--admin.port=" + port, "--log.file="});
  Logging logging(config.log, false, {.console = false});
  Poco::AutoPtr<AdminSubsystem> admin(new AdminSubsystem(config.admin));
  const StartupError error = startupErrorOf(*admin);
  EXPECT_EQ(error.exitCode(), kExitUnavailable);
  EXPECT_EQ(std::string(error.what()), "admin.port: admin HTTP cannot listen on 127.0.0.1:" + port +
                                           ": the port is already in use");
}

TEST_F(SubsystemTest, PlaceholdersStartAndStop) {
  Poco::AutoPtr<PlaceholderSubsystem> registrar(makeRegistrarSubsystem());
  EXPECT_STREQ(registrar->name(), "registrar");
  registrar->initialize(*app_);
  EXPECT_TRUE(registrar->running());
  registrar->uninitialize();
  EXPECT_FALSE(registrar->running());
}

}  // namespace
}  // namespace duplex::app
