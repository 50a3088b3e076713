// The text forms of record enums, shared by storage (CHECK constraints in
// migrations.cpp list the same words) and the admin API's JSON.
#include <array>
#include <utility>

#include "db/call_record_repository.h"
#include "db/extension_repository.h"

namespace duplex::db {
namespace {

constexpr std::array<std::pair<CallPermission, std::string_view>, 4> kPermissions{{
    {CallPermission::internal, "internal"},
    {CallPermission::local, "local"},
    {CallPermission::national, "national"},
    {CallPermission::international, "international"},
}};

constexpr std::array<std::pair<Disposition, std::string_view>, 5> kDispositions{{
    {Disposition::answered, "answered"},
    {Disposition::busy, "busy"},
    {Disposition::noAnswer, "no_answer"},
    {Disposition::failed, "failed"},
    {Disposition::cancelled, "cancelled"},
}};

template <class Enum, std::size_t N>
std::string_view nameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "unknown";
}

template <class Enum, std::size_t N>
std::optional<Enum> valueOf(const std::array<std::pair<Enum, std::string_view>, N>& table,
                            std::string_view text) {
  for (const auto& [value, name] : table) {
    if (name == text) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view toString(CallPermission permission) {
  return nameOf(kPermissions, permission);
}

std::optional<CallPermission> parseCallPermission(std::string_view text) {
  return valueOf(kPermissions, text);
}

std::string_view toString(Disposition disposition) {
  return nameOf(kDispositions, disposition);
}

std::optional<Disposition> parseDisposition(std::string_view text) {
  return valueOf(kDispositions, text);
}

}  // namespace duplex::db
