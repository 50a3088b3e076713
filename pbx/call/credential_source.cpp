// The extension credential cache; see credential_source.h.
#include "pbx/call/credential_source.h"

namespace duplex::call {

void RepositoryCredentialSource::reload(db::ExtensionRepository& repository) {
  std::unordered_map<std::string, ExtensionCredentials> fresh;
  for (db::ExtensionRecord& record : repository.list()) {
    ExtensionCredentials c{record.id,
                           record.number,
                           std::move(record.ha1Md5),
                           std::move(record.ha1Sha256),
                           std::move(record.realm),
                           record.enabled,
                           record.maxContacts};
    fresh.emplace(record.number, std::move(c));
  }
  byNumber_ = std::move(fresh);
}

std::optional<ExtensionCredentials> RepositoryCredentialSource::find(std::string_view user) const {
  auto it = byNumber_.find(std::string(user));
  if (it == byNumber_.end()) return std::nullopt;
  return it->second;
}

}  // namespace duplex::call
