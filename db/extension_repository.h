// Extensions (the office's phones/users): storage interface and record type.
// For: the admin API (CRUD), the registrar and call control (lookups, usually
// through a cache the admin API refreshes). Thread: see db/db.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/error.h"

namespace duplex::db {

// Which calls an extension may place, each class including the ones before.
enum class CallPermission { internal, local, national, international };

std::string_view toString(CallPermission permission);
// nullopt for anything but the four names above (as stored and as the admin
// API spells them).
std::optional<CallPermission> parseCallPermission(std::string_view text);

struct ExtensionRecord {
  std::int64_t id = 0;  // assigned by insert()
  std::string number;   // what is dialled and the digest user name; unique
  std::string displayName;
  // HA1 = H(number:realm:password), lowercase hex (RFC 7616 3.4.2). The plain
  // password is never stored.
  std::string ha1Md5;
  std::string ha1Sha256;
  std::string realm;  // the realm both HA1s were computed for
  bool enabled = true;
  int maxContacts = 5;  // bindings the registrar accepts at once
  bool dnd = false;
  std::optional<std::string> forwardUnconditional;  // target number or URI
  std::optional<std::string> forwardBusy;
  std::optional<std::string> forwardNoAnswer;
  int forwardNoAnswerSeconds = 25;
  bool voicemailEnabled = false;
  CallPermission permissions = CallPermission::national;
  std::optional<int> maxOutsideCalls;  // nullopt: no limit
  std::int64_t createdAt = 0;          // unix seconds, set by the database
  std::int64_t updatedAt = 0;          // unix seconds, set by the database

  bool operator==(const ExtensionRecord&) const = default;
};

// Throws DbError on storage failures.
class ExtensionRepository {
 public:
  virtual ~ExtensionRepository() = default;

  virtual std::optional<ExtensionRecord> findByNumber(std::string_view number) = 0;
  virtual std::optional<ExtensionRecord> findById(std::int64_t id) = 0;
  // Ordered by number.
  virtual std::vector<ExtensionRecord> list() = 0;
  // Ignores record.id/createdAt/updatedAt and returns the stored record (with
  // its new id). Throws DuplicateKeyError if the number is taken.
  virtual ExtensionRecord insert(const ExtensionRecord& record) = 0;
  // Replaces every field of the extension with id record.id. Returns false if
  // there is none. Throws DuplicateKeyError if the new number is taken.
  virtual bool update(const ExtensionRecord& record) = 0;
  // Deletes the extension and, by cascade, its bindings. False if absent.
  virtual bool remove(std::int64_t id) = 0;
};

}  // namespace duplex::db
