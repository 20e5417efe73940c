// Probabilistic record linkage over tokens (linkage profiles of version 4, method
// LINKAGE_METHOD_FELLEGI_SUNTER): which kinds of tokens two reports share is the evidence,
// weighed by a Fellegi-Sunter model whose weights are learned from the data without labels.
//
//   LinkModelSpec spec = LinkModelSpec::FromRules(rule_fields);  // per rule: its fields
//   ProbabilisticLinkResult r = LinkProbabilistic(num_reports, tokens, spec, options);
//   r.link.person[report]      // dense person id, as Link()
//   r.estimated_missed_links   // persons that may be counted twice, from the fitted model
//
// Phases:
//  1. Candidate pairs. Tokens are grouped by (rule, value); every pair of reports in a group
//     of 2 to `max_reports_per_token` reports is a candidate (larger groups are a weak rule
//     colliding: counted per rule in `oversized_tokens` and not used, as in Link()).
//  2. Comparison vector. Every field of a rule certifies agreement on one comparison at a
//     level (`CertifiedLevel`): a shared token of rule `name_dob` certifies "given name
//     exact", "surname exact" and "date of birth exact"; a shared `surdel_pc` token
//     certifies "surname within one edit", "first initial" and "postcode area". Per pair
//     and comparison the level is the highest any shared token certifies; "disagree" when
//     both reports have the field (they carry a token of a rule that uses it) and no shared
//     token certifies it; "missing" when one of them lacks it (no evidence either way).
//  3. Weights. The pairs' comparison vectors are counted by pattern, and a two-class latent
//     model (match, non-match; fields independent within each class) is fitted to the
//     counts by expectation-maximisation: m and u probabilities per comparison level and
//     the share of matches. This is the Fellegi-Sunter model as probabilistic linkage
//     tools fit it, over the candidate pairs (so the probabilities are conditional on
//     being a candidate). Observations are censored: a shared token proves a level, and a
//     higher one is ruled out only when both reports carry a rule that would prove it, whose
//     other fields are proven to agree, and whose token they do not share; otherwise the
//     level is "at least" what was proven, and EM treats it as such. The likelihood ratio
//     m/u is kept non-decreasing over the levels of each comparison (adjacent violators
//     pooled): more agreement is never evidence against a match. u is fitted among the
//     candidates, not taken from random pairs: two persons who share a token are not a
//     random pair (a household shares a surname and a postcode; a copied citizen number),
//     and the model must know how often that happens. The fit must accept the anchored pairs
//     (both names agree at least phonetically, a full date of birth, postcode or unique
//     identifier agrees, nothing is proven to disagree): when it rejects most of them, it has
//     not found the match class (records with names, town and postcode only leave the model
//     unidentified), and the model is fitted again with the anchored pairs taken as matches
//     (`FittedModel::anchored`).
//  4. Decision and clustering. A pair is linked when its posterior match probability is at
//     least `match_probability`, unless it agrees on nothing but names and town while its
//     postcode, date of birth or a unique identifier is proven to differ (namesakes; never
//     linked, whatever the model says). Linked pairs are merged from the highest match weight down;
//     chaining is controlled three ways: (a) two clusters are never joined when the
//     comparisons of some unlinked candidate pair between them speak against a match (a
//     likelihood ratio below 1, the prior left out: a report without a date of birth that matches a mother and her namesake
//     daughter joins one of them, not both); (b) two clusters that hold different national
//     ids are never joined when the fitted model says national ids rarely disagree for one
//     person (m(disagree) < 0.5%); (c) a cluster never grows beyond `max_reports_per_token`
//     reports. A refused merge is counted in `refused_merges`.
//  4b. Term-frequency adjustment (`ProbabilisticOptions::name_frequency`): a pair whose only
//     evidence is its names in one place (a shared token of a rule over both names and at
//     most the town; no part of the date of birth, postcode or a unique identifier agrees)
//     weighs agreement on a rare name more than on a common one, as frequency-based
//     matching (Winkler) and term-frequency adjustments do with value-specific
//     u-probabilities. The aggregator counts, per value of such a token, the persons of the
//     clustering of phase 4 that carry it (it sees token equality already: the count reveals
//     nothing new); the pair's weight gains log2(k_mean / k), k being the persons carrying
//     its value less its own and k_mean the mean of k over the non-matching pairs so scored
//     (weighted by 1 minus their posterior). The decisions and the clustering of phase 4 are
//     then made again with these weights.
//  5. Linkage error from the model, without ground truth: the expected number of wrong
//     links among the merges made (sum of 1 - posterior over the merging pairs), and of
//     missed links between the final clusters (per pair of clusters, the highest posterior
//     of a candidate pair between them that was not linked, summed). These posteriors use
//     the whole observation of a pair: besides the pattern, the joint constraints of rules
//     both reports carry and do not share while two or more of the rule's comparisons are
//     not proven below its level (at least one of them is). Phases 3 and 4 use the pattern
//     alone (measured: deciding on the whole observation moved the count of persons further
//     from the truth). Added to the missed links: the pairs of clusters no rule can compare
//     (no rule whose comparisons both have: a report without a date of birth when no rule
//     uses the names alone) at the rate at which comparable pairs of reports are one person
//     (ExpectedMissedLinksNoRuleCompares); the candidate pairs cannot show those. Measured
//     with mse_end_to_end, 1,000 persons, seeds 1-6: at heavy noise 274 persons counted twice
//     estimated (81 without this part) against 368 true, at moderate noise 18 (11) against 20.
//
// Invariants: the partition depends on the set of reports and tokens, not on their order,
// except among merges of equal posterior that a chaining rule refuses (then the pair of
// lower report numbers wins). Linear in the number of tokens plus candidate pairs.
//
// Limitation: fields are only ever compared in combination (no token covers a single name
// or date), so when every rule of a field also needs another field that disagrees, the
// field's level stays censored ("at least what was proven"); conditional independence
// of the fields within each class is assumed, as in every Fellegi-Sunter model.
//
// Thread-safety: pure functions.
#ifndef SAMENZICHT_AGGREGATOR_PROBABILISTIC_LINKAGE_H_
#define SAMENZICHT_AGGREGATOR_PROBABILISTIC_LINKAGE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "aggregator/linkage/linkage.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::aggregator {

