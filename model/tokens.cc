#include "model/tokens.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace samenzicht::model {

void AppendPackedToken(size_t rule, v1::TokenRole role, const uint8_t value[kTokenValueBytes],
                       std::string* packed) {
  const size_t at = packed->size();
  packed->resize(at + kPackedTokenBytes);
  char* p = packed->data() + at;
  p[0] = static_cast<char>(static_cast<uint8_t>(rule));
  p[1] = static_cast<char>(static_cast<uint8_t>(role));
  std::copy(value, value + kTokenValueBytes, reinterpret_cast<uint8_t*>(p + 2));
}

int TokenCount(const v1::Report& r) {
  return r.tokens_size() + static_cast<int>(r.packed_tokens().size() / kPackedTokenBytes);
}

void ForEachToken(const v1::Report& r, const std::vector<std::string>& rule_names,
                  absl::FunctionRef<void(const TokenRef&)> f) {
  for (int i = 0; i < r.tokens_size(); ++i) {
    const v1::Token& t = r.tokens(i);
    const auto it = std::find(rule_names.begin(), rule_names.end(), t.rule());
    const int rule = it == rule_names.end() ? -1 : static_cast<int>(it - rule_names.begin());
    f(TokenRef{i, rule, t.role(), t.value()});
  }
  const std::string& packed = r.packed_tokens();
  const size_t n = packed.size() / kPackedTokenBytes;
  for (size_t i = 0; i < n; ++i) {
    const char* p = packed.data() + i * kPackedTokenBytes;
    f(TokenRef{static_cast<int>(i), static_cast<uint8_t>(p[0]), static_cast<uint8_t>(p[1]),
               std::string_view(p + 2, kTokenValueBytes)});
  }
}

absl::Status UnpackTokens(const std::vector<std::string>& rule_names, v1::Report* r) {
  const std::string& packed = r->packed_tokens();
  if (packed.size() % kPackedTokenBytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat("packed_tokens[", packed.size() / kPackedTokenBytes,
                                                   "] is a partial entry"));
  }
  for (size_t i = 0; i < packed.size(); i += kPackedTokenBytes) {
    if (static_cast<uint8_t>(packed[i]) >= rule_names.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "packed_tokens[", i / kPackedTokenBytes, "] names no rule of the linkage profile"));
    }
  }
  for (size_t i = 0; i < packed.size(); i += kPackedTokenBytes) {
    v1::Token* t = r->add_tokens();
    t->set_rule(rule_names[static_cast<uint8_t>(packed[i])]);
    t->set_role(static_cast<v1::TokenRole>(static_cast<uint8_t>(packed[i + 1])));
    t->set_value(packed.data() + i + 2, kTokenValueBytes);
  }
  r->clear_packed_tokens();
  return absl::OkStatus();
}

}  // namespace samenzicht::model
