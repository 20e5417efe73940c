#include "agency_node/national_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agency_node/normalise.h"
#include "common/status_macros.h"
#include "model/config.h"

namespace samenzicht::agency_node {

absl::StatusOr<NationalIds> NationalIds::FromProfile(const v1::LinkageProfile& profile) {
  RETURN_IF_ERROR(model::ValidateProfile(profile));
  NationalIds ids;
  for (const auto& s : profile.national_id_schemes()) {
    ids.schemes_.push_back(
        {s.name(), std::make_shared<const std::regex>(s.pattern(), std::regex::ECMAScript),
         s.check()});
  }
  return ids;
}

bool PassesBelgianMod97(std::string_view eleven_digits) {
  if (eleven_digits.size() != 11) return false;
  uint64_t base = 0;
  for (size_t i = 0; i < 11; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(eleven_digits[i]))) return false;
    if (i < 9) base = base * 10 + static_cast<uint64_t>(eleven_digits[i] - '0');
  }
  const uint64_t check = static_cast<uint64_t>((eleven_digits[9] - '0') * 10 + (eleven_digits[10] - '0'));
  return 97 - base % 97 == check || 97 - (2000000000ull + base) % 97 == check;
}

absl::StatusOr<std::string> NationalIds::Normalise(std::string_view scheme,
                                                   std::string_view id) const {
  const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(
      absl::string_view(scheme.data(), scheme.size())));
  if (name.empty() || name == kBsnScheme) return NormaliseBsn(id);
  const Scheme* found = nullptr;
  for (const Scheme& s : schemes_) {
    if (s.name == name) found = &s;
  }
  if (found == nullptr) {
    return absl::InvalidArgumentError(
        "national_id_scheme is not a scheme of the linkage profile");
  }
  std::string v;
  for (char c : absl::StripAsciiWhitespace(absl::string_view(id.data(), id.size()))) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      v.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
    } else if (c != ' ' && c != '.' && c != '-' && c != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("not an identity number of scheme ", found->name));
    }
  }
  if (!std::regex_match(v, *found->pattern)) {
    return absl::InvalidArgumentError(
        absl::StrCat("does not match the pattern of scheme ", found->name));
  }
  bool passes = true;
  switch (found->check) {
    case v1::NationalIdScheme::CHECK_ELEVEN_TEST:
      passes = v.size() == 9 && PassesElevenTest(v);
      break;
    case v1::NationalIdScheme::CHECK_BE_MOD97:
      passes = PassesBelgianMod97(v);
      break;
    default:
      break;
  }
  if (!passes) {
    return absl::InvalidArgumentError(
        absl::StrCat("fails the check of scheme ", found->name));
  }
  return absl::StrCat(found->name, ":", v);
}

}  // namespace samenzicht::agency_node
