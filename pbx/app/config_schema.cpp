// The schema table: every configuration key with its type, default, limits,
// documentation and how it sets the Config (config.h). Resolution and
// validation of values are in config.cpp.
#include <algorithm>
#include <utility>

#include "pbx/app/config.h"
#include "pbx/app/value_syntax.h"

namespace duplex::app {
namespace {

constexpr std::string_view kLevelNames[] = {"trace", "debug", "info", "warn", "error", "off"};

spdlog::level::level_enum levelFromName(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return spdlog::level::info;
}

template <std::size_t I>
void applyComponentLevel(Config& c, const ConfigValue& v) {
  c.log.component_levels[I] = levelFromName(v.text);
}

constexpr std::string_view kLimitModes[] = {"replace_oldest", "reject"};
constexpr std::string_view kCallRedirectModes[] = {"off", "internal"};
constexpr std::string_view kKeepAliveKinds[] = {"options", "crlf"};
constexpr std::string_view kDigestAlgorithmOrders[] = {"sha256,md5", "md5,sha256", "sha256", "md5"};

int toInt(const ConfigValue& v) {
  return static_cast<int>(v.number);
}

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kKiB = 1024;

#define DUPLEX_COMPONENT_LEVEL(I, NAME, WHAT)                                                 \
  KeySpec {                                                                                   \
    .name = "log.level." NAME, .type = ValueType::kEnum, .default_value = "<log.level>",      \
    .doc = "Log level of " WHAT ".", .choices = kLevelNames, .apply = applyComponentLevel<I>, \
  }

// The order matters: a default refers only to keys above it.
const KeySpec kSchema[] = {
    {.name = "config",
     .type = ValueType::kPath,
     .default_value = "",
     .doc = "Configuration file to read (`key = value` lines); command line only. No file by "
            "default.",
     .allow_empty = true,
     .command_line_only = true,
     .apply = [](Config& c, const ConfigValue& v) { c.config_file = v.text; }},
    {.name = "data.dir",
     .type = ValueType::kPath,
     .default_value = "./data",
     .doc = "Folder for the database and the log file; created if missing.",
     .apply = [](Config& c, const ConfigValue& v) { c.data_dir = v.text; }},
    {.name = "db.path",
     .type = ValueType::kPath,
     .default_value = "<data.dir>/duplex.db",
     .doc = "SQLite database file (WAL mode); created and migrated at start-up.",
     .apply = [](Config& c, const ConfigValue& v) { c.db_path = v.text; }},
    {.name = "sip.bind",
     .type = ValueType::kAddress,
     .default_value = "0.0.0.0",
     .doc = "Local address the SIP transports listen on (`0.0.0.0` = all IPv4 interfaces, `::` "
            "= all IPv6).",
     .apply = [](Config& c, const ConfigValue& v) { c.sip.bind = v.text; }},
    {.name = "sip.port",
     .type = ValueType::kPort,
     .default_value = "5060",
     .doc = "SIP port for UDP and TCP; 0 = any free port (tests).",
     .min = 0,
     .max = 65535,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.port = static_cast<std::uint16_t>(v.number); }},
    {.name = "sip.udp",
     .type = ValueType::kBool,
     .default_value = "true",
     .doc = "Listen for SIP over UDP.",
     .apply = [](Config& c, const ConfigValue& v) { c.sip.udp = v.flag; }},
    {.name = "sip.tcp",
     .type = ValueType::kBool,
     .default_value = "true",
     .doc = "Listen for SIP over TCP.",
     .apply = [](Config& c, const ConfigValue& v) { c.sip.tcp = v.flag; }},
    {.name = "sip.max_message_size",
     .type = ValueType::kSize,
     .default_value = "65535",
     .doc = "Largest SIP message accepted; bigger ones are rejected (513 on UDP, connection "
            "closed on TCP).",
     .min = kKiB,
     .max = kKiB * kKiB,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.max_message_size = static_cast<size_t>(v.number); }},
    {.name = "sip.tcp_idle_timeout",
     .type = ValueType::kDuration,
     .default_value = "600s",
     .doc = "Close a SIP TCP connection after this long without traffic (a bare number is "
            "seconds).",
     .min = kSecond,
     .max = kSecond * 3600 * 24,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.sip.tcp_idle_timeout = std::chrono::seconds(v.number / kSecond);
         }},
    {.name = "sip.tcp_max_connections",
     .type = ValueType::kInt,
     .default_value = "1024",
     .doc = "Most SIP TCP connections open at once; further ones are refused.",
     .min = 1,
     .max = 65535,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.tcp_max_connections = static_cast<int>(v.number); }},
    {.name = "sip.tcp_max_per_ip",
     .type = ValueType::kInt,
     .default_value = "32",
     .doc = "Most SIP TCP connections from one IP address.",
     .min = 1,
     .max = 65535,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.tcp_max_per_ip = static_cast<int>(v.number); }},
    {.name = "sip.t1",
     .type = ValueType::kDuration,
     .default_value = "500ms",
     .doc = "RFC 3261 timer T1, the round-trip estimate (a bare number is ms).",
     .min = 10,
     .max = 10 * kSecond,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.t1 = std::chrono::milliseconds(v.number); }},
    {.name = "sip.t2",
     .type = ValueType::kDuration,
     .default_value = "4s",
     .doc = "RFC 3261 timer T2, the longest retransmit interval for non-INVITE requests and "
            "INVITE responses.",
     .min = 100,
     .max = 60 * kSecond,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.t2 = std::chrono::milliseconds(v.number); }},
    {.name = "sip.t4",
     .type = ValueType::kDuration,
     .default_value = "5s",
     .doc = "RFC 3261 timer T4, the longest time a message stays in the network.",
     .min = 100,
     .max = 60 * kSecond,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.t4 = std::chrono::milliseconds(v.number); }},
    {.name = "sip.trace",
     .type = ValueType::kBool,
     .default_value = "false",
     .doc = "Log every SIP message sent and received (logger `sip.trace`); SIGUSR2 toggles it "
            "at run time.",
     .apply = [](Config& c, const ConfigValue& v) { c.sip.trace = v.flag; }},
    {.name = "sip.user_agent",
     .type = ValueType::kString,
     .default_value = "Duplex PBX " DUPLEX_VERSION,
     .doc = "Text of the User-Agent and Server headers; empty = send none.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.user_agent = v.text; }},
    {.name = "admin.bind",
     .type = ValueType::kAddress,
     .default_value = "127.0.0.1",
     .doc = "Local address of the admin HTTP API; keep it on loopback unless a firewall "
            "protects it.",
     .apply = [](Config& c, const ConfigValue& v) { c.admin.bind = v.text; }},
    {.name = "admin.port",
     .type = ValueType::kPort,
     .default_value = "8080",
     .doc = "Port of the admin HTTP API; 0 = any free port (tests).",
     .min = 0,
     .max = 65535,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.admin.port = static_cast<std::uint16_t>(v.number); }},
    {.name = "admin.threads",
     .type = ValueType::kInt,
     .default_value = "2",
     .doc = "Worker threads of the admin HTTP server.",
     .min = 1,
     .max = 16,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.admin.threads = static_cast<int>(v.number); }},
    {.name = "admin.https",
     .type = ValueType::kBool,
     .default_value = "false",
     .doc = "Serve the admin API and page over HTTPS (TLS 1.2+) with admin.cert/admin.key; a "
            "self-signed certificate is generated there at first start.",
     .apply = [](Config& c, const ConfigValue& v) { c.admin.https = v.flag; }},
    {.name = "admin.cert",
     .type = ValueType::kPath,
     .default_value = "<data.dir>/admin-cert.pem",
     .doc = "TLS certificate (PEM) of the admin HTTPS server; replace it with your own.",
     .apply = [](Config& c, const ConfigValue& v) { c.admin.cert_file = v.text; }},
    {.name = "admin.key",
     .type = ValueType::kPath,
     .default_value = "<data.dir>/admin-key.pem",
     .doc = "Private key (PEM) of admin.cert.",
     .apply = [](Config& c, const ConfigValue& v) { c.admin.key_file = v.text; }},
    {.name = "admin.session_lifetime",
     .type = ValueType::kDuration,
     .default_value = "12h",
     .doc = "How long a login's bearer token stays valid.",
     .min = 60 * kSecond,
     .max = kSecond * 3600 * 720,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.admin.session_lifetime = std::chrono::seconds(v.number / kSecond);
         }},
    {.name = "admin.reset_password",
     .type = ValueType::kBool,
     .default_value = "false",
     .doc = "Generate a new admin password at start (printed once and written to "
            "`<data.dir>/admin-password.txt`, mode 0600) and end every session.",
     .apply = [](Config& c, const ConfigValue& v) { c.admin.reset_password = v.flag; }},
    {.name = "log.level",
     .type = ValueType::kEnum,
     .default_value = "info",
     .doc = "Log level of every component without a `log.level.<component>` of its own.",
     .choices = kLevelNames,
     .apply = [](Config& c, const ConfigValue& v) { c.log.level = levelFromName(v.text); }},
    DUPLEX_COMPONENT_LEVEL(0, "sip", "the SIP transports, transactions and dialogs"),
    DUPLEX_COMPONENT_LEVEL(1, "db", "the database"),
    DUPLEX_COMPONENT_LEVEL(2, "admin", "the admin HTTP API"),
    DUPLEX_COMPONENT_LEVEL(3, "registrar", "the registrar"),
    DUPLEX_COMPONENT_LEVEL(4, "media", "the media relay"),
    DUPLEX_COMPONENT_LEVEL(5, "nat", "NAT traversal (UPnP, STUN, DynDNS)"),
    DUPLEX_COMPONENT_LEVEL(6, "app", "the daemon itself (start-up, shutdown)"),
    {.name = "log.file",
     .type = ValueType::kPath,
     .default_value = "<data.dir>/duplex.log",
     .doc = "Log file, rotated by size; empty = log to the console only.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.log.file = v.text; }},
    {.name = "log.file_max_size",
     .type = ValueType::kSize,
     .default_value = "10M",
     .doc = "Size at which the log file is rotated.",
     .min = 64 * kKiB,
     .max = kKiB * kKiB * kKiB,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.log.file_max_size = static_cast<size_t>(v.number); }},
    {.name = "log.file_count",
     .type = ValueType::kInt,
     .default_value = "5",
     .doc = "Rotated log files kept besides the current one.",
     .min = 1,
     .max = 100,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.log.file_count = static_cast<int>(v.number); }},
    {.name = "main_address",
     .type = ValueType::kHost,
     .default_value = "",
     .doc = "The PBX's public hostname or IP, advertised to peers outside `local_networks`; "
            "empty = discover it.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.network.main_address = v.text; }},
    {.name = "additional_addresses",
     .type = ValueType::kHostList,
     .default_value = "",
     .doc = "Other hostnames or IPs under which peers reach the PBX (comma-separated).",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.network.additional_addresses = v.items; }},
    {.name = "local_networks",
     .type = ValueType::kCidrList,
     .default_value = "127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, ::1/128, fc00::/7",
     .doc = "Networks whose peers are on the LAN and get the LAN address (comma-separated CIDR).",
     .allow_empty = true,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.network.local_networks.clear();
           for (const auto& item : v.items) {
             std::string why;
             c.network.local_networks.push_back(*parseCidr(item, why));
           }
         }},
    // NAT traversal (nat/): UPnP, STUN, polling, DynDNS; the RTP range to map.
    {.name = "nat.upnp",
     .type = ValueType::kBool,
     .default_value = "on",
     .doc = "Open the SIP and RTP ports on the router by UPnP (and remove them at shutdown).",
     .apply = [](Config& c, const ConfigValue& v) { c.nat.upnp = v.flag; }},
    {.name = "nat.upnp_budget",
     .type = ValueType::kInt,
     .default_value = "24",
     .doc = "Most UPnP mappings the PBX keeps on the router; an RTP range that does not fit is "
            "mapped per call.",
     .min = 1,
     .max = 1000,
     .apply = [](Config& c, const ConfigValue& v) { c.nat.upnp_budget = toInt(v); }},
    {.name = "nat.upnp_lease",
     .type = ValueType::kDuration,
     .default_value = "3600s",
     .doc = "Lease of each UPnP mapping, renewed at half-life (a bare number is seconds).",
     .min = 60 * kSecond,
     .max = kSecond * 3600 * 24 * 7,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.nat.upnp_lease = std::chrono::seconds(v.number / kSecond);
         }},
    {.name = "nat.upnp_interface",
     .type = ValueType::kString,
     .default_value = "",
     .doc = "LAN interface name or address to look for the router on; empty = the default one.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.nat.upnp_interface = v.text; }},
    {.name = "nat.stun_servers",
     .type = ValueType::kString,
     .default_value = "",
     .doc = "STUN servers (`host` or `host:port`, comma-separated) that tell the public address "
            "and NAT type; empty = none, so an offline office never waits on the internet.",
     .allow_empty = true,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.nat.stun_servers.clear();
           std::string item;
           for (const char ch : v.text + ",") {
             if (ch != ',') {
               if (ch != ' ') item += ch;
               continue;
             }
             if (!item.empty()) c.nat.stun_servers.push_back(item);
             item.clear();
           }
         }},
    {.name = "nat.poll_interval",
     .type = ValueType::kDuration,
     .default_value = "60s",
     .doc = "How often the public address is checked (router, STUN, DNS) and the mappings "
            "verified (a bare number is seconds).",
     .min = 5 * kSecond,
     .max = kSecond * 3600,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.nat.poll_interval = std::chrono::seconds(v.number / kSecond);
         }},
    {.name = "media.rtp_port_min",
     .type = ValueType::kPort,
     .default_value = "10000",
     .doc = "Lowest UDP port of the RTP relay range (mapped on the router by UPnP).",
     .min = 1024,
     .max = 65535,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.nat.rtp_port_min = static_cast<std::uint16_t>(v.number);
         }},
    {.name = "media.rtp_port_max",
     .type = ValueType::kPort,
     .default_value = "20000",
     .doc = "Highest UDP port of the RTP relay range.",
     .min = 1024,
     .max = 65535,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.nat.rtp_port_max = static_cast<std::uint16_t>(v.number);
         }},
    {.name = "dyndns.provider",
     .type = ValueType::kString,
     .default_value = "",
     .doc = "DynDNS update service: `dyndns`, `noip`, or the dyndns2 update URL "
            "(https://.../nic/update); empty = no DynDNS updates.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.nat.dyndns_provider = v.text; }},
    {.name = "dyndns.hostname",
     .type = ValueType::kHost,
     .default_value = "",
     .doc = "The DynDNS host name kept pointing at the public address.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.nat.dyndns_hostname = v.text; }},
    {.name = "dyndns.user",
     .type = ValueType::kString,
     .default_value = "",
     .doc = "DynDNS account user name.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.nat.dyndns_user = v.text; }},
    {.name = "dyndns.password",
     .type = ValueType::kString,
     .default_value = "",
     .doc = "DynDNS account password (or update token).",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.nat.dyndns_password = v.text; }},
    {.name = "dyndns.min_interval",
     .type = ValueType::kDuration,
     .default_value = "600s",
     .doc = "Least time between two DynDNS updates (a bare number is seconds).",
     .min = 60 * kSecond,
     .max = kSecond * 3600 * 24,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.nat.dyndns_min_interval = std::chrono::seconds(v.number / kSecond);
         }},
    // Media relay (media/relay.h). media.rtp_port_min/max sit with the NAT keys.
    {.name = "media.bind",
     .type = ValueType::kAddress,
     .default_value = "0.0.0.0",
     .doc = "Local address the RTP relay sockets bind to (`0.0.0.0` = all IPv4 interfaces).",
     .apply = [](Config& c, const ConfigValue& v) { c.media.bind = v.text; }},
    {.name = "media.learning_window",
     .type = ValueType::kDuration,
     .default_value = "2s",
     .doc = "How long after its first packet a call leg may still latch to a better media "
            "source; then it is locked (a bare number is seconds).",
     .min = 100,
     .max = 60 * kSecond,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.media.learning_window = std::chrono::milliseconds(v.number);
         }},
    {.name = "media.keepalive_interval",
     .type = ValueType::kDuration,
     .default_value = "15s",
     .doc = "Send an RTP keep-alive to a call leg that got no packet for this long (hold, "
            "silence), so its NAT binding stays open (a bare number is seconds).",
     .min = kSecond,
     .max = 3600 * kSecond,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.media.keepalive_interval = std::chrono::milliseconds(v.number);
         }},
    {.name = "media.timeout",
     .type = ValueType::kDuration,
     .default_value = "60s",
     .doc = "End an answered call when no RTP came from either side for this long (never "
            "during hold; a bare number is seconds).",
     .min = 5 * kSecond,
     .max = 24 * 3600 * kSecond,
     .unit = DurationUnit::kSeconds,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.media.timeout = std::chrono::milliseconds(v.number); }},
    {.name = "media.one_way_after",
     .type = ValueType::kDuration,
     .default_value = "5s",
     .doc = "After answer, diagnose one-way audio when one side sent media and the other none "
            "for this long (a bare number is seconds).",
     .min = kSecond,
     .max = 600 * kSecond,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.media.one_way_after = std::chrono::milliseconds(v.number);
         }},
    {.name = "media.realtime_priority",
     .type = ValueType::kInt,
     .default_value = "10",
     .doc = "Real-time (SCHED_FIFO) priority of the media relay thread, so that other tasks "
            "on the machine cannot delay audio by milliseconds; 0 = normal priority. Needs "
            "root or an RTPRIO limit (the package's unit sets LimitRTPRIO=10); without it the "
            "relay runs at normal priority and says so at start. Dropped by itself while the "
            "relay is overloaded.",
     .min = 0,
     .max = 99,
     .apply = [](Config& c, const ConfigValue& v) { c.media.realtime_priority = toInt(v); }},
    // Seconds throughout (RFC 3261 10.2.1.1 Expires, RFC 3261 20.23 Min-Expires).
    {.name = "registrar.realm",
     .type = ValueType::kHost,
     .default_value = "<main_address>",
     .doc = "Digest realm (RFC 7616 3.3) of the HA1s; empty = this machine's hostname.",
     .allow_empty = true,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.realm = v.text; }},
    {.name = "registrar.min_expires",
     .type = ValueType::kInt,
     .default_value = "60",
     .doc = "Shortest registration granted, seconds; shorter non-zero requests get 423.",
     .min = 1,
     .max = 86400,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.min_expires = toInt(v); }},
    {.name = "registrar.max_expires",
     .type = ValueType::kInt,
     .default_value = "3600",
     .doc = "Longest registration granted, seconds (also the default).",
     .min = 1,
     .max = 86400,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.max_expires = toInt(v); }},
    {.name = "registrar.max_contacts",
     .type = ValueType::kInt,
     .default_value = "5",
     .doc = "Bindings (phones) per extension at once.",
     .min = 1,
     .max = 100,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.max_contacts = toInt(v); }},
    {.name = "registrar.contact_limit_mode",
     .type = ValueType::kEnum,
     .default_value = "replace_oldest",
     .doc = "Past registrar.max_contacts: drop the oldest binding, or reject with 403.",
     .choices = kLimitModes,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.registrar.reject_over_limit = v.text == "reject"; }},
    {.name = "registrar.keepalive_interval",
     .type = ValueType::kInt,
     .default_value = "25",
     .doc = "Seconds between keep-alives to phones behind NAT (well inside a NAT's 30 s).",
     .min = 5,
     .max = 3600,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.registrar.keepalive_interval = toInt(v); }},
    {.name = "registrar.keepalive_kind",
     .type = ValueType::kEnum,
     .default_value = "options",
     .doc = "Keep-alive sent: an OPTIONS request (answered), or a CRLF ping (RFC 5626 4.4.1).",
     .choices = kKeepAliveKinds,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.registrar.keepalive_crlf = v.text == "crlf"; }},
    {.name = "registrar.keepalive_failures",
     .type = ValueType::kInt,
     .default_value = "3",
     .doc = "Unanswered OPTIONS keep-alives in a row that remove a binding.",
     .min = 1,
     .max = 100,
     .apply = [](Config& c,
                 const ConfigValue& v) { c.sip.registrar.keepalive_failures = toInt(v); }},
    {.name = "registrar.nat_max_expires",
     .type = ValueType::kInt,
     .default_value = "0",
     .doc = "Cap on the registration of phones behind NAT, seconds; 0 = off.",
     .min = 0,
     .max = 86400,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.nat_max_expires = toInt(v); }},
    {.name = "call.no_answer_timeout",
     .type = ValueType::kDuration,
     .default_value = "25s",
     .doc = "Ringing time after which an unanswered call without a no-answer forward gets "
            "480 (a bare number is seconds).",
     .min = kSecond,
     .max = 600 * kSecond,
     .unit = DurationUnit::kSeconds,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.sip.call.no_answer_timeout = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::milliseconds(v.number));
         }},
    {.name = "call.follow_redirects",
     .type = ValueType::kEnum,
     .default_value = "off",
     .doc = "3xx answers of a called phone: off = never followed (toll-fraud risk), internal "
            "= followed to internal extensions only.",
     .choices = kCallRedirectModes,
     .apply =
         [](Config& c, const ConfigValue& v) {
           c.sip.call.follow_redirects_internal = v.text == "internal";
         }},
    {.name = "call.max_forwards",
     .type = ValueType::kInt,
     .default_value = "70",
     .doc = "Highest Max-Forwards on the legs the PBX places (the caller's value minus one, "
            "at most this).",
     .min = 1,
     .max = 255,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.call.max_forwards = toInt(v); }},
    {.name = "auth.nonce_lifetime",
     .type = ValueType::kInt,
     .default_value = "300",
     .doc = "Seconds a digest nonce stays valid; older ones get stale=true (RFC 7616 3.3).",
     .min = 10,
     .max = 86400,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.nonce_lifetime = toInt(v); }},
    {.name = "auth.algorithms",
     .type = ValueType::kEnum,
     .default_value = "sha256,md5",
     .doc = "Digest algorithms offered, preferred first (one WWW-Authenticate each). Phones "
            "that answer only the first challenge and know only MD5 (sipp, old firmware) "
            "need md5,sha256.",
     .choices = kDigestAlgorithmOrders,
     .apply = [](Config& c, const ConfigValue& v) { c.sip.registrar.digest_algorithms = v.text; }},
};

#undef DUPLEX_COMPONENT_LEVEL

}  // namespace

std::span<const KeySpec> configSchema() {
  return kSchema;
}

}  // namespace duplex::app
