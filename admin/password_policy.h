// The strength rule for SIP passwords set through the admin API: a phone's
// password is attacked online from the internet all day, so weak ones are
// refused with the reason. For: the extensions resource. Any thread; no state.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace duplex::admin {

inline constexpr std::size_t kMinSipPasswordLength = 12;
inline constexpr std::size_t kMaxSipPasswordLength = 128;

// nullopt when `password` is acceptable for extension `number`; otherwise the
// reason in words, e.g. "must be at least 12 characters long (has 8)".
// Rules: 12..128 characters, no control characters, at least two character
// classes (lower case, upper case, digits, others), does not contain the
// extension number when that has 3 digits or more, not a common password
// (compared case-insensitively, also with trailing digits and symbols removed).
std::optional<std::string> weakPasswordReason(std::string_view password, std::string_view number);

}  // namespace duplex::admin
