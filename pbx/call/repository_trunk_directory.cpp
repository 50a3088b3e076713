// The trunk directory cache; see repository_trunk_directory.h.
#include "pbx/call/repository_trunk_directory.h"

namespace duplex::call {
namespace {

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string::npos ? text.size() : comma;
    std::string item = text.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(std::move(item));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace

DialingRules dialingRulesFrom(db::SettingsRepository& settings) {
  DialingRules rules;
  if (auto s = settings.get("dialing.international_prefixes")) {
    rules.internationalPrefixes = splitList(s->value);
  }
  if (auto s = settings.get("dialing.premium_prefixes")) {
    rules.premiumPrefixes = splitList(s->value);
  }
  if (auto s = settings.get("dialing.national_prefix")) rules.nationalPrefix = s->value;
  if (auto s = settings.get("dialing.inbound_default")) rules.inboundDefault = s->value;
  if (auto s = settings.get("dialing.allow_premium")) rules.allowPremium = s->value == "true";
  return rules;
}

TrunkConfig toTrunkConfig(const db::TrunkRecord& r) {
  TrunkConfig t;
  t.id = r.id;
  t.name = r.name;
  t.enabled = r.enabled;
  t.host = r.host;
  t.port = static_cast<std::uint16_t>(r.port);
  t.transport = r.transport;
  t.username = r.username;
  t.password = r.password;
  t.authUsername = r.authUsername;
  t.realm = r.realm;
  t.registration = r.registration;
  t.registerIntervalSeconds = r.registerIntervalSeconds;
  t.outboundProxy = r.outboundProxy;
  t.callerId = r.callerId;
  t.maxCalls = r.maxCalls;
  t.codecs = r.codecs;
  t.fromDomain = r.fromDomain;
  t.fromUser = r.fromUser;
  t.extraAddresses = r.extraAddresses;
  return t;
}

void RepositoryTrunkDirectory::reload(const TrunkSources& sources) {
  // Everything is read before anything is replaced, so a failing read
  // leaves the last good cache whole.
  std::vector<TrunkConfig> trunks;
  for (const auto& r : sources.trunks.list()) trunks.push_back(toTrunkConfig(r));
  std::vector<OutboundRoute> routes;
  for (const auto& r : sources.routes.list()) {
    routes.push_back(OutboundRoute{r.id, r.name, r.position, r.enabled, r.pattern, r.trunkIds,
                                   r.stripDigits, r.prefix, r.callerId});
  }
  std::map<std::string, InboundNumber, std::less<>> numbers;
  for (const auto& r : sources.numbers.list()) {
    numbers[r.number] = InboundNumber{r.id, r.number, r.extensionNumber, r.trunkId};
  }
  DialingRules rules = dialingRulesFrom(sources.settings);
  trunks_ = std::move(trunks);
  routes_ = std::move(routes);
  numbers_ = std::move(numbers);
  rules_ = std::move(rules);
}

std::optional<TrunkConfig> RepositoryTrunkDirectory::trunk(std::int64_t id) const {
  for (const auto& t : trunks_) {
    if (t.id == id) return t;
  }
  return std::nullopt;
}

std::optional<InboundNumber> RepositoryTrunkDirectory::inboundNumber(std::string_view did) const {
  auto it = numbers_.find(did);
  if (it == numbers_.end()) return std::nullopt;
  return it->second;
}

}  // namespace duplex::call
