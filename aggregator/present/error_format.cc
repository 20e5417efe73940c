#include "aggregator/present/error_format.h"

#include <optional>

#include "aggregator/query/disclosure.h"
#include "common/json.h"

namespace samenzicht::aggregator {

std::string FormatErrorJson(const absl::Status& s) {
  json::JsonObject out(json::kSpaced);
  out.Add("error", std::string(s.message())).Add("code", absl::StatusCodeToString(s.code()));
  if (std::optional<Refusal> r = RefusalOf(s)) {
    json::JsonObject values(json::kSpaced);
    for (const auto& [name, value] : r->values) values.Add(name, value);
    json::JsonArray options(json::kSpaced);
    for (const std::string& option : r->options) options.Add(option);
    out.Add("refusal", json::JsonObject(json::kSpaced)
                           .Add("key", r->key)
                           .Add("values", values)
                           .Add("options", options));
  }
  return out.str() + "\n";
}

}  // namespace samenzicht::aggregator
