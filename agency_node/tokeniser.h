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
// With a key service (OPRF mode, `NewWithOracle`) the node holds no key. The key service
// evaluates the OPRF once per distinct value part (each field value, and each of the two
// names of a FIELD_NAME_DELETIONS pair, split at kNameJoiner), blinded, in one call per
// batch of records (TokeniseBatch); the node combines the outputs of a rule's parts with an
// unkeyed hash into the token (see TokeniseBatch). Without the key service no output, and
// so no token, can be computed. The tokens of the two modes never coincide.
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
// OPRF mode: the purpose bound into every OPRF input (OracleInput).
inline constexpr char kOprfValuePurpose[] = "samenzicht.value.oprf.v2";
// OPRF mode: the domain of the unkeyed digest that combines a token's value outputs.
inline constexpr char kOprfTokenDomain[] = "samenzicht.token.oprf.v2";

// OPRF mode: the records whose tokens are laid out at a time (TokeniseBatch); about 80
// tokens of some 5 part references each a record.
inline constexpr size_t kDedupWindowRecords = 10000;
// OPRF mode: the most distinct value parts whose outputs TokeniseBatch keeps for reuse by
// later windows (about 100 bytes each); beyond it the kept outputs are dropped at the next
// window and parts seen again are evaluated again.
inline constexpr size_t kMaxKeptValueOutputs = 2000000;
// OPRF mode: the fewest inputs in one oracle call when a window's fresh parts are split
// into several calls to keep two threads busy.
inline constexpr size_t kMinInputsPerCall = 256;

// Evaluates the OPRF without a key on this node: the key service client
// (keyholder_client.h) implements it; tests may fake it.
class TokenOracle {
 public:
  virtual ~TokenOracle() = default;
  virtual uint32_t epoch() const = 0;
  // The most inputs the oracle takes in one call.
  virtual size_t max_inputs_per_call() const = 0;
  // For each input, 32 bytes derived from its OPRF output (keyholder_client.h: a digest of
  // the 64-byte output), concatenated in order. Errors name the key service and its status
  // (Unavailable, ResourceExhausted, PermissionDenied, ...).
  virtual absl::StatusOr<std::string> Evaluate(const std::vector<std::string_view>& inputs) const = 0;
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
  // kDedupWindowRecords records: the tokens of every record are laid out as the value parts
  // of their fields (a value of a FIELD_NAME_DELETIONS pair is two parts, split at
  // kNameJoiner; any other value is one); each part not evaluated before in this call goes
  // to the oracle once (OracleInput), in calls of up to max_inputs_per_call inputs, two at
  // a time (from two threads); then each token is
  //   Digest(kOprfTokenDomain, epoch (4 bytes, big-endian) rule name 0x00
  //          then per field: field number (1 byte), part count (2 bytes, big-endian),
  //                          the 32-byte oracle output of each part),
  // so the same parts under two rules, fields or epochs give unrelated tokens, and a token
  // is equal for two records exactly when their rule's values are. On an oracle error no
  // further call is started and the first error is returned (the caller then drops the
  // whole batch: records of earlier windows may hold tokens).
  absl::Status TokeniseBatch(const std::vector<const Person*>& persons,
                             const std::vector<std::string*>& packed) const;

  // The OPRF input of one value part: kOprfValuePurpose 0x00 epoch (4 bytes, big-endian)
  // part. The same part under any field or rule is one input (one evaluation); the
  // combining digest keeps rules and fields apart.
  std::string OracleInput(std::string_view part) const;
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
  // OPRF mode: a token laid out, its parts in `refs` (see TokeniseBatch).
  struct Laid {
    uint32_t rule;
    v1::TokenRole role;
    uint32_t first, end;  // its entries in the window's refs
  };
  class PartTable;
  // Lays out every token of `person` (in the order Tokenise hashes them) into `tokens` and
  // `refs`, new parts into `table`.
  void LayOut(const Person& person, PartTable* table, std::vector<Laid>* tokens,
              std::vector<uint32_t>* refs) const;
  // Evaluates the parts `table` has not evaluated yet, two oracle calls at a time.
  absl::Status EvaluateFresh(PartTable* table) const;
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
