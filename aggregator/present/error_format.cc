#include "aggregator/present/error_format.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "aggregator/query/disclosure.h"
#include "common/json.h"

namespace samenzicht::aggregator {

using json::JsonString;

std::string FormatErrorJson(const absl::Status& s) {
  std::string out = absl::StrCat("{\"error\": ", JsonString(std::string(s.message())),
                                 ", \"code\": ", JsonString(absl::StatusCodeToString(s.code())));
  if (std::optional<Refusal> r = RefusalOf(s)) {
    absl::StrAppend(&out, ", \"refusal\": {\"key\": ", JsonString(r->key), ", \"values\": {");
    for (size_t i = 0; i < r->values.size(); ++i) {
      absl::StrAppend(&out, i ? ", " : "", JsonString(r->values[i].first), ": ",
                      JsonString(r->values[i].second));
    }
    out += "}, \"options\": [";
    for (size_t i = 0; i < r->options.size(); ++i) {
      absl::StrAppend(&out, i ? ", " : "", JsonString(r->options[i]));
    }
    out += "]}";
  }
  return out + "}\n";
}

}  // namespace samenzicht::aggregator
