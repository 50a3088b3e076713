// The resolution of raw values into a Config: parsing and validating each
// value against its key (config_schema.cpp has the table), defaults, and the
// checks across keys.
#include "pbx/app/config.h"

#include <algorithm>
#include <cctype>
#include <utility>

#include "pbx/app/value_syntax.h"

namespace duplex::app {
namespace {

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

const KeySpec* findKey(std::string_view name) {
  for (const auto& key : configSchema()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string suggestKey(std::string_view unknown) {
  const KeySpec* best = nullptr;
  std::size_t best_distance = 0;
  for (const auto& key : configSchema()) {
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
  for (const auto& key : configSchema()) {
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
