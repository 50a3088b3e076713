#include "nat/nat_status.h"

namespace duplex::nat {

std::string_view upnpStateName(UpnpState state) {
  switch (state) {
    case UpnpState::kOff:
      return "off";
    case UpnpState::kDiscovering:
      return "discovering";
    case UpnpState::kNoIgd:
      return "no-igd";
    case UpnpState::kMapped:
      return "mapped";
    case UpnpState::kRefused:
      return "refused";
    case UpnpState::kFailing:
      return "failing";
  }
  return "unknown";
}

std::string_view mappingBehaviorName(MappingBehavior behavior) {
  switch (behavior) {
    case MappingBehavior::kUnknown:
      return "unknown";
    case MappingBehavior::kNoNat:
      return "no-nat";
    case MappingBehavior::kEndpointIndependent:
      return "endpoint-independent";
    case MappingBehavior::kAddressDependent:
      return "address-dependent";
    case MappingBehavior::kAddressAndPortDependent:
      return "address-and-port-dependent";
  }
  return "unknown";
}

std::string_view filteringBehaviorName(FilteringBehavior behavior) {
  switch (behavior) {
    case FilteringBehavior::kUnknown:
      return "unknown";
    case FilteringBehavior::kEndpointIndependent:
      return "endpoint-independent";
    case FilteringBehavior::kAddressDependent:
      return "address-dependent";
    case FilteringBehavior::kAddressAndPortDependent:
      return "address-and-port-dependent";
  }
  return "unknown";
}

}  // namespace duplex::nat
