#include "nat/miniupnpc_igd.h"

#include <miniupnpc/miniupnpc.h>
#include <miniupnpc/upnpcommands.h>
#include <miniupnpc/upnperrors.h>

#include <charconv>
#include <cstdlib>

namespace duplex::nat {
namespace {

const char* proto(Protocol p) {
  return p == Protocol::kUdp ? "UDP" : "TCP";
}

IgdResult result(int code) {
  if (code == UPNPCOMMAND_SUCCESS) return {};
  const char* text = strupnperror(code);
  IgdResult r{code < 0 ? kUpnpNoAnswer : code, text ? text : "UPnP error"};
  if (code < 0) r.text += " (" + std::to_string(code) + ")";
  return r;
}

std::uint32_t toNumber(const char* text) {
  std::uint32_t v = 0;
  const std::string_view s(text);
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

struct MiniupnpcIgd::State {
  UPNPUrls urls{};
  IGDdatas data{};
  ~State() { FreeUPNPUrls(&urls); }
  const char* control() const { return urls.controlURL; }
  const char* service() const { return data.first.servicetype; }
};

MiniupnpcIgd::MiniupnpcIgd(std::string multicast_if) : multicast_if_(std::move(multicast_if)) {}
MiniupnpcIgd::~MiniupnpcIgd() = default;

std::optional<IgdInfo> MiniupnpcIgd::discover(std::chrono::milliseconds timeout,
                                              std::string& error) {
  state_.reset();
  int err = 0;
  UPNPDev* devices =
      upnpDiscover(static_cast<int>(timeout.count()),
                   multicast_if_.empty() ? nullptr : multicast_if_.c_str(), nullptr, 0, 0, 2, &err);
  if (!devices) {
    error = err != 0 ? "SSDP error " + std::to_string(err) : "no UPnP device answered";
    return std::nullopt;
  }
  auto state = std::make_unique<State>();
  char lan[64] = {};
  const int valid = UPNP_GetValidIGD(devices, &state->urls, &state->data, lan, sizeof lan);
  freeUPNPDevlist(devices);
  // 1 = connected IGD; 2 = IGD reporting "not connected" (miniupnpd in front
  // of a reserved WAN address says so, yet maps fine); 3 = not an IGD.
  if (valid != 1 && valid != 2) {
    error = valid == 0 ? "no Internet Gateway Device found" : "a UPnP device, but not a gateway";
    return std::nullopt;
  }
  IgdInfo info;
  info.location = state->urls.rootdescURL ? state->urls.rootdescURL : "";
  info.lan_address = lan;
  info.connected = valid == 1;
  state_ = std::move(state);
  return info;
}

IgdResult MiniupnpcIgd::externalIp(std::string& out) {
  if (!state_) return {kUpnpNoAnswer, "no IGD"};
  char ip[40] = {};
  IgdResult r = result(UPNP_GetExternalIPAddress(state_->control(), state_->service(), ip));
  if (r.ok()) out = ip;
  return r;
}

IgdResult MiniupnpcIgd::addMapping(Protocol protocol, std::uint16_t external_port,
                                   const std::string& internal_client, std::uint16_t internal_port,
                                   const std::string& description, std::uint32_t lease_seconds) {
  if (!state_) return {kUpnpNoAnswer, "no IGD"};
  const std::string ext = std::to_string(external_port);
  const std::string in = std::to_string(internal_port);
  const std::string lease = std::to_string(lease_seconds);
  return result(UPNP_AddPortMapping(state_->control(), state_->service(), ext.c_str(), in.c_str(),
                                    internal_client.c_str(), description.c_str(), proto(protocol),
                                    nullptr, lease.c_str()));
}

IgdResult MiniupnpcIgd::getMapping(Protocol protocol, std::uint16_t external_port,
                                   IgdMappingEntry& out) {
  if (!state_) return {kUpnpNoAnswer, "no IGD"};
  const std::string ext = std::to_string(external_port);
  char client[40] = {}, port[6] = {}, desc[80] = {}, enabled[4] = {}, lease[16] = {};
  IgdResult r = result(UPNP_GetSpecificPortMappingEntry(state_->control(), state_->service(),
                                                        ext.c_str(), proto(protocol), nullptr,
                                                        client, port, desc, enabled, lease));
  if (!r.ok()) return r;
  out.protocol = protocol;
  out.external_port = external_port;
  out.internal_client = client;
  out.internal_port = static_cast<std::uint16_t>(toNumber(port));
  out.description = desc;
  out.lease_seconds = toNumber(lease);
  return r;
}

IgdResult MiniupnpcIgd::deleteMapping(Protocol protocol, std::uint16_t external_port) {
  if (!state_) return {kUpnpNoAnswer, "no IGD"};
  const std::string ext = std::to_string(external_port);
  return result(UPNP_DeletePortMapping(state_->control(), state_->service(), ext.c_str(),
                                       proto(protocol), nullptr));
}

IgdResult MiniupnpcIgd::getMappingByIndex(int index, IgdMappingEntry& out) {
  if (!state_) return {kUpnpNoAnswer, "no IGD"};
  const std::string i = std::to_string(index);
  char ext[6] = {}, client[40] = {}, port[6] = {}, protocol[4] = {}, desc[80] = {}, enabled[6] = {},
       host[64] = {}, lease[16] = {};
  IgdResult r =
      result(UPNP_GetGenericPortMappingEntry(state_->control(), state_->service(), i.c_str(), ext,
                                             client, port, protocol, desc, enabled, host, lease));
  if (!r.ok()) return r;
  out.protocol = std::string_view(protocol) == "TCP" ? Protocol::kTcp : Protocol::kUdp;
  out.external_port = static_cast<std::uint16_t>(toNumber(ext));
  out.internal_client = client;
  out.internal_port = static_cast<std::uint16_t>(toNumber(port));
  out.description = desc;
  out.lease_seconds = toNumber(lease);
  return r;
}

}  // namespace duplex::nat
