// A report's tokens in either of its two forms (report.proto: `tokens`, one message per
// token with the rule by name, and `packed_tokens`, 34-byte entries with the rule by its
// position in the linkage profile).
//
//   std::string packed;
//   model::AppendPackedToken(rule_index, v1::TOKEN_ROLE_UNSPECIFIED, value, &packed);
//   model::ForEachToken(report, rule_names, [&](const model::TokenRef& t) { ... });
//
// Thread-safety: free functions.
#ifndef SAMENZICHT_MODEL_TOKENS_H_
#define SAMENZICHT_MODEL_TOKENS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::model {

inline constexpr size_t kTokenValueBytes = 32;
inline constexpr size_t kPackedTokenBytes = 2 + kTokenValueBytes;
// The rule index of a packed entry is one byte (ValidateProfile enforces it).
inline constexpr size_t kMaxProfileRules = 256;

// One token of a report, as sent: nothing in it is validated.
struct TokenRef {
  int index;               // its position among the report's tokens (in its form's field)
  int rule;                // position in the profile's rules; -1 when `tokens[i].rule` names none
  int role;                // the TokenRole number as sent (may be unknown)
  std::string_view value;  // as sent (any length in the `tokens` form; 32 bytes when packed)
};

// Appends one entry to `packed`. `rule` must be below kMaxProfileRules.
void AppendPackedToken(size_t rule, v1::TokenRole role, const uint8_t value[kTokenValueBytes],
                       std::string* packed);

// The number of tokens of `r`: tokens_size() plus whole packed entries.
int TokenCount(const v1::Report& r);

// `f` for each token of `r`: those of `tokens` (rule names looked up in `rule_names`, the
// profile's rules in order), then each whole entry of `packed_tokens`. A trailing partial
// entry is not visited (the intake refuses such a report first).
void ForEachToken(const v1::Report& r, const std::vector<std::string>& rule_names,
                  absl::FunctionRef<void(const TokenRef&)> f);

// Rewrites `packed_tokens` as `tokens` (rule names from `rule_names`): the form of files
// that are read without the profile. InvalidArgument naming the entry if one is partial
// or names no rule; `r` is then unchanged.
absl::Status UnpackTokens(const std::vector<std::string>& rule_names, v1::Report* r);

}  // namespace samenzicht::model

#endif  // SAMENZICHT_MODEL_TOKENS_H_
