// The schema table and the resolution of raw values into a Config.
#include "pbx/app/config.h"

#include <algorithm>
#include <cctype>
#include <utility>

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

// "" when `server` is `host` or `host:port` (IPv6 as `[addr]:port`), else why not.
std::string stunServerProblem(std::string_view server) {
  std::string_view host = server;
  std::string_view port;
  if (!server.empty() && server.front() == '[') {
    const std::size_t close = server.find(']');
    if (close == std::string_view::npos) return "has no closing ']'";
    host = server.substr(1, close - 1);
    if (close + 1 < server.size()) {
      if (server[close + 1] != ':') return "has text after ']'";
      port = server.substr(close + 2);
    }
    if (!isIpv6Literal(host)) return "is not an IPv6 address in brackets";
  } else {
    if (const std::size_t colon = server.rfind(':'); colon != std::string_view::npos) {
      host = server.substr(0, colon);
      port = server.substr(colon + 1);
    }
    if (!isIpLiteral(host) && !isHostname(host)) return "is not a hostname or IP address";
  }
  if (!port.empty() || server.back() == ':') {
    const auto n = parseInteger(port);
    if (!n || *n < 1 || *n > 65535) return "has a port outside 1-65535";
  }
  return {};
}

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

std::string rangeText(const KeySpec& key) {
  switch (key.type) {
    case ValueType::kDuration:
      return formatDuration(key.min) + "-" + formatDuration(key.max);
    case ValueType::kSize:
      return formatSize(key.min) + "-" + formatSize(key.max);
    default:
      return std::to_string(key.min) + "-" + std::to_string(key.max);
  }
}

std::string joinChoices(std::span<const std::string_view> choices) {
  std::string out;
  for (auto choice : choices) {
    if (!out.empty()) out += ", ";
    out += choice;
  }
  return out;
}

bool hasControlCharacter(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

std::vector<std::string> splitList(std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto item =
        trim(text.substr(start, comma == std::string_view::npos ? text.npos : comma - start));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

std::string joinList(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// Replaces `<key>` by the resolved text of that key.
std::string expandDefault(std::string_view text, const std::map<std::string, std::string>& done) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find('<', i);
    const auto close = open == text.npos ? text.npos : text.find('>', open);
    if (close == text.npos) {
      out += text.substr(i);
      break;
    }
    out += text.substr(i, open - i);
    const auto it = done.find(std::string(text.substr(open + 1, close - open - 1)));
    std::string value = it == done.end() ? std::string() : it->second;
    // "<data.dir>/x" with data.dir "/var/lib/duplex/" must not give "//x".
    if (!value.empty() && value.back() == '/' && close + 1 < text.size() && text[close + 1] == '/')
      value.pop_back();
    out += value;
    i = close + 1;
  }
  return out;
}

}  // namespace

std::span<const KeySpec> configSchema() {
  return kSchema;
}

