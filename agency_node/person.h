// The normalised identifier fields of one person, as inputs to token derivation.
//
// One slot per `v1::Field` value; an empty slot means "absent" (missing in the CSV, or
// refused by normalisation). A `Person` never leaves the process and is never logged.
#ifndef SAMENZICHT_AGENCY_NODE_PERSON_H_
#define SAMENZICHT_AGENCY_NODE_PERSON_H_

#include <array>
#include <string>

#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::agency_node {

inline constexpr int kFieldSlots = v1::Field_MAX + 1;

struct Person {
  std::array<std::string, kFieldSlots> fields;

  const std::string& Get(v1::Field f) const { return fields[static_cast<int>(f)]; }
  void Set(v1::Field f, std::string value) { fields[static_cast<int>(f)] = std::move(value); }
  bool Has(v1::Field f) const { return !Get(f).empty(); }
};

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_PERSON_H_
