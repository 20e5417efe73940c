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
  JsonArray a;
  for (const std::string& v : values) a.Add(v);
  return a.str();
}

namespace {

// Appends the separator and indentation that go before the next member or element.
void Open(const Layout& layout, bool& empty, std::string& body) {
  if (!empty) body.append(layout.between);
  body.append(layout.before_each);
  empty = false;
}

std::string Close(const Layout& layout, bool empty, const std::string& body, char bracket) {
  std::string out = body;
  if (!empty) out.append(layout.before_close);
  out += bracket;
  return out;
}

}  // namespace

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
  Open(layout_, empty_, body_);
  body_ += JsonString(key);
  body_.append(layout_.after_key);
  body_.append(json);
  return *this;
}

std::string JsonObject::str() const { return Close(layout_, empty_, body_, '}'); }

JsonArray& JsonArray::Add(std::string_view value) { return AddRaw(JsonString(value)); }

JsonArray& JsonArray::Add(int64_t value) { return AddRaw(absl::StrCat(value)); }

JsonArray& JsonArray::Add(uint64_t value) { return AddRaw(absl::StrCat(value)); }

JsonArray& JsonArray::Add(bool value) { return AddRaw(value ? "true" : "false"); }

JsonArray& JsonArray::AddRaw(std::string_view json) {
  Open(layout_, empty_, body_);
  body_.append(json);
  return *this;
}

std::string JsonArray::str() const { return Close(layout_, empty_, body_, ']'); }

}  // namespace samenzicht::json
