// Errors of the SIP protocol layer: what was wrong with a message, as the
// status code and reason phrase the PBX answers with (RFC 3261 21).
// For: every pbx/sip parser and the stateless request checks. Any thread.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

namespace duplex::sip {

// `reason` always points at static text (a string literal), so an error can
// be passed around and logged without allocation, e.g. {400, "Missing Call-ID"}.
struct SipError {
  int status = 400;
  std::string_view reason = "Bad Request";
  bool operator==(const SipError&) const = default;
};

// A value or the error that prevented it. No exceptions across the SIP loop
// (STYLE.md 9): parsers return this.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : value_(value) {}        // NOLINT: implicit by design
  Result(T&& value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(SipError error) : error_(error) {}        // NOLINT: implicit by design
  // A default-constructed value to fill in place (parsers writing straight
  // into the result avoid moving it afterwards).
  explicit Result(std::in_place_t) : value_(std::in_place) {}

  bool ok() const { return value_.has_value(); }
  explicit operator bool() const { return ok(); }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }
  const SipError& error() const { return error_; }

 private:
  std::optional<T> value_;
  SipError error_{};
};

}  // namespace duplex::sip
