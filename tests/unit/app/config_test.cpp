// Configuration: defaults, the file format, command-line overrides, and the
// error messages a user reads when a value is wrong (key + accepted values).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include "pbx/app/config.h"

namespace duplex::app {
namespace {

using ::testing::HasSubstr;

// The message of the ConfigError that `f` throws ("" if it throws none).
template <class F>
std::string errorOf(F&& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

RawValues cli(std::initializer_list<std::string> args) {
  const std::vector<std::string> v(args);
  return parseCommandLine(v).overrides;
}

Config fromFile(std::string_view text, RawValues overrides = {}) {
  return resolveConfig(parseConfigText(text, "duplex.conf"), overrides);
}

std::string fileError(std::string_view text) {
  return errorOf([&] { fromFile(text); });
}

std::string cliError(std::initializer_list<std::string> args) {
  return errorOf([&] { resolveConfig(cli(args)); });
}

TEST(ConfigDefaults, MatchTheDocumentedValues) {
  const Config c = resolveConfig({}, {});
  EXPECT_EQ(c.config_file, "");
  EXPECT_EQ(c.data_dir, "./data");
  EXPECT_EQ(c.db_path, "./data/duplex.db");
  EXPECT_EQ(c.sip.bind, "0.0.0.0");
  EXPECT_EQ(c.sip.port, 5060);
  EXPECT_TRUE(c.sip.udp);
  EXPECT_TRUE(c.sip.tcp);
  EXPECT_EQ(c.sip.max_message_size, 65535u);
  EXPECT_EQ(c.sip.tcp_idle_timeout, std::chrono::seconds(600));
  EXPECT_EQ(c.sip.tcp_max_connections, 1024);
  EXPECT_EQ(c.sip.tcp_max_per_ip, 32);
  EXPECT_EQ(c.sip.t1, std::chrono::milliseconds(500));
  EXPECT_EQ(c.sip.t2, std::chrono::milliseconds(4000));
  EXPECT_EQ(c.sip.t4, std::chrono::milliseconds(5000));
  EXPECT_FALSE(c.sip.trace);
  EXPECT_EQ(c.sip.user_agent, "Duplex PBX " DUPLEX_VERSION);
  EXPECT_EQ(c.admin.bind, "127.0.0.1");
  EXPECT_EQ(c.admin.port, 8080);
  EXPECT_EQ(c.admin.threads, 2);
  EXPECT_EQ(c.log.level, spdlog::level::info);
  for (auto component : kLogComponents) EXPECT_EQ(c.log.levelFor(component), spdlog::level::info);
  EXPECT_EQ(c.log.file, "./data/duplex.log");
  EXPECT_EQ(c.log.file_max_size, 10u * 1024 * 1024);
  EXPECT_EQ(c.log.file_count, 5);
  EXPECT_EQ(c.network.main_address, "");
  EXPECT_TRUE(c.network.additional_addresses.empty());
  EXPECT_EQ(c.network.local_networks.size(), 6u);
  EXPECT_EQ(c.network.local_networks[1], (Cidr{"10.0.0.0", 8}));
}

TEST(ConfigDefaults, EveryKeyIsResolvedWithItsOrigin) {
  const Config c = resolveConfig({}, cli({"--sip.port=5070"}));
  ASSERT_EQ(c.resolved.size(), configSchema().size());
  for (const auto& r : c.resolved) {
    EXPECT_EQ(r.origin, r.key == "sip.port" ? "command line" : "default") << r.key;
  }
}

TEST(ConfigDefaults, SchemaKeysAreUniqueAndDocumented) {
  std::set<std::string_view> names;
  for (const auto& key : configSchema()) {
    EXPECT_TRUE(names.insert(key.name).second) << key.name;
    EXPECT_FALSE(key.doc.empty()) << key.name;
    EXPECT_NE(key.apply, nullptr) << key.name;
    // Every default is itself a valid value.
    EXPECT_NO_THROW(resolveConfig({}, {}));
  }
  for (auto component : kLogComponents) {
    EXPECT_NE(findKey("log.level." + std::string(component)), nullptr) << component;
  }
}

TEST(ConfigDefaults, ReferToOtherKeys) {
  const Config c = resolveConfig({}, cli({"--data.dir=/var/lib/duplex/"}));
  EXPECT_EQ(c.db_path, "/var/lib/duplex/duplex.db");  // no "//"
  EXPECT_EQ(c.log.file, "/var/lib/duplex/duplex.log");
  const Config d = resolveConfig({}, cli({"--data.dir=/srv/x", "--db.path=/tmp/other.db"}));
  EXPECT_EQ(d.db_path, "/tmp/other.db");
  EXPECT_EQ(d.log.file, "/srv/x/duplex.log");
}

TEST(ConfigFile, KeyValueLinesCommentsBlanksAndQuotes) {
  const Config c = fromFile(
      "# Duplex configuration\n"
      "\n"
      "sip.port = 5070\n"
      "  sip.tcp=false  \r\n"
      "sip.user_agent = \"  Office PBX  \"\n"
      "log.file = \"\"\n"
      "log.level.sip = DEBUG\n"
      "additional_addresses = pbx.example.com, 203.0.113.7 ,2001:db8::1\n"
      "local_networks = 192.168.1.0/24\n"
      "main_address = office.example.org\n");
  EXPECT_EQ(c.sip.port, 5070);
  EXPECT_FALSE(c.sip.tcp);
  EXPECT_EQ(c.sip.user_agent, "  Office PBX  ");
  EXPECT_EQ(c.log.file, "");
  EXPECT_EQ(c.log.levelFor("sip"), spdlog::level::debug);
  EXPECT_EQ(c.log.levelFor("db"), spdlog::level::info);
  EXPECT_EQ(c.network.additional_addresses,
            (std::vector<std::string>{"pbx.example.com", "203.0.113.7", "2001:db8::1"}));
  EXPECT_EQ(c.network.local_networks, (std::vector<Cidr>{{"192.168.1.0", 24}}));
  EXPECT_EQ(c.network.main_address, "office.example.org");
  for (const auto& r : c.resolved) {
    if (r.key == "sip.port") {
      EXPECT_EQ(r.origin, "duplex.conf:3");
    }
  }
}

TEST(ConfigFile, CommandLineWinsOverFile) {
  const Config c = fromFile("sip.port = 5070\nadmin.port = 9000\n", cli({"--sip.port=5080"}));
  EXPECT_EQ(c.sip.port, 5080);
  EXPECT_EQ(c.admin.port, 9000);
}

TEST(ConfigFile, BadValueIsReportedEvenWhenOverridden) {
  EXPECT_EQ(errorOf([] { fromFile("sip.port = abc\n", cli({"--sip.port=5080"})); }),
            "duplex.conf:1: sip.port: 'abc' is not a port (0-65535)");
}

TEST(ConfigFile, ErrorsNameFileLineKeyAndAcceptedValues) {
  EXPECT_EQ(fileError("# c\n\n\n\n\n\n\n\n\n\n\nsip.port = abc\n"),
            "duplex.conf:12: sip.port: 'abc' is not a port (0-65535)");
  EXPECT_EQ(fileError("sip.prot = 5060\n"),
            "duplex.conf:1: unknown key 'sip.prot' (did you mean sip.port?)");
  EXPECT_EQ(fileError("completely.different = 1\n"),
            "duplex.conf:1: unknown key 'completely.different' (see duplex --help for every key)");
  EXPECT_EQ(fileError("sip.port 5060\n"),
            "duplex.conf:1: expected 'key = value', got 'sip.port 5060'");
  EXPECT_EQ(fileError("= 5060\n"), "duplex.conf:1: expected 'key = value', got '= 5060'");
  EXPECT_EQ(fileError("sip.port = 1\nsip.port = 2\n"),
            "duplex.conf:2: sip.port: set twice (first on line 1)");
  EXPECT_THAT(fileError("sip.user_agent = \"abc\n"),
              HasSubstr("duplex.conf:1: sip.user_agent: unterminated quote"));
  EXPECT_THAT(fileError("config = /etc/other.conf\n"),
              HasSubstr("duplex.conf:1: config: can only be given on the command line"));
  EXPECT_EQ(fileError("sip.udp = maybe\n"),
            "duplex.conf:1: sip.udp: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
}

TEST(ConfigFile, ReadFromDiskAndMissingFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("duplex-config-test-" + std::to_string(::getpid()) + ".conf");
  {
    std::ofstream out(path);
    out << "# test\nsip.udp = maybe\n";
  }
  EXPECT_EQ(
      errorOf([&] { resolveConfig(cli({"--config=" + path.string()})); }),
      path.string() + ":2: sip.udp: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)");
  {
    std::ofstream out(path);
    out << "sip.port = 5099\n";
  }
  const Config c = resolveConfig(cli({"--config=" + path.string()}));
  EXPECT_EQ(c.sip.port, 5099);
  EXPECT_EQ(c.config_file, path.string());
  std::filesystem::remove(path);
  EXPECT_THAT(errorOf([&] { resolveConfig(cli({"--config=" + path.string()})); }),
              HasSubstr("config: cannot read '" + path.string() + "': No such file"));
  EXPECT_THAT(errorOf([] { resolveConfig(cli({"--config=/tmp"})); }),
              HasSubstr("config: '/tmp' is a directory"));
}

TEST(ConfigValues, BadValueOfEachTypeNamesKeyAndAcceptedValues) {
  EXPECT_EQ(cliError({"--admin.threads=many"}),
            "command line: admin.threads: 'many' is not an integer (1-16)");
  EXPECT_EQ(cliError({"--admin.threads=17"}),
            "command line: admin.threads: '17' is out of range (1-16)");
  EXPECT_EQ(cliError({"--admin.port=65536"}),
            "command line: admin.port: '65536' is not a port (0-65535)");
  EXPECT_EQ(cliError({"--sip.port=-1"}), "command line: sip.port: '-1' is not a port (0-65535)");
  EXPECT_EQ(cliError({"--sip.tcp=2"}),
            "command line: sip.tcp: '2' is not a boolean (true/false, yes/no, on/off, 1/0)");
  EXPECT_EQ(cliError({"--log.level=loud"}),
            "command line: log.level: 'loud' is not one of: trace, debug, info, warn, error, off");
  EXPECT_EQ(cliError({"--log.level.nat=verbose"}),
            "command line: log.level.nat: 'verbose' is not one of: trace, debug, info, warn, "
            "error, off");
  EXPECT_EQ(cliError({"--sip.bind=localhost"}),
            "command line: sip.bind: 'localhost' is not an IP address (an IPv4 or IPv6 literal "
            "such as 0.0.0.0 or ::)");
  EXPECT_THAT(cliError({"--admin.bind=1.2.3"}),
              HasSubstr("admin.bind: '1.2.3' is not an IP address"));
  EXPECT_EQ(cliError({"--main_address=bad_host!"}),
            "command line: main_address: 'bad_host!' is not a hostname or IP address (e.g. "
            "pbx.example.com, 203.0.113.7)");
  EXPECT_EQ(cliError({"--sip.t1=fast"}),
            "command line: sip.t1: 'fast' is not a duration (10ms-10s; units ms, s, m, h; a bare "
            "number is ms)");
  EXPECT_EQ(cliError({"--sip.t1=20s"}),
            "command line: sip.t1: '20s' is out of range (10ms-10s; units ms, s, m, h; a bare "
            "number is ms)");
  EXPECT_THAT(cliError({"--sip.tcp_idle_timeout=0"}),
              HasSubstr("sip.tcp_idle_timeout: '0' is out of range (1s-24h; units ms, s, m, h; a "
                        "bare number is seconds)"));
  EXPECT_EQ(cliError({"--log.file_max_size=ten"}),
            "command line: log.file_max_size: 'ten' is not a size (64K-1G; bytes, or with a unit "
            "K, M, G)");
  EXPECT_THAT(cliError({"--log.file_max_size=2G"}), HasSubstr("'2G' is out of range (64K-1G"));
  EXPECT_EQ(cliError({"--additional_addresses=pbx.example.com, -bad-.example.com"}),
            "command line: additional_addresses: '-bad-.example.com' is not a hostname or IP "
            "address (a comma-separated list of hostnames and IPs)");
  EXPECT_EQ(cliError({"--sip.user_agent=a\tb"}),
            "command line: sip.user_agent: the value contains a control character");
  EXPECT_THAT(cliError({"--data.dir="}), HasSubstr("data.dir: a value is required"));
  EXPECT_THAT(cliError({"--log.level="}),
              HasSubstr("log.level: a value is required (one of: trace, debug"));
}

TEST(ConfigValues, StunServersAreHostOrHostPort) {
  const Config ok =
      resolveConfig(cli({"--nat.stun_servers=stun.example.net, 192.0.2.1:3478, "
                         "[2001:db8::1]:3478"}));
  EXPECT_EQ(ok.nat.stun_servers,
            (std::vector<std::string>{"stun.example.net", "192.0.2.1:3478", "[2001:db8::1]:3478"}));
  EXPECT_EQ(cliError({"--nat.stun_servers=stun.example.net:99999"}),
            "command line: nat.stun_servers: 'stun.example.net:99999' has a port outside 1-65535 "
            "(expected host or host:port, e.g. stun.example.net:3478)");
  EXPECT_THAT(cliError({"--nat.stun_servers=good.example,bad_host!"}),
              HasSubstr("'bad_host!' is not a hostname or IP address"));
  EXPECT_THAT(cliError({"--nat.stun_servers=[2001:db8::1"}), HasSubstr("has no closing ']'"));
  EXPECT_THAT(cliError({"--nat.stun_servers=host:"}), HasSubstr("has a port outside 1-65535"));
}

TEST(ConfigValues, TypedValuesAreConverted) {
  const Config c = resolveConfig(
      {}, cli({"--sip.t1=1s", "--sip.t2=4000", "--sip.tcp_idle_timeout=90", "--sip.trace",
               "--sip.udp=off", "--log.file_max_size=512K", "--sip.max_message_size=8k",
               "--sip.bind=::", "--admin.bind=::1", "--log.level=WARN"}));
  EXPECT_EQ(c.sip.t1, std::chrono::milliseconds(1000));
  EXPECT_EQ(c.sip.t2, std::chrono::milliseconds(4000));
  EXPECT_EQ(c.sip.tcp_idle_timeout, std::chrono::seconds(90));
  EXPECT_TRUE(c.sip.trace);
  EXPECT_FALSE(c.sip.udp);
  EXPECT_EQ(c.log.file_max_size, 512u * 1024);
  EXPECT_EQ(c.sip.max_message_size, 8u * 1024);
  EXPECT_EQ(c.sip.bind, "::");
  EXPECT_EQ(c.admin.bind, "::1");
  EXPECT_EQ(c.log.level, spdlog::level::warn);
}

TEST(ConfigValues, CidrListsAreValidated) {
  const Config c = resolveConfig({}, cli({"--local_networks=10.1.0.0/16,fd00::/8, 0.0.0.0/0"}));
  EXPECT_EQ(c.network.local_networks,
            (std::vector<Cidr>{{"10.1.0.0", 16}, {"fd00::", 8}, {"0.0.0.0", 0}}));
  EXPECT_TRUE(resolveConfig({}, cli({"--local_networks="})).network.local_networks.empty());
  EXPECT_EQ(cliError({"--local_networks=192.168.1.5/24"}),
            "command line: local_networks: '192.168.1.5/24' is not a CIDR network: has host bits "
            "set (did you mean 192.168.1.0/24?) (a comma-separated list such as 192.168.0.0/16, "
            "fc00::/7)");
  EXPECT_THAT(cliError({"--local_networks=10.0.0.0/33"}),
              HasSubstr("'10.0.0.0/33' is not a CIDR network: the prefix must be 0-32"));
  EXPECT_THAT(cliError({"--local_networks=fc00::/129"}), HasSubstr("the prefix must be 0-128"));
  EXPECT_THAT(cliError({"--local_networks=10.0.0.0"}),
              HasSubstr("'10.0.0.0' is not a CIDR network: has no /prefix"));
  EXPECT_THAT(cliError({"--local_networks=lan/24"}),
              HasSubstr("'lan/24' is not a CIDR network: 'lan' is not an IP address"));
}

TEST(ConfigValues, CrossKeyRules) {
  EXPECT_THAT(cliError({"--sip.udp=false", "--sip.tcp=false"}),
              HasSubstr("sip.udp, sip.tcp: both are false"));
  EXPECT_THAT(cliError({"--sip.t1=5s", "--sip.t2=4s"}),
              HasSubstr("sip.t1: 5s is longer than sip.t2 (4s)"));
  EXPECT_THAT(cliError({"--sip.tcp_max_per_ip=100", "--sip.tcp_max_connections=10"}),
              HasSubstr("sip.tcp_max_per_ip: 100 is more than sip.tcp_max_connections (10)"));
}

TEST(CommandLine, OverridesAndActions) {
  const std::vector<std::string> args = {"--sip.port=5070", "--sip.trace", "--sip.port=5080"};
  const CommandLine c = parseCommandLine(args);
  EXPECT_EQ(c.action, CommandLine::Action::kRun);
  EXPECT_EQ(c.overrides.at("sip.port").value, "5080");  // the last one wins
  EXPECT_EQ(c.overrides.at("sip.trace").value, "true");
  EXPECT_EQ(c.overrides.at("sip.port").origin, "command line");

  const std::vector<std::string> help = {"--sip.prot=1", "--help"};
  EXPECT_EQ(parseCommandLine(help).action, CommandLine::Action::kHelp);
  const std::vector<std::string> version = {"--version"};
  EXPECT_EQ(parseCommandLine(version).action, CommandLine::Action::kVersion);
  const std::vector<std::string> doc = {"--print-config-doc"};
  EXPECT_EQ(parseCommandLine(doc).action, CommandLine::Action::kPrintConfigDoc);
}

TEST(CommandLine, ErrorsNameTheOption) {
  EXPECT_EQ(errorOf([] { cli({"--sip.prot=5060"}); }),
            "command line: unknown option '--sip.prot' (did you mean --sip.port?)");
  EXPECT_EQ(errorOf([] { cli({"--sip-port=5060"}); }),
            "command line: unknown option '--sip-port' (did you mean --sip.port?)");
  EXPECT_EQ(errorOf([] { cli({"--daemon"}); }),
            "command line: unknown option '--daemon' (see duplex --help for every key)");
  EXPECT_EQ(errorOf([] { cli({"--sip.port"}); }),
            "command line: sip.port: needs a value (--sip.port=VALUE)");
  EXPECT_EQ(errorOf([] { cli({"5060"}); }),
            "command line: unexpected argument '5060' (options are --key=value; see duplex "
            "--help)");
  EXPECT_THAT(errorOf([] { cli({"-v"}); }), HasSubstr("unexpected argument '-v'"));
}

TEST(ConfigDoc, HelpAndMarkdownListEveryKeyWithDefault) {
  const std::string help = helpText();
  const std::string doc = configDocMarkdown();
  EXPECT_THAT(doc, HasSubstr("| Key | Type | Default | Description |"));
  for (const auto& key : configSchema()) {
    EXPECT_THAT(help, HasSubstr("--" + std::string(key.name) + "=")) << key.name;
    EXPECT_THAT(doc, HasSubstr("| `" + std::string(key.name) + "` |")) << key.name;
  }
  EXPECT_THAT(doc, HasSubstr("| `sip.port` | port 0-65535 | `5060` |"));
  EXPECT_THAT(doc, HasSubstr("| `db.path` | path | `<data.dir>/duplex.db` |"));
  EXPECT_THAT(doc, HasSubstr("| `config` | path | *(none)* |"));
  EXPECT_THAT(help, HasSubstr("Exit codes: 0 stopped cleanly; 78 configuration error"));
}

}  // namespace
}  // namespace duplex::app
