// The extension cache of call control; see extension_directory.h.
#include "pbx/call/extension_directory.h"

namespace duplex::call {

void RepositoryExtensionDirectory::reload(db::ExtensionRepository& repository) {
  std::unordered_map<std::string, ExtensionFeatures> next;
  for (const db::ExtensionRecord& r : repository.list()) {
    next[r.number] = ExtensionFeatures{r.id,
                                       r.number,
                                       r.displayName,
                                       r.enabled,
                                       r.dnd,
                                       r.forwardUnconditional,
                                       r.forwardBusy,
                                       r.forwardNoAnswer,
                                       r.forwardNoAnswerSeconds,
                                       r.permissions,
                                       r.maxOutsideCalls};
  }
  byNumber_ = std::move(next);
}

std::optional<ExtensionFeatures> RepositoryExtensionDirectory::find(std::string_view number) const {
  auto it = byNumber_.find(std::string(number));
  if (it == byNumber_.end()) return std::nullopt;
  return it->second;
}

}  // namespace duplex::call
