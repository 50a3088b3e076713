// What call control needs to know about an extension to route a call to it:
// whether it exists and is enabled, and its call features (do-not-disturb,
// forwarding), read from an in-memory cache (no database on the SIP loop).
//
// For: call control's routing steps (call_routing.h); tests pass a fake.
// Thread: the SIP loop. Errors: RepositoryExtensionDirectory's constructor
// and reload() let db::DbError through (start-up and admin paths); find()
// never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db/extension_repository.h"

namespace duplex::call {

struct ExtensionFeatures {
  std::int64_t extensionId = 0;
  std::string number;
  std::string displayName;
  bool enabled = true;
  bool dnd = false;
  std::optional<std::string> forwardUnconditional;  // target number
  std::optional<std::string> forwardBusy;
  std::optional<std::string> forwardNoAnswer;
  int forwardNoAnswerSeconds = 25;
  // Outside calls (trunks): the highest class of number this extension may
  // dial, and how many outside calls it may have at once (nullopt: no limit).
  db::CallPermission permissions = db::CallPermission::national;
  std::optional<int> maxOutsideCalls;
};

class ExtensionDirectory {
 public:
  virtual ~ExtensionDirectory() = default;
  virtual std::optional<ExtensionFeatures> find(std::string_view number) const = 0;
};

// Every extension loaded at start; reload() replaces the cache.
class RepositoryExtensionDirectory final : public ExtensionDirectory {
 public:
  explicit RepositoryExtensionDirectory(db::ExtensionRepository& repository) { reload(repository); }
  void reload(db::ExtensionRepository& repository);
  std::optional<ExtensionFeatures> find(std::string_view number) const override;

 private:
  std::unordered_map<std::string, ExtensionFeatures> byNumber_;
};

}  // namespace duplex::call
