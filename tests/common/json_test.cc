// The one JSON writer (common/json.h): the exact bytes it writes. The audit trail is
// hash-chained over them, so every case is asserted byte for byte.
#include "common/json.h"

#include <gtest/gtest.h>

#include <string>

namespace samenzicht::json {
namespace {

TEST(JsonWriterTest, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(JsonString(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(JsonString(R"(C:\dir\)"), R"("C:\\dir\\")");
  EXPECT_EQ(JsonString(R"(\")"), R"("\\\"")");
  EXPECT_EQ(JsonString(""), R"("")");
  EXPECT_EQ(JsonEscape(R"(a"b\c)"), R"(a\"b\\c)");
}

TEST(JsonWriterTest, ControlCharactersAreEscapedNeverDropped) {
  EXPECT_EQ(JsonString("a\nb\rc\td"), R"("a\nb\rc\td")");
  EXPECT_EQ(JsonString(std::string("\0", 1)), R"("\u0000")");
  EXPECT_EQ(JsonString("\x01\x08\x0b\x0c\x1b\x1f"), R"("\u0001\u0008\u000b\u000c\u001b\u001f")");
  // 0x20 and 0x7f are not control characters in JSON: copied as they are.
  EXPECT_EQ(JsonString(" \x7f"), "\" \x7f\"");
  // A NUL inside a string does not end it.
  EXPECT_EQ(JsonEscape(std::string("x\0y", 3)), R"(x\u0000y)");
}

TEST(JsonWriterTest, NonAsciiUtf8IsCopiedByteForByte) {
  // é (2 bytes), € (3 bytes), 😀 (4 bytes): never \u-escaped, never changed.
  const std::string text = "Jos\xc3\xa9 \xe2\x82\xac 5 \xf0\x9f\x98\x80";
  EXPECT_EQ(JsonString(text), "\"" + text + "\"");
  // Bytes that are not valid UTF-8 are copied too (the writer does not validate).
  EXPECT_EQ(JsonEscape("\xff\xfe"), "\xff\xfe");
}

TEST(JsonWriterTest, ArraysAndObjectsHaveNoSpacesAndKeepTheOrder) {
  EXPECT_EQ(JsonStringArray({}), "[]");
  EXPECT_EQ(JsonStringArray({"police", "a\"b", ""}), R"(["police","a\"b",""])");

  EXPECT_EQ(JsonObject().str(), "{}");
  JsonObject o;
  o.Add("agency", "police")
      .Add("accepted", 12)
      .Add("big", uint64_t{18446744073709551615u})
      .Add("negative", int64_t{-3})
      .Add("month", uint32_t{202403})
      .Add("late", false)
      .Add("ok", true)
      .AddRaw("list", JsonStringArray({"a", "b"}))
      .Add("text", std::string("line\none"))
      .Add("quo\"te", "x");
  EXPECT_EQ(
      o.str(),
      R"({"agency":"police","accepted":12,"big":18446744073709551615,"negative":-3,"month":202403,)"
      R"("late":false,"ok":true,"list":["a","b"],"text":"line\none","quo\"te":"x"})");
}

}  // namespace
}  // namespace samenzicht::json
