// Where raw configuration values come from: the `key = value` file and the
// `--key=value` command line.
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pbx/app/config.h"
#include "pbx/app/value_syntax.h"

namespace duplex::app {
namespace {

std::string didYouMean(std::string_view unknown, std::string_view prefix) {
  const std::string suggestion = suggestKey(unknown);
  if (suggestion.empty()) return " (see duplex --help for every key)";
  return " (did you mean " + std::string(prefix) + suggestion + "?)";
}

}  // namespace

RawValues parseConfigText(std::string_view text, std::string_view file_name) {
  RawValues values;
  std::map<std::string, int, std::less<>> first_line;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    if (line.empty() || line.front() == '#') continue;

    const std::string where = std::string(file_name) + ":" + std::to_string(line_number);
    const auto eq = line.find('=');
    const std::string_view key = eq == line.npos ? line : trim(line.substr(0, eq));
    if (eq == line.npos || key.empty()) {
      throw ConfigError(where + ": expected 'key = value', got '" + std::string(line) + "'");
    }
    std::string_view value = trim(line.substr(eq + 1));
    if (!value.empty() && value.front() == '"') {
      if (value.size() < 2 || value.back() != '"') {
        throw ConfigError(where + ": " + std::string(key) + ": unterminated quote in " +
                          std::string(value) + " (write \"text\" or text without quotes)");
      }
      value = value.substr(1, value.size() - 2);
    }
    const KeySpec* spec = findKey(key);
    if (!spec) {
      throw ConfigError(where + ": unknown key '" + std::string(key) + "'" + didYouMean(key, ""));
    }
    if (spec->command_line_only) {
      throw ConfigError(where + ": " + std::string(key) +
                        ": can only be given on the command "
                        "line (--" +
                        std::string(key) + "=...)");
    }
    if (auto it = first_line.find(key); it != first_line.end()) {
      throw ConfigError(where + ": " + std::string(key) + ": set twice (first on line " +
                        std::to_string(it->second) + ")");
    }
    first_line.emplace(std::string(key), line_number);
    values[std::string(key)] = RawValue{std::string(value), where};
  }
  return values;
}

RawValues readConfigFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw ConfigError("config: '" + path + "' is a directory, not a configuration file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ConfigError("config: cannot read '" + path + "': " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parseConfigText(text.str(), path);
}

CommandLine parseCommandLine(std::span<const std::string> args) {
  CommandLine result;
  // --help and friends win wherever they are, even next to a bad option.
  for (const auto& arg : args) {
    if (arg == "--help" || arg == "-h") {
      result.action = CommandLine::Action::kHelp;
      return result;
    }
    if (arg == "--version") {
      result.action = CommandLine::Action::kVersion;
      return result;
    }
    if (arg == "--print-config-doc") {
      result.action = CommandLine::Action::kPrintConfigDoc;
      return result;
    }
  }
  for (const auto& arg : args) {
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      throw ConfigError("command line: unexpected argument '" + arg +
                        "' (options are --key=value; see duplex --help)");
    }
    const auto eq = arg.find('=');
    const std::string key = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const KeySpec* spec = findKey(key);
    if (!spec) {
      throw ConfigError("command line: unknown option '--" + key + "'" + didYouMean(key, "--"));
    }
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (spec->type == ValueType::kBool) {
      value = "true";  // "--sip.trace" alone switches it on
    } else {
      throw ConfigError(std::string("command line: ")
                            .append(key)
                            .append(": needs a value (--")
                            .append(key)
                            .append("=VALUE)"));
    }
    result.overrides[key] = RawValue{value, "command line"};
  }
  return result;
}

}  // namespace duplex::app
