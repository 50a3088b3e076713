// The daemon's configuration: one schema table of every key (type, default,
// one-line doc), the `key = value` file format, `--key=value` overrides on the
// command line, and the resolved, immutable Config the components are built
// from.
//
// Precedence: built-in default < config file (--config=PATH) < command line.
// A default may refer to another key's resolved value as `<key>` (db.path
// defaults to `<data.dir>/duplex.db`).
//
// For: main() and DuplexApp, once at start-up, on the main thread.
// Errors: every function here throws ConfigError; its message names where the
// value came from (`duplex.conf:12`, `command line`), the key and the accepted
// values, e.g. "duplex.conf:12: sip.port: 'abc' is not a port (0-65535)".
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/common.h>

namespace duplex::app {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The components that have a logger and a log level of their own.
inline constexpr std::array<std::string_view, 7> kLogComponents = {
    "sip", "db", "admin", "registrar", "media", "nat", "app"};

// An IP network in CIDR notation, host bits zero (validated).
struct Cidr {
  std::string address;  // "192.168.0.0", "fc00::"
  unsigned prefix = 0;  // 0-32 or 0-128
  std::string toString() const;
  bool operator==(const Cidr&) const = default;
};

// The registrar and digest authentication (registrar/registrar.h,
// registrar/digest_authenticator.h); served on the SIP loop.
struct RegistrarSettings {
  std::string realm;  // digest realm; "" = this machine's hostname
  int min_expires = 60;
  int max_expires = 3600;
  int max_contacts = 5;
  bool reject_over_limit = false;  // contact_limit_mode = reject
  int keepalive_interval = 25;     // seconds
  bool keepalive_crlf = false;     // keepalive_kind = crlf
  int keepalive_failures = 3;
  int nat_max_expires = 0;  // 0 = off
  int nonce_lifetime = 300;
  std::string digest_algorithms = "sha256,md5";  // auth.algorithms, preferred first
};

// Call control (pbx/call/b2bua.h): the call.* keys.
struct CallConfig {
  std::chrono::seconds no_answer_timeout{25};  // 480 after this when no forward applies
  bool follow_redirects_internal = false;      // call.follow_redirects = internal
  int max_forwards = 70;                       // cap on Max-Forwards of the callee legs
};

struct SipConfig {
  std::string bind;        // IP literal; "0.0.0.0" = all IPv4 interfaces
  std::uint16_t port = 0;  // 0 = any free port (tests)
  bool udp = false;
  bool tcp = false;
  std::size_t max_message_size = 0;  // bytes
  std::chrono::seconds tcp_idle_timeout{};
  int tcp_max_connections = 0;
  int tcp_max_per_ip = 0;
  std::chrono::milliseconds t1{};  // RFC 3261 17.1.1.1: RTT estimate
  std::chrono::milliseconds t2{};  // RFC 3261 17.1.2.2: max non-INVITE retransmit interval
  std::chrono::milliseconds t4{};  // RFC 3261 17.1.2.2: max time a message stays in the network
  bool trace = false;              // initial state of SIP message tracing
  std::string user_agent;          // User-Agent / Server header text; "" = none
  RegistrarSettings registrar;
  CallConfig call;
};

// The media relay (media/relay.h; pbx/app/media_subsystem.h). The RTP port
// range (media.rtp_port_min/max) is shared with the UPnP mapper (NatConfig).
struct MediaConfig {
  std::string bind = "0.0.0.0";  // local IP of the RTP sockets
  std::uint16_t rtp_port_min = 10000;
  std::uint16_t rtp_port_max = 20000;
  std::chrono::milliseconds learning_window{2000};
  std::chrono::milliseconds keepalive_interval{15000};
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds one_way_after{5000};
  int realtime_priority = 10;  // SCHED_FIFO of the relay thread; 0 = normal
};

struct AdminConfig {
  std::string bind;  // IP literal
  std::uint16_t port = 0;
  int threads = 0;
  bool https = false;
  std::string cert_file;  // PEM; generated self-signed at first start if missing
  std::string key_file;   // PEM
  std::chrono::seconds session_lifetime{0};
  bool reset_password = false;  // --admin.reset_password: new generated password at start
};

struct LogConfig {
  spdlog::level::level_enum level = spdlog::level::info;
  std::array<spdlog::level::level_enum, kLogComponents.size()> component_levels{};
  std::string file;  // "" = no log file
  std::size_t file_max_size = 0;
  int file_count = 0;

