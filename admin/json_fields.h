// Reading and validating JSON request bodies field by field; every failure
// is an ApiError naming the field. Internal to admin/. Any thread.
#pragma once

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "admin/api_routes.h"

namespace duplex::admin {

// The body as a JSON value; 400 invalid_json with the parser's position.
Poco::Dynamic::Var parseJson(std::string_view body);
// The body as an object; 400 invalid_json if it is not one.
Poco::JSON::Object::Ptr parseObject(std::string_view body);

// 400 unknown_field for a member not in `allowed` (`prefix` is prepended to
// field names, e.g. "extensions[2].").
void rejectUnknownFields(const Poco::JSON::Object& object,
                         std::initializer_list<std::string_view> allowed,
                         std::string_view prefix = "");

bool has(const Poco::JSON::Object& object, const std::string& name);
bool isNull(const Poco::JSON::Object& object, const std::string& name);

// The member as a string: nullopt if absent; 400 invalid_field if not a
// string, longer than maxLength, or with control characters.
std::optional<std::string> stringField(const Poco::JSON::Object& object, const std::string& name,
                                       std::size_t maxLength, std::string_view prefix = "");
std::optional<bool> boolField(const Poco::JSON::Object& object, const std::string& name,
                              std::string_view prefix = "");
// Integers only (1.0 and "1" are refused), within [min, max].
std::optional<std::int64_t> intField(const Poco::JSON::Object& object, const std::string& name,
                                     std::int64_t min, std::int64_t max,
                                     std::string_view prefix = "");

std::string toJson(const Poco::JSON::Object& object);
std::string toJson(const Poco::JSON::Array& array);

}  // namespace duplex::admin
