// The one JSON writer of the project: string literals, flat objects and string arrays, for
// the audit trail's details, the node's and the aggregator's JSON output and the label
// table the dashboard loads.
//
//   std::string s = json::JsonString("a \"b\"");  // "a \"b\""
//   json::JsonObject o;
//   o.Add("agency", "police").Add("accepted", 12).Add("late", false);
//   o.str();  // {"agency":"police","accepted":12,"late":false}
//
// Escaping (RFC 8259): `"` and `\` are escaped, newline, carriage return and tab as \n, \r
// and \t, every other byte below 0x20 as \u00xx (lower-case hex); every other byte, UTF-8
// included, is copied as it is (the input is not checked to be valid UTF-8). The audit
// trail is hash-chained over these bytes: the output of these functions never changes.
//
// Thread-safety: JsonObject is a value type; the functions are pure.
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

// A flat JSON object built field by field, in insertion order, without spaces.
class JsonObject {
 public:
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
  // `json` must already be valid JSON (a literal, an array or an object).
  JsonObject& AddRaw(std::string_view key, std::string_view json);
  std::string str() const { return body_ + "}"; }

 private:
  std::string body_ = "{";
};

}  // namespace samenzicht::json

#endif  // SAMENZICHT_COMMON_JSON_H_
