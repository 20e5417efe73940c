#include "model/vocabulary.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::model {
namespace {

const google::protobuf::EnumDescriptor* EnumOf(Dimension d) {
  switch (d) {
    case v1::DIMENSION_FORM: return v1::Form_descriptor();
    case v1::DIMENSION_CONTACT: return v1::Contact_descriptor();
    case v1::DIMENSION_AGE_BAND: return v1::AgeBand_descriptor();
    case v1::DIMENSION_GENDER: return v1::Gender_descriptor();
    case v1::DIMENSION_BACKGROUND: return v1::Background_descriptor();
    case v1::DIMENSION_LIVING_SITUATION: return v1::LivingSituation_descriptor();
    case v1::DIMENSION_RECRUITMENT_LOCATION: return v1::RecruitmentLocation_descriptor();
    case v1::DIMENSION_COERCION: return v1::Coercion_descriptor();
    case v1::DIMENSION_FORCED_CRIME: return v1::ForcedCrime_descriptor();
    case v1::DIMENSION_DOMAIN: return v1::Domain_descriptor();
    default: return nullptr;
  }
}

// Enum value names carry the upper-case enum name as prefix: FORM_, AGE_BAND_, ...
std::string Prefix(const google::protobuf::EnumDescriptor* e) {
  std::string unspecified = e->value(0)->name();  // e.g. "AGE_BAND_UNSPECIFIED"
  return unspecified.substr(0, unspecified.size() - std::string("UNSPECIFIED").size());
}

}  // namespace

std::string DimensionName(Dimension d) {
  std::string n = v1::Dimension_Name(d);
  return absl::AsciiStrToLower(n.substr(std::string("DIMENSION_").size()));
}

absl::StatusOr<Dimension> ParseDimension(std::string_view name) {
  std::vector<std::string> names;
  for (int i = 1; i < v1::Dimension_descriptor()->value_count(); ++i) {
    Dimension d = static_cast<Dimension>(v1::Dimension_descriptor()->value(i)->number());
    if (DimensionName(d) == name) return d;
    names.push_back(DimensionName(d));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown category '", std::string(name),
                                                 "'; valid: ", absl::StrJoin(names, ", ")));
}

bool IsMultiValued(Dimension d) {
  return d == v1::DIMENSION_LIVING_SITUATION || d == v1::DIMENSION_RECRUITMENT_LOCATION ||
         d == v1::DIMENSION_COERCION || d == v1::DIMENSION_FORCED_CRIME;
}

bool IsEnumDimension(Dimension d) { return EnumOf(d) != nullptr; }

absl::StatusOr<int> ParseWord(Dimension d, std::string_view word) {
  if (word.empty() || word == "unknown") return 0;
  const auto* e = EnumOf(d);
  if (e == nullptr) return absl::InvalidArgumentError(absl::StrCat(DimensionName(d), " is not an enum"));
  std::string upper = absl::StrCat(Prefix(e), absl::AsciiStrToUpper(std::string(word)));
  const auto* v = e->FindValueByName(upper);
  if (v != nullptr && v->number() != 0) return v->number();
  // The word itself is not echoed: `gender` is also an identifier column.
  return absl::NotFoundError(absl::StrFormat("%s: unknown value; valid: %s", DimensionName(d),
                                             absl::StrJoin(Words(d), ", ")));
}

std::string Word(Dimension d, int value) {
  const auto* e = EnumOf(d);
  if (e == nullptr || value == 0) return "unknown";
  const auto* v = e->FindValueByNumber(value);
  if (v == nullptr) return "unknown";
  return absl::AsciiStrToLower(v->name().substr(Prefix(e).size()));
}

std::vector<std::string> Words(Dimension d) {
  std::vector<std::string> out;
  const auto* e = EnumOf(d);
  if (e == nullptr) return out;
  for (int i = 0; i < e->value_count(); ++i) {
    if (e->value(i)->number() != 0) out.push_back(Word(d, e->value(i)->number()));
  }
  return out;
}

std::string MonthWord(uint32_t yyyymm) {
  if (yyyymm == 0) return "unknown";
  return absl::StrFormat("%04d-%02d", yyyymm / 100, yyyymm % 100);
}

}  // namespace samenzicht::model