  // The level of a component in kLogComponents; `level` for any other name.
  spdlog::level::level_enum levelFor(std::string_view component) const;
};

// Addresses the PBX advertises and the networks it treats as LAN (used by the
// NAT and call-control issues; validated now).
struct NetworkConfig {
  std::string main_address;                       // hostname or IP; "" = not set
  std::vector<std::string> additional_addresses;  // hostnames or IPs
  std::vector<Cidr> local_networks;
};

// NAT traversal (nat/nat_service.h): UPnP, STUN, public-address polling,
// DynDNS, and the RTP port range the UPnP mapper maps (media.rtp_port_min/max,
// the same range the media relay allocates from).
struct NatConfig {
  bool upnp = true;
  int upnp_budget = 24;
  std::chrono::seconds upnp_lease{3600};
  std::string upnp_interface;             // LAN interface name or address; "" = default
  std::vector<std::string> stun_servers;  // "host" or "host:port"
  std::chrono::seconds poll_interval{60};
  std::uint16_t rtp_port_min = 10000;  // media.rtp_port_min
  std::uint16_t rtp_port_max = 20000;  // media.rtp_port_max
  std::string dyndns_provider;         // "dyndns", "noip" or an http(s) URL; "" = off
  std::string dyndns_hostname;
  std::string dyndns_user;
  std::string dyndns_password;
  std::chrono::seconds dyndns_min_interval{600};
};

// One key's effective value and where it came from, for the start-up log
// and (later) the admin API.
struct ResolvedKey {
  std::string key;
  std::string value;   // normalized text
  std::string origin;  // "default", "duplex.conf:12", "command line"
};

// The resolved configuration. Built once by resolveConfig(); treat as const.
struct Config {
  std::string config_file;  // "" when none was given
  std::string data_dir;
  std::string db_path;
  SipConfig sip;
  MediaConfig media;
  AdminConfig admin;
  LogConfig log;
  NetworkConfig network;
  NatConfig nat;
  std::vector<ResolvedKey> resolved;  // every key, in schema order
};

enum class ValueType {
  kString,    // free text without control characters
  kPath,      // a file or directory name
  kInt,       // decimal integer within [min, max]
  kBool,      // true/false, yes/no, on/off, 1/0
  kEnum,      // one of `choices`
  kPort,      // 0-65535
  kAddress,   // IPv4 or IPv6 literal (for binding)
  kHost,      // hostname or IP literal; "" allowed (not set)
  kDuration,  // number with unit ms/s/m/h; a bare number is in `unit`
  kSize,      // bytes, with optional unit K/M/G (powers of 1024)
  kHostList,  // comma-separated hostnames or IP literals
  kCidrList,  // comma-separated CIDR networks
};

// A validated value, in the form its type needs.
struct ConfigValue {
  std::string text;                // normalized text; what `<key>` references expand to
  std::int64_t number = 0;         // kInt, kPort, kDuration (ms), kSize (bytes)
  bool flag = false;               // kBool
  std::vector<std::string> items;  // kHostList, kCidrList
};

enum class DurationUnit { kMilliseconds, kSeconds };

struct KeySpec {
  std::string_view name;
  ValueType type = ValueType::kString;
  std::string_view default_value;  // as written in a file; may contain `<key>`
  std::string_view doc;
  std::int64_t min = 0;  // kInt; kDuration in ms; kSize in bytes
  std::int64_t max = 0;
  std::span<const std::string_view> choices = {};   // kEnum
  DurationUnit unit = DurationUnit::kMilliseconds;  // kDuration: unit of a bare number
  bool allow_empty = false;                         // kPath, kHost, kString: "" is a valid value
  bool command_line_only = false;
  void (*apply)(Config&, const ConfigValue&) = nullptr;
};

// Every key, in resolution order (a key's default refers only to earlier keys).
std::span<const KeySpec> configSchema();
const KeySpec* findKey(std::string_view name);

// "did you mean sip.port?" for a mistyped key, or "" when nothing is close.
std::string suggestKey(std::string_view unknown);

// Checks one raw value against its key; throws ConfigError "<origin>: <key>: <why>".
ConfigValue parseValue(const KeySpec& key, std::string_view raw, std::string_view origin);

// A raw value and where it came from ("duplex.conf:12", "command line").
struct RawValue {
  std::string value;
  std::string origin;
};
using RawValues = std::map<std::string, RawValue, std::less<>>;

// Parses the `key = value` file format: one key per line, `#` starts a comment
// line, blank lines are ignored, a value may be double-quoted (to keep
// surrounding blanks or write ""). Unknown keys, duplicate keys and lines that
// are not `key = value` are errors naming `file_name:line`.
RawValues parseConfigText(std::string_view text, std::string_view file_name);
RawValues readConfigFile(const std::string& path);

// What the command line asks for.
struct CommandLine {
  enum class Action { kRun, kHelp, kVersion, kPrintConfigDoc };
  Action action = Action::kRun;
  RawValues overrides;  // --key=value (including --config); the last one wins
};

// Arguments after argv[0]. Accepts --key=value for every schema key, --key for
// a bool key (= true), --help/-h, --version, --print-config-doc.
CommandLine parseCommandLine(std::span<const std::string> args);

// Defaults < file < overrides; validates every value and the cross-key rules.
Config resolveConfig(const RawValues& file, const RawValues& overrides);
// Same, reading the file named by overrides["config"] when there is one.
Config resolveConfig(const RawValues& overrides);

// The text of --help: usage, every key with its default and doc, exit codes.
std::string helpText();
// A Markdown table of every key, its type, default and doc (--print-config-doc).
std::string configDocMarkdown();

// "Duplex PBX 0.1.0"
std::string_view productName();

}  // namespace duplex::app
