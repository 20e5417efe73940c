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
// With a key service (OPRF mode, `NewWithOracle`) the node holds no key: each token input
// (the same message, with the rule and epoch bound in, see OracleInput) goes, blinded, to
// the key service in one call per batch of records (TokeniseBatch), and the token is a hash
// of the OPRF output. The tokens of the two modes never coincide.
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
// The purpose bound into every OPRF input (OPRF mode).
inline constexpr char kOprfTokenPurpose[] = "samenzicht.token.oprf.v1";

// OPRF mode: the records whose token inputs are evaluated once each (TokeniseBatch); about
// 40 inputs of some 120 bytes in memory a record, so a window holds about 50 MB of inputs.
inline constexpr size_t kDedupWindowRecords = 10000;

// Turns token inputs into 32-byte tokens without a key on this node: the key service
// client (keyholder_client.h) implements it; tests may fake it.
class TokenOracle {
 public:
  virtual ~TokenOracle() = default;
  virtual uint32_t epoch() const = 0;
  // The most inputs the oracle takes in one call.
  virtual size_t max_inputs_per_call() const = 0;
  // The tokens of `inputs`, 32 bytes each, concatenated in order. Errors name the key
  // service and its status (Unavailable, ResourceExhausted, PermissionDenied, ...).
  virtual absl::StatusOr<std::string> Tokens(const std::vector<std::string_view>& inputs) const = 0;
};

// The rule names of `profile`, in order: the labels for `KeyedHasher::New`.
std::vector<std::string> RuleNames(const v1::LinkageProfile& profile);

class Tokeniser {
 public:
  // InvalidArgument if the profile does not validate (model::ValidateProfile) or the
  // hasher's labels are not the profile's rule names in order.
  static absl::StatusOr<std::unique_ptr<Tokeniser>> New(
      const v1::LinkageProfile& profile, std::unique_ptr<crypto::KeyedHasher> hasher);
  // OPRF mode: tokens from `oracle` (its epoch). InvalidArgument as above.
  static absl::StatusOr<std::unique_ptr<Tokeniser>> NewWithOracle(
      const v1::LinkageProfile& profile, std::unique_ptr<TokenOracle> oracle);

  // Tokenise for every person, into the matching `packed` (same length; InvalidArgument
  // otherwise). With a hasher: Tokenise for each. In OPRF mode, per window of
  // kDedupWindowRecords records: each distinct token input of the window once (an input
  // several records share is evaluated once), in oracle calls of up to
  // max_inputs_per_call inputs, two calls at a time (from two threads); on an oracle
  // error no further call is started and the first error is returned (the caller then
  // drops the whole batch: records of earlier windows may hold tokens).
  absl::Status TokeniseBatch(const std::vector<const Person*>& persons,
                             const std::vector<std::string*>& packed) const;

  // The OPRF input of `message` under rule `rule`: purpose 0x00 epoch (4 bytes, big-endian)
  // rule name 0x00 message, so a rule or epoch never shares an input with another.
  std::string OracleInput(size_t rule, std::string_view message) const;
  bool oprf_mode() const { return oracle_ != nullptr; }

  // Appends one token per rule whose fields are all present (one per member of the deletion
  // neighbourhood for a rule with a multi-valued field), in rule order, as packed
  // entries (report.proto `packed_tokens`, model/tokens.h) to `packed`, in one append.
  // Returns the number appended. A token of a probe rule (MatchRule.probe_when_missing)
  // gets the role PROBE when `person` lacks that field and ANCHOR when it has it; the
  // hashed message is the same for both, so a probe and an anchor of one person carry
  // equal values.
  // With a hasher only: in OPRF mode it appends nothing and returns -1 (use TokeniseBatch).
  int Tokenise(const Person& person, std::string* packed) const;

  // The profile's rule names, in order (the names of the packed entries' rule indexes).
  const std::vector<std::string>& rule_names() const { return labels_; }

  uint32_t epoch() const { return epoch_; }

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
  Tokeniser(std::vector<Rule> rules, std::vector<std::string> labels, uint32_t epoch,
            std::unique_ptr<crypto::KeyedHasher> hasher, std::unique_ptr<TokenOracle> oracle)
      : rules_(std::move(rules)), labels_(std::move(labels)), epoch_(epoch),
        hasher_(std::move(hasher)), oracle_(std::move(oracle)) {}
  static absl::StatusOr<std::vector<Rule>> Rules(const v1::LinkageProfile& profile);
  struct Pending {
    uint32_t rule;
    v1::TokenRole role;
    std::string input;  // OracleInput
  };
  // Every token input of `person`, in the order Tokenise hashes them.
  void Inputs(const Person& person, std::vector<Pending>* out) const;
  // The message of `rule` for `person`; `multi_value`, when not empty, replaces the value
  // of the rule's multi-valued field. False when a field is absent.
  bool Encode(const Rule& rule, const Person& person, std::string* out,
              std::string_view multi_value = {}) const;
  // Every message of `rule` for `person` (see MessagesForTest) into `out`.
  void Messages(const Rule& rule, const Person& person, std::vector<std::string>* out) const;

  const std::vector<Rule> rules_;
  const std::vector<std::string> labels_;
  const uint32_t epoch_;
  const std::unique_ptr<crypto::KeyedHasher> hasher_;  // shared-key mode
  const std::unique_ptr<TokenOracle> oracle_;          // OPRF mode
};

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_TOKENISER_H_
