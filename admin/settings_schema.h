// The settings the admin API stores in the settings table: each key's type,
// limits and whether it applies live or at the next start. For: the settings
// resource and the OpenAPI test. Any thread; constant data.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace duplex::admin {

enum class SettingType {
  kPort,        // integer 1-65535
  kInt,         // integer within [min, max]
  kBool,        // true/false
  kEnum,        // one of `choices` (comma-separated)
  kHost,        // hostname or IP literal; "" = not set
  kHostList,    // list of hostnames / IP literals (optionally :port)
  kCidrList,    // list of CIDR networks
  kText,        // free text without control characters
  kProvider,    // "", "dyndns", "noip" or an http:// / https:// update URL
  kSeconds,     // integer seconds within [min, max]; stored as "<n>s" like duplex.conf
  kPrefixList,  // list of dial prefixes: digits, '*', '#', optional leading '+'
  kDigits,      // 0 to `max` digits
};

struct SettingSpec {
  std::string_view key;
  SettingType type;
  std::string_view doc;
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::string_view choices = "";  // kEnum, kEnumList
  bool secret = false;            // never returned by a GET
  bool live = false;              // the daemon applies it at once
};

std::span<const SettingSpec> settingsSchema();
const SettingSpec* findSetting(std::string_view key);

}  // namespace duplex::admin
