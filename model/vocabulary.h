// The words used for categories in CSV files, on the command line and in tables.
//
// Derived from the proto enums, so there is one source of truth: the CSV word of
// `FORM_SEXUAL_AND_CRIMINAL` is "sexual_and_criminal", of `AGE_BAND_27_PLUS` "27_plus",
// of `DOMAIN_YOUTH_CARE` "youth_care". The UNSPECIFIED value's word is "unknown".
#ifndef SAMENZICHT_MODEL_VOCABULARY_H_
#define SAMENZICHT_MODEL_VOCABULARY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::model {

using v1::Dimension;

// "form", "age_band", ..., "domain", "signal_month".
std::string DimensionName(Dimension d);
// InvalidArgument naming the word and listing the valid names.
absl::StatusOr<Dimension> ParseDimension(std::string_view name);
// True for the categories of which a report may carry several values.
bool IsMultiValued(Dimension d);
// True for dimensions backed by a proto enum (all but area and signal_month).
bool IsEnumDimension(Dimension d);

// The enum number of `word` for an enum dimension. "" and "unknown" give 0. NotFound
// (message lists the valid words, never echoes more than the word) for an unknown word.
absl::StatusOr<int> ParseWord(Dimension d, std::string_view word);
// The word of enum value `value`; "unknown" for 0 or out of range.
std::string Word(Dimension d, int value);
// All words of an enum dimension except "unknown", in enum order.
std::vector<std::string> Words(Dimension d);

// YYYYMM -> "2024-03"; 0 -> "unknown".
std::string MonthWord(uint32_t yyyymm);

}  // namespace samenzicht::model

#endif  // SAMENZICHT_MODEL_VOCABULARY_H_
