// The one JSON writer of the project: string literals, objects and arrays (nested through
// Add), for the audit trail's details, the node's and the aggregator's JSON output, the
// dashboard's answers and the label table the dashboard loads.
//
//   std::string s = json::JsonString("a \"b\"");  // "a \"b\""
//   json::JsonObject o;
//   o.Add("agency", "police").Add("accepted", 12).Add("late", false);
//   o.str();  // {"agency":"police","accepted":12,"late":false}
//
//   json::JsonArray rows(json::kSpaced);
//   rows.Add(json::JsonObject(json::kSpaced).Add("month", 202403).AddNull("value"));
//   rows.str();  // [{"month": 202403, "value": null}]
//
// Escaping (RFC 8259): `"` and `\` are escaped, newline, carriage return and tab as \n, \r
// and \t, every other byte below 0x20 as \u00xx (lower-case hex); every other byte, UTF-8
// included, is copied as it is (the input is not checked to be valid UTF-8). The audit
// trail is hash-chained over these bytes: the output of these functions never changes.
//
// White space is the Layout's: none by default (kCompact, the audit trail's), one space after
// each comma and colon (kSpaced), or members and elements on lines of their own.
//
// Thread-safety: JsonObject and JsonArray are value types; the functions are pure.
#ifndef SAMENZICHT_COMMON_JSON_H_
#define SAMENZICHT_COMMON_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace samenzicht::json {

// `s` escaped as the inside of a JSON string literal (no quotes).
std::string JsonEscape(std::string_view s);
// `s` as a JSON string literal, quotes included.
std::string JsonString(std::string_view s);
// ["a","b"] (no spaces).
std::string JsonStringArray(const std::vector<std::string>& values);

// Where an object or an array puts white space. The views must outlive the object or array
// (string literals do).
struct Layout {
  std::string_view before_each;      // before every member or element
  std::string_view between = ",";    // between two members or elements
  std::string_view after_key = ":";  // between a member's key and its value
  std::string_view before_close;     // before the closing bracket, when not empty
};
// {"a":1,"b":[2,3]}
inline constexpr Layout kCompact{};
// {"a": 1, "b": [2, 3]}
inline constexpr Layout kSpaced{"", ", ", ": ", ""};
// A top-level object of a document people read: each member on a line of its own, indented by
// two spaces, the closing brace on a line of its own.
inline constexpr Layout kMembersOnLines{"\n  ", ",", ": ", "\n"};

class JsonArray;

// A JSON object built member by member, in insertion order (keys are not checked to be
// distinct).
class JsonObject {
 public:
  JsonObject() = default;
  explicit JsonObject(const Layout& layout) : layout_(layout) {}

  JsonObject& Add(std::string_view key, std::string_view value);
  JsonObject& Add(std::string_view key, const char* value) {
    return Add(key, std::string_view(value));
  }
  JsonObject& Add(std::string_view key, int64_t value);
  JsonObject& Add(std::string_view key, uint64_t value);
  JsonObject& Add(std::string_view key, int value) { return Add(key, static_cast<int64_t>(value)); }
  JsonObject& Add(std::string_view key, uint32_t value) {
    return Add(key, static_cast<int64_t>(value));
  }
  JsonObject& Add(std::string_view key, bool value);
  JsonObject& Add(std::string_view key, const JsonObject& value) {
    return AddRaw(key, value.str());
  }
  JsonObject& Add(std::string_view key, const JsonArray& value);
  JsonObject& AddNull(std::string_view key) { return AddRaw(key, "null"); }
  // `json` must already be valid JSON (a literal, an array or an object).
  JsonObject& AddRaw(std::string_view key, std::string_view json);
  std::string str() const;

 private:
  Layout layout_;
  std::string body_ = "{";
  bool empty_ = true;
};

// A JSON array built element by element.
class JsonArray {
 public:
  JsonArray() = default;
  explicit JsonArray(const Layout& layout) : layout_(layout) {}

  JsonArray& Add(std::string_view value);
  JsonArray& Add(const char* value) { return Add(std::string_view(value)); }
  JsonArray& Add(const std::string& value) { return Add(std::string_view(value)); }
  JsonArray& Add(int64_t value);
  JsonArray& Add(uint64_t value);
  JsonArray& Add(int value) { return Add(static_cast<int64_t>(value)); }
  JsonArray& Add(uint32_t value) { return Add(static_cast<int64_t>(value)); }
  JsonArray& Add(bool value);
  JsonArray& Add(const JsonObject& value) { return AddRaw(value.str()); }
  JsonArray& Add(const JsonArray& value) { return AddRaw(value.str()); }
  JsonArray& AddNull() { return AddRaw("null"); }
  // `json` must already be valid JSON.
  JsonArray& AddRaw(std::string_view json);
  std::string str() const;

 private:
  Layout layout_;
  std::string body_ = "[";
  bool empty_ = true;
};

inline JsonObject& JsonObject::Add(std::string_view key, const JsonArray& value) {
  return AddRaw(key, value.str());
}

}  // namespace samenzicht::json

#endif  // SAMENZICHT_COMMON_JSON_H_
