#include "admin/settings_schema.h"

#include <array>

namespace duplex::admin {
namespace {

using T = SettingType;

constexpr std::array kSettings{
    // Keys and meanings as in duplex.conf (duplex --help), so that a stored
    // value means what the same key in the file means.
    SettingSpec{"sip.port", T::kPort, "SIP port for UDP and TCP.", 1, 65535},
    SettingSpec{"sip.udp", T::kBool, "Offer SIP over UDP."},
    SettingSpec{"sip.tcp", T::kBool, "Offer SIP over TCP."},
    // Applied live: new calls take ports from the new range (calls in
    // progress keep theirs) and the router's RTP mappings follow.
    SettingSpec{"media.rtp_port_min", T::kPort, "Lowest RTP relay port.", 1024, 65535, "", false,
                true},
    SettingSpec{"media.rtp_port_max", T::kPort, "Highest RTP relay port.", 1024, 65535, "", false,
                true},
    SettingSpec{"main_address", T::kHost, "The address phones and trunks reach us at."},
    SettingSpec{"additional_addresses", T::kHostList, "Other addresses of this PBX."},
    SettingSpec{"local_networks", T::kCidrList, "Networks treated as the LAN."},
    SettingSpec{"registrar.realm", T::kText, "Digest realm (changing it needs new passwords).", 0,
                128},
    // Applied live: off removes the PBX's mappings from the router, on maps again.
    SettingSpec{"nat.upnp", T::kBool, "Ask the router for port mappings (UPnP IGD).", 0, 0, "",
                false, true},
    // At least 1, like duplex.conf: a stored value the daemon refuses at start
    // would make it ignore every stored setting.
    SettingSpec{"nat.upnp_budget", T::kInt, "Most port mappings requested at once.", 1, 256},
    SettingSpec{"nat.stun_servers", T::kHostList, "STUN servers (host or host:port)."},
    SettingSpec{"dyndns.provider", T::kProvider,
                "DynDNS provider: dyndns, noip or an http(s) update URL; \"\" = off."},
    SettingSpec{"dyndns.hostname", T::kHost, "The DynDNS host name."},
    SettingSpec{"dyndns.user", T::kText, "DynDNS user.", 0, 128},
    SettingSpec{"dyndns.password", T::kText, "DynDNS password or token (never returned).", 0, 256,
                "", true},
    SettingSpec{"registrar.keepalive_interval", T::kInt, "Seconds between NAT keep-alives.", 5,
                3600},
    SettingSpec{"media.timeout", T::kSeconds, "Seconds without RTP before a call is ended.", 5,
                3600},
    // The values of duplex.conf's call.follow_redirects (a boolean stored
    // here would be refused at the next start).
    SettingSpec{"call.follow_redirects", T::kEnum,
                "3xx policy: off = never follow a redirect (toll-fraud risk), internal = follow "
                "it to internal extensions only.",
                0, 0, "off,internal"},
    // Outside calls through trunks (pbx/call/trunk_directory.h DialingRules);
    // the trunk directory re-reads them at once.
    SettingSpec{"dialing.international_prefixes", T::kPrefixList,
                "Prefixes of international numbers (default 00, +).", 0, 0, "", false, true},
    SettingSpec{"dialing.premium_prefixes", T::kPrefixList,
                "Prefixes of premium-rate numbers (default 0900, 0137, 0190, 1900, 976).", 0, 0, "",
                false, true},
    SettingSpec{"dialing.national_prefix", T::kDigits,
                "Numbers starting with it are national, other outside numbers local (default 0).",
                0, 8, "", false, true},
    SettingSpec{"dialing.inbound_default", T::kDigits,
                "Extension that calls to an unknown inbound number ring; \"\" = 404.", 0, 15, "",
                false, true},
    SettingSpec{"dialing.allow_premium", T::kBool,
                "Allow calls to premium-rate numbers (default false).", 0, 0, "", false, true},
    SettingSpec{"log.level", T::kEnum, "Log level of every component.", 0, 0,
                "trace,debug,info,warn,error,off", false, true},
};

}  // namespace

std::span<const SettingSpec> settingsSchema() {
  return kSettings;
}

const SettingSpec* findSetting(std::string_view key) {
  for (const auto& s : kSettings) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

}  // namespace duplex::admin