// The comparisons of the model (one per kind of identifier).
enum Comparison : uint8_t {
  kCmpNationalId, kCmpPhone, kCmpEmail, kCmpGivenName, kCmpSurname, kCmpDateOfBirth,
  kCmpPostcode, kCmpCity,
  // Street (phonetic) and house number together (profile version 8): level 1 = the same
  // address. Kept apart from the postcode: a rule that certifies one says nothing about
  // the other (a mistyped postcode at the same address, a shared postcode at another
  // number).
  kCmpAddress,
  kNumComparisons
};
// Levels: 0 = disagree, 1..MaxLevel(c) = agreement of increasing strength; missing is kept
// apart (it is not a level).
int MaxLevel(Comparison c);
const char* ComparisonName(Comparison c);

// What a field certifies when a token over it is shared: the comparison and level, or
// level 0 when it certifies nothing (gender, house number).
struct Certification {
  Comparison comparison = kCmpNationalId;
  int level = 0;
};
Certification CertifiedLevel(v1::Field f);

// Per rule: the level certified on each comparison (0 = not involved).
struct LinkModelSpec {
  std::vector<std::array<uint8_t, kNumComparisons>> certifies;  // by rule index
  // `rule_fields[r]`: the fields of rule r (empty for a rule the profile does not know:
  // its tokens are then not used).
  static LinkModelSpec FromRules(const std::vector<std::vector<v1::Field>>& rule_fields);
};

struct ProbabilisticOptions {
  uint32_t max_reports_per_token = 50;
  double match_probability = 0.5;
  int em_iterations = 100;
  // Term-frequency adjustment of the names' weight (phase 4b).
  bool name_frequency = true;
  // Workers of the candidate phase (0: the machine's cores, at most 4). The result does not
  // depend on it; each worker holds its own partition of tokens and its own table of pairs.
  int threads = 1;
  // Tokens per partition of the candidate phase (0: 32 Mi shared by the workers, at least
  // 1 Mi each). Smaller partitions hold less memory and scan the table more often; at most
  // 256 partitions. The result does not depend on it.
  size_t partition_tokens = 0;
};

