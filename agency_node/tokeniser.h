// Tokens: one keyed hash per match rule of the linkage profile whose fields are all
// present in a `Person`.
//
// The hashed message is an unambiguous encoding of the rule's normalised field values, in
// rule order: for each field, its `v1::Field` number (1 byte), the value's length (4 bytes,
// big-endian) and the value. Rule and key epoch are separated by the hasher's per-label
// subkeys, so the same values under two rules or epochs give unrelated tokens.
//
//   ASSIGN_OR_RETURN(auto hasher, crypto::KeyedHasher::New(key, kTokenPurpose, epoch,
//                                                          RuleNames(profile)));
//   ASSIGN_OR_RETURN(auto tokeniser, Tokeniser::New(profile, std::move(hasher)));
//   tokeniser->Tokenise(person, report.mutable_packed_tokens());
//
// Thread-safety: immutable after `New`; `Tokenise` may be called concurrently.
#ifndef SAMENZICHT_AGENCY_NODE_TOKENISER_H_
#define SAMENZICHT_AGENCY_NODE_TOKENISER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agency_node/person.h"
#include "crypto/keyed_hash.h"
#include "samenzicht/v1/profile.pb.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::agency_node {

inline constexpr char kTokenPurpose[] = "samenzicht.token.v1";

// The rule names of `profile`, in order: the labels for `KeyedHasher::New`.
std::vector<std::string> RuleNames(const v1::LinkageProfile& profile);

class Tokeniser {
 public:
  // InvalidArgument if the profile does not validate (model::ValidateProfile) or the
  // hasher's labels are not the profile's rule names in order.
  static absl::StatusOr<std::unique_ptr<Tokeniser>> New(
      const v1::LinkageProfile& profile, std::unique_ptr<crypto::KeyedHasher> hasher);

  // Appends one token per rule whose fields are all present (one per member of the deletion
  // neighbourhood for a rule with a multi-valued field), in rule order, as packed
  // entries (report.proto `packed_tokens`, model/tokens.h) to `packed`, in one append.
  // Returns the number appended. A token of a probe rule (MatchRule.probe_when_missing)
  // gets the role PROBE when `person` lacks that field and ANCHOR when it has it; the
  // hashed message is the same for both, so a probe and an anchor of one person carry
  // equal values.
  int Tokenise(const Person& person, std::string* packed) const;

  // The profile's rule names, in order (the names of the packed entries' rule indexes).
  const std::vector<std::string>& rule_names() const { return hasher_->labels(); }

  uint32_t epoch() const { return hasher_->epoch(); }

  // The encoded message of `rule` for `person` (tests); "" when a field is absent. For a
  // rule with a multi-valued field, the message with the field's base value.
  std::string EncodeForTest(size_t rule, const Person& person) const;

  // Every message `rule` hashes for `person`, in the order Tokenise hashes them: one for an
  // ordinary rule, one per member of the deletion neighbourhood for a rule with a
  // multi-valued field (model::IsMultiValuedField); none when a field is absent. For tests
  // and for the benchmark's frequency attack, which must see what the hash hides.
  std::vector<std::string> MessagesForTest(size_t rule, const Person& person) const;

 private:
  struct Rule {
    std::string name;
    std::vector<v1::Field> fields;
    v1::Field probe_when_missing;  // FIELD_UNSPECIFIED: an ordinary rule
    v1::Field multi = v1::FIELD_UNSPECIFIED;  // the rule's multi-valued field, if any
  };
  Tokeniser(std::vector<Rule> rules, std::unique_ptr<crypto::KeyedHasher> hasher)
      : rules_(std::move(rules)), hasher_(std::move(hasher)) {}
  // The message of `rule` for `person`; `multi_value`, when not empty, replaces the value
  // of the rule's multi-valued field. False when a field is absent.
  bool Encode(const Rule& rule, const Person& person, std::string* out,
              std::string_view multi_value = {}) const;
  // Every message of `rule` for `person` (see MessagesForTest) into `out`.
  void Messages(const Rule& rule, const Person& person, std::vector<std::string>* out) const;

  const std::vector<Rule> rules_;
  const std::unique_ptr<crypto::KeyedHasher> hasher_;
};

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_TOKENISER_H_
