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

TEST(JsonWriterTest, ArraysTakeEveryKindOfValue) {
  EXPECT_EQ(JsonArray().str(), "[]");
  JsonArray a;
  a.Add("police")
      .Add(std::string("x"))
      .Add(-3)
      .Add(uint32_t{202403})
      .Add(int64_t{-9223372036854775807 - 1})
      .Add(uint64_t{18446744073709551615u})
      .Add(true)
      .Add(false)
      .AddNull()
      .AddRaw("1.5");
  EXPECT_EQ(a.str(),
            R"(["police","x",-3,202403,-9223372036854775808,18446744073709551615,true,false,)"
            R"(null,1.5])");
}

// Keys, members and elements at any depth are escaped as a lone string is: quotes, backslash,
// control characters; UTF-8 and bytes that are not UTF-8 are copied.
TEST(JsonWriterTest, NestedValuesAndKeysAreEscapedAlike) {
  const std::string nasty = std::string("q\"b\\n\n\x01\x1f\x7f\xc3\xa9\xff\0", 13);
  const std::string escaped = "q\\\"b\\\\n\\n\\u0001\\u001f\x7f\xc3\xa9\xff\\u0000";
  EXPECT_EQ(JsonEscape(nasty), escaped);
  JsonObject inner;
  inner.Add(nasty, nasty).Add("list", JsonArray().Add(nasty));
  JsonObject outer;
  outer.Add("inner", inner).Add("rows", JsonArray().Add(inner).Add(JsonArray()));
  const std::string in = "{\"" + escaped + "\":\"" + escaped + "\",\"list\":[\"" + escaped + "\"]}";
  EXPECT_EQ(outer.str(), "{\"inner\":" + in + ",\"rows\":[" + in + ",[]]}");
}

TEST(JsonWriterTest, TheLayoutPlacesTheWhiteSpace) {
  JsonArray rows(Layout{"\n    ", ",", ": ", "\n  "});
  rows.Add(JsonObject(kSpaced).Add("a", 1).AddNull("b"))
      .Add(JsonObject(kSpaced).Add("c", JsonArray(kSpaced).Add(1).Add(2)));
  JsonObject doc(kMembersOnLines);
  doc.Add("by", JsonArray(kSpaced).Add("form").Add("age_band"))
      .Add("rows", rows)
      .Add("none", JsonArray(Layout{"\n    ", ",", ": ", "\n  "}))
      .Add("empty", JsonObject(kSpaced));
  EXPECT_EQ(doc.str(),
            "{\n"
            "  \"by\": [\"form\", \"age_band\"],\n"
            "  \"rows\": [\n"
            "    {\"a\": 1, \"b\": null},\n"
            "    {\"c\": [1, 2]}\n"
            "  ],\n"
            "  \"none\": [],\n"
            "  \"empty\": {}\n"
            "}");
  // An empty container has nothing between its brackets, whatever its layout.
  EXPECT_EQ(JsonObject(kMembersOnLines).str(), "{}");
  // The compact layout is the default: the audit trail's bytes.
  EXPECT_EQ(JsonObject(kCompact).Add("a", JsonArray(kCompact).Add(1).Add("b")).str(),
            JsonObject().Add("a", JsonArray().Add(1).Add("b")).str());
  EXPECT_EQ(JsonObject().Add("a", JsonArray().Add(1).Add("b")).str(), R"({"a":[1,"b"]})");
}

}  // namespace
}  // namespace samenzicht::json
