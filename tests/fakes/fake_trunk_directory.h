// In-memory TrunkDirectory (pbx/call/trunk_directory.h) for call tests: the
// test fills the public vectors; lookups behave like the repository-backed
// one (routes returned ordered by position, DIDs matched exactly).
#pragma once

#include <algorithm>

#include "pbx/call/trunk_directory.h"

namespace duplex::call::fakes {

class FakeTrunkDirectory final : public TrunkDirectory {
 public:
  std::vector<TrunkConfig> trunkList;
  std::vector<OutboundRoute> routes;
  std::vector<InboundNumber> numbers;
  DialingRules rules;

  std::vector<TrunkConfig> trunks() const override { return trunkList; }
  std::optional<TrunkConfig> trunk(std::int64_t id) const override {
    for (const TrunkConfig& t : trunkList) {
      if (t.id == id) return t;
    }
    return std::nullopt;
  }
  std::vector<OutboundRoute> outboundRoutes() const override {
    std::vector<OutboundRoute> out = routes;
    std::stable_sort(out.begin(), out.end(), [](const OutboundRoute& a, const OutboundRoute& b) {
      return a.position < b.position;
    });
    return out;
  }
  std::optional<InboundNumber> inboundNumber(std::string_view did) const override {
    for (const InboundNumber& n : numbers) {
      if (n.number == did) return n;
    }
    return std::nullopt;
  }
  DialingRules dialingRules() const override { return rules; }
};

}  // namespace duplex::call::fakes
