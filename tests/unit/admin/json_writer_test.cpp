// The streaming JSON writer: output that a JSON parser reads back exactly.
#include <gtest/gtest.h>

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include "admin/json_writer.h"

namespace duplex::admin {
namespace {

TEST(JsonWriter, NestedValuesWithCommasInTheRightPlaces) {
  JsonWriter w;
  w.beginObject()
      .field("a", 1)
      .field("b", std::optional<std::string>())
      .key("list")
      .beginArray()
      .value(true)
      .beginObject()
      .field("x", "y")
      .endObject()
      .raw(R"({"z":[]})")
      .endArray()
      .field("n", std::optional<std::int64_t>(-7))
      .endObject();
  EXPECT_EQ(w.take(), R"({"a":1,"b":null,"list":[true,{"x":"y"},{"z":[]}],"n":-7})");
}

TEST(JsonWriter, EscapesWhatJsonRequires) {
  const std::string nasty = std::string("q\"b\\s/\n\r\t\x01\x1f\x7f") + "é€";
  JsonWriter w;
  w.beginObject().field("v", nasty).endObject();
  const std::string text = w.take();
  const auto parsed = Poco::JSON::Parser().parse(text).extract<Poco::JSON::Object::Ptr>();
  EXPECT_EQ(parsed->getValue<std::string>("v"), nasty);
  EXPECT_EQ(text.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace duplex::admin
