// National identity numbers by scheme: the BSN (built in) and the schemes a
// linkage profile configures (LinkageProfile.national_id_schemes), e.g. a Belgian
// rijksregisternummer (mod-97 check) or a passport or V-number (a pattern only).
//
//   ASSIGN_OR_RETURN(NationalIds ids, NationalIds::FromProfile(profile));
//   auto v = ids.Normalise("be_rrn", "85.07.30-033.28");   // "be_rrn:85073003328"
//   auto b = ids.Normalise("", "1112.22.333");               // BSN: "111222333"
//
// The value set as FIELD_NATIONAL_ID: a BSN as its 9 digits (as before, so BSN tokens do not
// change); an id of another scheme as "<scheme>:<normalised id>". A BSN value has no ':', so
// ids of different schemes never give the same token (the rule `nid` hashes the value).
//
// Normalisation of a configured scheme: surrounding space trimmed, ASCII letters upper-cased,
// spaces, dots, dashes and slashes removed; any other character refuses the id. The result
// must match the scheme's pattern whole, then pass its check:
//  - CHECK_ELEVEN_TEST: 9 digits passing the BSN eleven-test;
//  - CHECK_BE_MOD97: 11 digits; the last two equal 97 - (first nine mod 97), or for a person
//    born from 2000 on, 97 - ((2 followed by the first nine) mod 97);
//  - CHECK_NONE: the pattern only.
// A refused id returns InvalidArgument with a message that never holds the value; the
// caller names the record and field in a warning and leaves the id out (like a BSN failing
// the eleven-test).
//
// Thread-safety: immutable after FromProfile; Normalise may be called concurrently.
#ifndef SAMENZICHT_AGENCY_NODE_NATIONAL_ID_H_
#define SAMENZICHT_AGENCY_NODE_NATIONAL_ID_H_

#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::agency_node {

// The scheme name of the BSN in the CSV column `national_id_scheme` (also the default).
inline constexpr char kBsnScheme[] = "bsn";

class NationalIds {
 public:
  // The BSN only.
  NationalIds() = default;
  // The BSN and the profile's schemes; InvalidArgument for a profile that does not validate.
  static absl::StatusOr<NationalIds> FromProfile(const v1::LinkageProfile& profile);

  // `scheme` is matched case-insensitively; "" and "bsn" mean the BSN. InvalidArgument for
  // an unknown scheme, or an id that does not normalise, match or pass its check.
  absl::StatusOr<std::string> Normalise(std::string_view scheme, std::string_view id) const;

 private:
  struct Scheme {
    std::string name;
    std::shared_ptr<const std::regex> pattern;
    v1::NationalIdScheme::Check check;
  };
  std::vector<Scheme> schemes_;
};

// The Belgian rijksregisternummer check over 11 digits (see above).
bool PassesBelgianMod97(std::string_view eleven_digits);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_NATIONAL_ID_H_
