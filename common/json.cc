#include "common/json.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace samenzicht::json {

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string JsonString(std::string_view s) { return absl::StrCat("\"", JsonEscape(s), "\""); }

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i) {
    absl::StrAppend(&out, i ? "," : "", JsonString(values[i]));
  }
  return out + "]";
}

JsonObject& JsonObject::Add(std::string_view key, std::string_view value) {
  return AddRaw(key, JsonString(value));
}

JsonObject& JsonObject::Add(std::string_view key, int64_t value) {
  return AddRaw(key, absl::StrCat(value));
}

JsonObject& JsonObject::Add(std::string_view key, uint64_t value) {
  return AddRaw(key, absl::StrCat(value));
}

JsonObject& JsonObject::Add(std::string_view key, bool value) {
  return AddRaw(key, value ? "true" : "false");
}

JsonObject& JsonObject::AddRaw(std::string_view key, std::string_view json) {
  if (body_.size() > 1) body_ += ",";
  body_ += JsonString(key);
  body_ += ":";
  body_.append(json.data(), json.size());
  return *this;
}

}  // namespace samenzicht::json
