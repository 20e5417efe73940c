#include "model/vocabulary.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/month.h"
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

// The words of every enum dimension, built once from the descriptors (parsing
// categories by descriptor look-up per CSV cell was 7% of pseudonymisation time).
struct EnumWords {
  // Values other than 0 whose name starts with the prefix: (name without the prefix,
  // number), in declaration order. ParseWord matches the upper-cased word against these.
  std::vector<std::pair<std::string, int>> by_suffix;
  // Number -> Word(); the first value declared with a number, as FindValueByNumber.
  std::vector<std::pair<int, std::string>> by_number;
  bool is_enum = false;  // EnumOf(d) != nullptr
};

const EnumWords* WordsOf(Dimension d) {
  static const auto* table = [] {
    auto* t = new std::vector<EnumWords>(v1::Dimension_descriptor()->value_count() + 1);
    for (int i = 0; i < v1::Dimension_descriptor()->value_count(); ++i) {
      const int dim = v1::Dimension_descriptor()->value(i)->number();
      const auto* e = EnumOf(static_cast<Dimension>(dim));
      if (e == nullptr || dim < 0) continue;
      if (dim >= static_cast<int>(t->size())) t->resize(dim + 1);
      EnumWords& w = (*t)[dim];
      w.is_enum = true;
      const std::string prefix = Prefix(e);
      for (int k = 0; k < e->value_count(); ++k) {
        const auto* v = e->value(k);
        if (v->number() == 0) continue;
        if (absl::StartsWith(v->name(), prefix)) {
          w.by_suffix.emplace_back(v->name().substr(prefix.size()), v->number());
        }
        if (e->FindValueByNumber(v->number()) == v) {
          w.by_number.emplace_back(v->number(),
                                   absl::AsciiStrToLower(v->name().substr(prefix.size())));
        }
      }
    }
    return t;
  }();
  const int i = static_cast<int>(d);
  if (i < 0 || i >= static_cast<int>(table->size()) || !(*table)[i].is_enum) return nullptr;
  return &(*table)[i];
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
  const EnumWords* words = WordsOf(d);
  if (words == nullptr) return absl::InvalidArgumentError(absl::StrCat(DimensionName(d), " is not an enum"));
  // As the value named prefix + upper-cased word, with a number other than 0.
  for (const auto& [suffix, number] : words->by_suffix) {
    if (suffix.size() != word.size()) continue;
    size_t i = 0;
    while (i < word.size() && absl::ascii_toupper(static_cast<unsigned char>(word[i])) == suffix[i]) ++i;
    if (i == word.size()) return number;
  }
  // The word itself is not echoed: `gender` is also an identifier column.
  return absl::NotFoundError(absl::StrFormat("%s: unknown value; valid: %s", DimensionName(d),
                                             absl::StrJoin(Words(d), ", ")));
}

std::string Word(Dimension d, int value) {
  const EnumWords* words = WordsOf(d);
  if (words == nullptr || value == 0) return "unknown";
  for (const auto& [number, word] : words->by_number) {
    if (number == value) return word;
  }
  return "unknown";
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
  return Month(yyyymm).Text();
}

}  // namespace samenzicht::model
