// The documentation of the schema: --help and the README's Markdown table.
#include <string>

#include "pbx/app/config.h"
#include "pbx/app/exit_codes.h"
#include "pbx/app/value_syntax.h"

namespace duplex::app {
namespace {

std::string choicesText(const KeySpec& key, std::string_view separator) {
  std::string out;
  for (auto choice : key.choices) {
    if (!out.empty()) out += separator;
    out += choice;
  }
  return out;
}

// What the key accepts, e.g. "integer 1-16", "duration 10ms-10s".
std::string typeText(const KeySpec& key) {
  switch (key.type) {
    case ValueType::kString:
      return "text";
    case ValueType::kPath:
      return "path";
    case ValueType::kInt:
      return "integer " + std::to_string(key.min) + "-" + std::to_string(key.max);
    case ValueType::kBool:
      return "bool";
    case ValueType::kEnum:
      return "one of " + choicesText(key, ", ");
    case ValueType::kPort:
      return "port 0-65535";
    case ValueType::kAddress:
      return "IP address";
    case ValueType::kHost:
      return "hostname or IP";
    case ValueType::kDuration:
      return "duration " + formatDuration(key.min) + "-" + formatDuration(key.max);
    case ValueType::kSize:
      return "size " + formatSize(key.min) + "-" + formatSize(key.max);
    case ValueType::kHostList:
      return "list of hostnames/IPs";
    case ValueType::kCidrList:
      return "list of CIDR networks";
  }
  return "text";
}

std::string metavar(const KeySpec& key) {
  switch (key.type) {
    case ValueType::kPath:
      return "PATH";
    case ValueType::kInt:
      return "N";
    case ValueType::kBool:
      return "true|false";
    case ValueType::kEnum:
      return choicesText(key, "|");
    case ValueType::kPort:
      return "PORT";
    case ValueType::kAddress:
      return "IP";
    case ValueType::kHost:
      return "HOST";
    case ValueType::kDuration:
      return "DURATION";
    case ValueType::kSize:
      return "SIZE";
    case ValueType::kHostList:
      return "HOST,...";
    case ValueType::kCidrList:
      return "CIDR,...";
    case ValueType::kString:
      break;
  }
  return "TEXT";
}

std::string defaultText(const KeySpec& key) {
  if (key.default_value.empty()) return key.name == "config" ? "(none)" : "(empty)";
  return std::string(key.default_value);
}

}  // namespace

std::string helpText() {
  std::string out;
  out += "Usage: duplex [--config=PATH] [--KEY=VALUE ...]\n";
  out += "       duplex --help | --version | --print-config-doc\n\n";
  out += std::string(productName()) + ", a small-office IP-PBX. Runs in the foreground;\n";
  out += "SIGINT/SIGTERM stop it cleanly, SIGUSR2 toggles SIP message tracing.\n\n";
  out += "Every key below can be set in the file named by --config (`key = value`\n";
  out += "lines, # comments) or on the command line as --key=value; the command\n";
  out += "line wins. A bool key alone (--sip.trace) means true.\n\n";
  for (const auto& key : configSchema()) {
    std::string option = "  --" + std::string(key.name) + "=" + metavar(key);
    if (option.size() < 33) {
      option.resize(34, ' ');
    } else {
      option += "\n" + std::string(34, ' ');
    }
    out += option + std::string(key.doc) + "\n";
    out += std::string(34, ' ') + "[" + typeText(key) + "; default: " + defaultText(key) + "]\n";
  }
  out += "\nExit codes: " + std::to_string(kExitOk) + " stopped cleanly; " +
         std::to_string(kExitConfig) + " configuration error; " + std::to_string(kExitUnavailable) +
         " a port is in use or the address is not local;\n  " + std::to_string(kExitCantCreate) +
         " data folder, database or log file cannot be opened; " + std::to_string(kExitDataErr) +
         " database migration failed; " + std::to_string(kExitSoftware) +
         " other start-up failure.\n";
  return out;
}

std::string configDocMarkdown() {
  std::string out = "| Key | Type | Default | Description |\n|---|---|---|---|\n";
  for (const auto& key : configSchema()) {
    const std::string_view mark = key.default_value.empty() ? "*" : "`";
    const std::string shown = std::string(mark).append(defaultText(key)).append(mark);
    out += "| `" + std::string(key.name) + "` | " + typeText(key) + " | " + shown + " | " +
           std::string(key.doc) + " |\n";
  }
  return out;
}

}  // namespace duplex::app
