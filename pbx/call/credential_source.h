// Where the REGISTER adapter (and later call control) finds an extension's
// digest credentials by user name, without touching the database on the SIP
// loop (DESIGN.md: reads from in-memory caches that admin changes refresh).
// For: RegisterHandler; tests pass a fake. Thread: the SIP loop thread.
// Errors: RepositoryCredentialSource's constructor and reload() let
// db::DbError through (start-up and admin paths); find() never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "db/extension_repository.h"

namespace duplex::call {

// What authentication and the AOR check need of an extension.
struct ExtensionCredentials {
  std::int64_t extensionId = 0;
  std::string number;     // the digest user name and the AOR user part
  std::string ha1Md5;     // lowercase hex (RFC 7616 3.4.2)
  std::string ha1Sha256;  // empty when never set
  std::string realm;      // the realm both HA1s were computed for
  bool enabled = true;
  int maxContacts = 0;  // extensions.max_contacts; 0 = only the registrar's limit
};

class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // nullopt for an unknown user name.
  virtual std::optional<ExtensionCredentials> find(std::string_view user) const = 0;
};

// The daemon's source: every extension loaded from the repository at start;
// reload() replaces the cache (the admin issue calls it on changes).
class RepositoryCredentialSource final : public CredentialSource {
 public:
  explicit RepositoryCredentialSource(db::ExtensionRepository& repository) { reload(repository); }
  void reload(db::ExtensionRepository& repository);
  std::optional<ExtensionCredentials> find(std::string_view user) const override;
  std::size_t size() const { return byNumber_.size(); }

 private:
  std::unordered_map<std::string, ExtensionCredentials> byNumber_;
};

}  // namespace duplex::call