// The fitted model, for --explain and the methods section.
struct FittedModel {
  // m[c][l], u[c][l]: P(level l of comparison c | match / non-match), l = 0..MaxLevel(c).
  std::array<std::vector<double>, kNumComparisons> m, u;
  double match_share = 0;  // among candidate pairs
  int iterations = 0;
  // True when the unsupervised fit rejected most anchored pairs and the model was fitted
  // again with them taken as matches (phase 3).
  bool anchored = false;
  // True when a unique identifier's exact agreement came out as no evidence for a match and
  // the model was fitted again with its non-match probability held small (phase 3).
  bool unique_ids_held = false;
};

// One candidate pair, for --explain.
struct ExplainedPair {
  uint32_t a = 0, b = 0;      // reports, a < b
  uint64_t shared_rules = 0;  // bit r: a token of rule r is shared (rules below 64)
  std::array<int8_t, kNumComparisons> level{};  // -1 = missing
  // The highest level not ruled out (censored observations: level .. level_max), -1 = missing.
  std::array<int8_t, kNumComparisons> level_max{};
  double weight = 0;          // log2 likelihood ratio (with the prior)
  double posterior = 0;           // what the decision used: the pattern alone
  double estimate_posterior = 0;  // the whole observation (pattern and joint constraints), phase 5
  bool linked = false;        // passed the threshold and was merged (or already together)
};

struct ProbabilisticLinkResult {
  LinkResult link;
  FittedModel model;
  uint64_t candidate_pairs = 0;
  uint64_t linked_pairs = 0;  // pairs at or above the threshold
  uint64_t refused_merges = 0;
  // Linkage error estimated from the fitted model (see phase 5).
  double estimated_false_links = 0;   // merges that may join two persons
  double estimated_missed_links = 0;  // clusters that may be one person counted twice
  // The part of estimated_missed_links from pairs of clusters no rule can compare (phase 5,
  // ExpectedMissedLinksNoRuleCompares).
  double estimated_missed_incomparable = 0;
  double estimated_precision = 1;     // pairwise, over candidate pairs
  double estimated_recall = 1;        // pairwise, over candidate pairs
};

// `num_rules` must exceed every rule number in `tokens`; `spec.certifies` must have an
// entry per rule. `explain`, when set, receives every candidate pair at or above a posterior
// of 0.01 (linked or not) after the clustering.
ProbabilisticLinkResult LinkProbabilistic(uint32_t num_reports, const TokenTable& tokens,
                                          const LinkModelSpec& spec,
                                          const ProbabilisticOptions& options,
                                          const std::function<void(const ExplainedPair&)>& explain = {});

// Persons counted twice whom no candidate pair can reveal (phase 5). Two reports become a
// candidate pair only when both have every comparison of some rule (`present[report]`: bit c
// set when the report carries a token of a rule using comparison c; `rule_masks`: the
// comparisons of each rule), so two clusters of `person` (dense ids below `persons`) no rule
// can compare are never weighed by the model: a report without a date of birth, when no rule
// uses the names alone. Returned: the rate at which comparable pairs of reports are one person
// (`candidate_matches`, the expected matches among the candidate pairs, over the number of
// comparable pairs of reports) times the number of pairs of clusters no rule can compare.
// Assumes fields are missing independently of whether two reports are one person.
double ExpectedMissedLinksNoRuleCompares(const std::vector<uint16_t>& present,
                                         const std::vector<uint16_t>& rule_masks,
                                         const std::vector<uint32_t>& person, uint32_t persons,
                                         double candidate_matches);

// The fitted model in lines of text: per comparison and level, m, u and the weight
// log2(m/u); the match share. For the operator and --explain; no token, no identifier.
std::string DescribeModel(const FittedModel& model);

// Chooses the profile's method: Link() for profiles without a method, LinkProbabilistic()
// for LINKAGE_METHOD_FELLEGI_SUNTER. `rule_names[r]` names rule r of `tokens` (a name the
// profile does not know gets no fields). The estimates are 0 for Link(). `threads`: as
// ProbabilisticOptions::threads.
ProbabilisticLinkResult LinkWithProfile(uint32_t num_reports, const TokenTable& tokens,
                                        const v1::LinkageProfile& profile,
                                        const std::vector<std::string>& rule_names,
                                        const std::function<void(const ExplainedPair&)>& explain = {},
                                        int threads = 1);

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_PROBABILISTIC_LINKAGE_H_
