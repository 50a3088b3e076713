#include "admin/settings_schema.h"

#include <array>

namespace duplex::admin {
namespace {

using T = SettingType;

constexpr std::array kSettings{
    SettingSpec{"sip.port", T::kPort, "SIP port for UDP and TCP.", 1, 65535},
    SettingSpec{"sip.transports", T::kEnumList, "SIP transports offered.", 0, 0, "udp,tcp,tls"},
    SettingSpec{"rtp.port_min", T::kPort, "Lowest RTP relay port.", 1024, 65535},
    SettingSpec{"rtp.port_max", T::kPort, "Highest RTP relay port.", 1024, 65535},
    SettingSpec{"network.main_address", T::kHost, "The address phones and trunks reach us at."},
    SettingSpec{"network.additional_addresses", T::kHostList, "Other addresses of this PBX."},
    SettingSpec{"network.local_networks", T::kCidrList, "Networks treated as the LAN."},
    SettingSpec{"registrar.realm", T::kText, "Digest realm (changing it needs new passwords).", 0,
                128},
    SettingSpec{"upnp.enabled", T::kBool, "Ask the router for port mappings (UPnP IGD)."},
    SettingSpec{"upnp.mapping_budget", T::kInt, "Most port mappings requested at once.", 0, 256},
    SettingSpec{"stun.servers", T::kHostList, "STUN servers (host or host:port)."},
    SettingSpec{"dyndns.provider", T::kEnum, "DynDNS update protocol.", 0, 0,
                "none,dyndns2,duckdns,custom"},
    SettingSpec{"dyndns.url", T::kUrl, "Update URL (custom provider)."},
    SettingSpec{"dyndns.hostname", T::kHost, "The DynDNS host name."},
    SettingSpec{"dyndns.username", T::kText, "DynDNS user.", 0, 128},
    SettingSpec{"dyndns.password", T::kText, "DynDNS password or token (never returned).", 0, 256,
                "", true},
    SettingSpec{"registrar.keepalive_interval", T::kInt, "Seconds between NAT keep-alives.", 5,
                3600},
    SettingSpec{"media.timeout", T::kInt, "Seconds without RTP before a call is ended.", 5, 3600},
    SettingSpec{"sip.redirect_policy", T::kEnum, "What to do with a 3xx answer.", 0, 0,
                "follow,reject,pass"},
    SettingSpec{"log.level", T::kEnum, "Log level of every component.", 0, 0,
                "trace,debug,info,warning,error,critical,off", false, true},
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
