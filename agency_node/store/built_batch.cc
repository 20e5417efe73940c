#include "agency_node/store/built_batch.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/encoding.h"
#include "model/vocabulary.h"

namespace samenzicht::agency_node {

std::string BatchDigest(const std::string& payload) {
  return crypto::Digest(kBatchSignatureContext, payload);
}

std::string CategoriesSummary(const v1::Report& r) {
  using model::Dimension;
  std::vector<std::string> parts;
  auto one = [&](const char* name, Dimension d, int v) {
    if (v != 0) parts.push_back(absl::StrCat(name, "=", model::Word(d, v)));
  };
  auto many = [&](const char* name, Dimension d, const auto& values) {
    if (values.empty()) return;
    std::vector<std::string> w;
    for (int v : values) w.push_back(model::Word(d, v));
    parts.push_back(absl::StrCat(name, "=", absl::StrJoin(w, ";")));
  };
  one("form", Dimension::DIMENSION_FORM, r.form());
  one("contact", Dimension::DIMENSION_CONTACT, r.contact());
  one("age_band", Dimension::DIMENSION_AGE_BAND, r.age_band());
  one("gender", Dimension::DIMENSION_GENDER, r.gender());
  one("background", Dimension::DIMENSION_BACKGROUND, r.background());
  many("living_situation", Dimension::DIMENSION_LIVING_SITUATION, r.living_situation());
  many("recruitment_location", Dimension::DIMENSION_RECRUITMENT_LOCATION, r.recruitment_location());
  many("coercion", Dimension::DIMENSION_COERCION, r.coercion());
  many("forced_crime", Dimension::DIMENSION_FORCED_CRIME, r.forced_crime());
  if (!r.area().empty()) parts.push_back(absl::StrCat("area=", r.area()));
  if (r.signal_month() != 0)
    parts.push_back(absl::StrCat("month=", model::MonthWord(r.signal_month())));
  return absl::StrJoin(parts, " ");
}

}  // namespace samenzicht::agency_node
