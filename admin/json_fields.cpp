#include "admin/json_fields.h"

#include <Poco/Dynamic/Var.h>
#include <Poco/JSON/JSONException.h>
#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <sstream>

namespace duplex::admin {
namespace {

std::string full(std::string_view prefix, const std::string& name) {
  return std::string(prefix) + name;
}

[[noreturn]] void invalid(std::string_view prefix, const std::string& name,
                          const std::string& detail) {
  throw ApiError(400, "invalid_field", full(prefix, name), full(prefix, name) + " " + detail);
}

}  // namespace

Poco::Dynamic::Var parseJson(std::string_view body) {
  if (body.empty()) throw ApiError(400, "invalid_json", "", "the request body is empty");
  try {
    Poco::JSON::Parser parser;
    return parser.parse(std::string(body));
  } catch (const Poco::Exception& e) {
    throw ApiError(400, "invalid_json", "", "the body is not valid JSON: " + e.message());
  }
}

Poco::JSON::Object::Ptr parseObject(std::string_view body) {
  const Poco::Dynamic::Var value = parseJson(body);
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) {
    throw ApiError(400, "invalid_json", "", "the body must be a JSON object");
  }
  return value.extract<Poco::JSON::Object::Ptr>();
}

void rejectUnknownFields(const Poco::JSON::Object& object,
                         std::initializer_list<std::string_view> allowed, std::string_view prefix) {
  for (const auto& [name, value] : object) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      throw ApiError(400, "unknown_field", full(prefix, name),
                     "unknown field " + full(prefix, name));
    }
  }
}

bool has(const Poco::JSON::Object& object, const std::string& name) {
  return object.has(name);
}

bool isNull(const Poco::JSON::Object& object, const std::string& name) {
  return object.has(name) && object.isNull(name);
}

std::optional<std::string> stringField(const Poco::JSON::Object& object, const std::string& name,
                                       std::size_t maxLength, std::string_view prefix) {
  if (!object.has(name)) return std::nullopt;
  const Poco::Dynamic::Var value = object.get(name);
  if (!value.isString()) invalid(prefix, name, "must be a string");
  std::string text = value.extract<std::string>();
  if (text.size() > maxLength) {
    invalid(prefix, name, "must be at most " + std::to_string(maxLength) + " characters long");
  }
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) invalid(prefix, name, "must not contain control characters");
  }
  return text;
}

std::optional<bool> boolField(const Poco::JSON::Object& object, const std::string& name,
                              std::string_view prefix) {
  if (!object.has(name)) return std::nullopt;
  const Poco::Dynamic::Var value = object.get(name);
  if (value.type() != typeid(bool)) invalid(prefix, name, "must be true or false");
  return value.extract<bool>();
}

std::optional<std::int64_t> intField(const Poco::JSON::Object& object, const std::string& name,
                                     std::int64_t min, std::int64_t max, std::string_view prefix) {
  if (!object.has(name)) return std::nullopt;
  const Poco::Dynamic::Var value = object.get(name);
  if (!value.isInteger() || value.type() == typeid(bool))
    invalid(prefix, name, "must be an integer");
  std::int64_t number = 0;
  try {
    number = value.convert<std::int64_t>();
  } catch (const Poco::Exception&) {
    invalid(prefix, name, "is out of range");
  }
  if (number < min || number > max) {
    invalid(prefix, name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return number;
}

std::string toJson(const Poco::JSON::Object& object) {
  std::ostringstream out;
  object.stringify(out);
  return out.str();
}

std::string toJson(const Poco::JSON::Array& array) {
  std::ostringstream out;
  array.stringify(out);
  return out.str();
}

}  // namespace duplex::admin