const KeySpec* findKey(std::string_view name) {
  for (const auto& key : kSchema) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string suggestKey(std::string_view unknown) {
  const KeySpec* best = nullptr;
  std::size_t best_distance = 0;
  for (const auto& key : kSchema) {
    const auto d = editDistance(unknown, key.name);
    if (!best || d < best_distance) {
      best = &key;
      best_distance = d;
    }
  }
  const std::size_t limit = unknown.size() > 10 ? 3 : 2;
  if (best && best_distance <= limit) return std::string(best->name);
  return {};
}

spdlog::level::level_enum LogConfig::levelFor(std::string_view component) const {
  for (std::size_t i = 0; i < kLogComponents.size(); ++i) {
    if (kLogComponents[i] == component) return component_levels[i];
  }
  return level;
}

ConfigValue parseValue(const KeySpec& key, std::string_view raw, std::string_view origin) {
  // Text is kept as given (a quoted value in a file keeps its blanks); other
  // types ignore surrounding blanks.
  const std::string_view text = key.type == ValueType::kString ? raw : trim(raw);
  const auto fail = [&](const std::string& why) -> ConfigError {
    return ConfigError(std::string(origin) + ": " + std::string(key.name) + ": " + why);
  };
  const std::string quoted = std::string("'").append(text).append("'");
  ConfigValue value;
  value.text = text;
  if (text.empty() && !key.allow_empty && key.type != ValueType::kBool) {
    throw fail("a value is required (" +
               std::string(key.type == ValueType::kEnum ? "one of: " + joinChoices(key.choices)
                                                        : "it cannot be empty") +
               ")");
  }
  if (hasControlCharacter(text)) throw fail("the value contains a control character");
  switch (key.type) {
    case ValueType::kString:
    case ValueType::kPath:
      break;
    case ValueType::kInt: {
      const auto n = parseInteger(text);
      if (!n) throw fail(quoted + " is not an integer (" + rangeText(key) + ")");
      if (*n < key.min || *n > key.max)
        throw fail(quoted + " is out of range (" + rangeText(key) + ")");
      value.number = *n;
      break;
    }
    case ValueType::kPort: {
      const auto n = parseInteger(text);
      if (!n || *n < 0 || *n > 65535) throw fail(quoted + " is not a port (0-65535)");
      value.number = *n;
      break;
    }
    case ValueType::kBool: {
      std::string lower(text);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower == "true" || lower == "yes" || lower == "on" || lower == "1") {
        value.flag = true;
      } else if (lower == "false" || lower == "no" || lower == "off" || lower == "0") {
        value.flag = false;
      } else {
        throw fail(quoted + " is not a boolean (true/false, yes/no, on/off, 1/0)");
      }
      value.text = value.flag ? "true" : "false";
      break;
    }
    case ValueType::kEnum: {
      // Case-insensitive: "INFO" is as clear as "info".
      const auto it = std::find_if(key.choices.begin(), key.choices.end(),
                                   [&](auto choice) { return editDistance(choice, text) == 0; });
      if (it == key.choices.end())
        throw fail(quoted + " is not one of: " + joinChoices(key.choices));
      value.text = *it;
      break;
    }
    case ValueType::kAddress:
      if (!isIpLiteral(text))
        throw fail(quoted +
                   " is not an IP address (an IPv4 or IPv6 literal such as 0.0.0.0 or ::)");
      break;
    case ValueType::kHost:
      if (!text.empty() && !isIpLiteral(text) && !isHostname(text))
        throw fail(quoted + " is not a hostname or IP address (e.g. pbx.example.com, 203.0.113.7)");
      break;
    case ValueType::kDuration: {
      const auto ms = parseDurationMs(text, key.unit);
      const std::string range = " (" + rangeText(key) + "; units ms, s, m, h; a bare number is " +
                                (key.unit == DurationUnit::kSeconds ? "seconds" : "ms") + ")";
      if (!ms) throw fail(quoted + " is not a duration" + range);
      if (*ms < key.min || *ms > key.max) throw fail(quoted + " is out of range" + range);
      value.number = *ms;
      value.text = formatDuration(*ms);
      break;
    }
    case ValueType::kSize: {
      const auto bytes = parseSize(text);
      const std::string range = " (" + rangeText(key) + "; bytes, or with a unit K, M, G)";
      if (!bytes) throw fail(quoted + " is not a size" + range);
      if (*bytes < key.min || *bytes > key.max) throw fail(quoted + " is out of range" + range);
      value.number = *bytes;
      value.text = formatSize(*bytes);
      break;
    }
    case ValueType::kHostList:
      value.items = splitList(text);
      for (const auto& item : value.items) {
        if (!isIpLiteral(item) && !isHostname(item))
          throw fail("'" + item +
                     "' is not a hostname or IP address (a comma-separated list of "
                     "hostnames and IPs)");
      }
      value.text = joinList(value.items);
      break;
    case ValueType::kCidrList:
      value.items = splitList(text);
      for (auto& item : value.items) {
        std::string why;
        const auto cidr = parseCidr(item, why);
        if (!cidr)
          throw fail(std::string("'")
                         .append(item)
                         .append("' is not a CIDR network: ")
                         .append(why)
                         .append(" (a comma-separated list such as 192.168.0.0/16, fc00::/7)"));
        item = cidr->toString();
      }
      value.text = joinList(value.items);
      break;
  }
  return value;
}

Config resolveConfig(const RawValues& file, const RawValues& overrides) {
  // A broken file is reported even where the command line overrides a value.
  for (const auto& [name, raw] : file) {
    if (const KeySpec* key = findKey(name)) (void)parseValue(*key, raw.value, raw.origin);
  }
  Config config;
  std::map<std::string, std::string> done;
  for (const auto& key : kSchema) {
    const std::string name(key.name);
    std::string text;
    std::string origin = "default";
    if (auto it = overrides.find(name); it != overrides.end()) {
      text = it->second.value;
      origin = it->second.origin;
    } else if (auto f = file.find(name); f != file.end()) {
      text = f->second.value;
      origin = f->second.origin;
    } else {
      text = expandDefault(key.default_value, done);
    }
    ConfigValue value = parseValue(key, text, origin);
    key.apply(config, value);
    done[name] = value.text;
    config.resolved.push_back({name, value.text, origin});
  }
  const auto originOf = [&](std::string_view name) {
    for (const auto& r : config.resolved) {
      if (r.key == name) return r.origin;
    }
    return std::string("default");
  };
  if (!config.sip.udp && !config.sip.tcp) {
    throw ConfigError(originOf("sip.udp") +
                      ": sip.udp, sip.tcp: both are false (at least one "
                      "SIP transport must be true)");
  }
  if (config.sip.t1 > config.sip.t2) {
    throw ConfigError(originOf("sip.t1") + ": sip.t1: " + formatDuration(config.sip.t1.count()) +
                      " is longer than sip.t2 (" + formatDuration(config.sip.t2.count()) +
                      "); T1 must not exceed T2 (RFC 3261 17.1.2.2)");
  }
  if (config.sip.tcp_max_per_ip > config.sip.tcp_max_connections) {
    throw ConfigError(originOf("sip.tcp_max_per_ip") +
                      ": sip.tcp_max_per_ip: " + std::to_string(config.sip.tcp_max_per_ip) +
                      " is more than sip.tcp_max_connections (" +
                      std::to_string(config.sip.tcp_max_connections) + ")");
  }
  const RegistrarSettings& r = config.sip.registrar;
  if (r.min_expires > r.max_expires) {
    throw ConfigError(originOf("registrar.min_expires") + ": registrar.min_expires: " +
                      std::to_string(r.min_expires) + " is more than registrar.max_expires (" +
                      std::to_string(r.max_expires) + ")");
  }
  if (r.nat_max_expires != 0 &&
      (r.nat_max_expires < r.min_expires || r.nat_max_expires > r.max_expires)) {
    throw ConfigError(originOf("registrar.nat_max_expires") +
                      ": registrar.nat_max_expires: " + std::to_string(r.nat_max_expires) +
                      " is outside registrar.min_expires..registrar.max_expires (0 = off)");
  }
  for (const std::string& server : config.nat.stun_servers) {
    if (const std::string why = stunServerProblem(server); !why.empty()) {
      throw ConfigError(originOf("nat.stun_servers") + ": nat.stun_servers: '" + server + "' " +
                        why + " (expected host or host:port, e.g. stun.example.net:3478)");
    }
  }
  return config;
}

Config resolveConfig(const RawValues& overrides) {
  RawValues file;
  if (auto it = overrides.find("config"); it != overrides.end() && !trim(it->second.value).empty())
    file = readConfigFile(std::string(trim(it->second.value)));
  return resolveConfig(file, overrides);
}

std::string_view productName() {
  return "Duplex PBX " DUPLEX_VERSION;
}

}  // namespace duplex::app
