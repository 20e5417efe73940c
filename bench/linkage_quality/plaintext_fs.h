// The yardsticks of linkage_quality that need no keys:
//
//  - a NON-private Fellegi-Sunter linkage over identifiers in the clear, built the way the
//    best non-private tools (Splink, fastLink) build one: a comparison per field with
//    levels, m and u probabilities learned without labels by EM over candidate pairs from
//    several blocking keys (u initialised from random pairs, as Splink does), pairs with a
//    posterior >= a threshold accepted, persons = connected components. What the private
//    profile gives up against it is what privacy costs.
//  - a frequency attack on stored tokens: an attacker who knows how often each plaintext
//    value occurs in the population and sees how often each token value occurs assigns
//    them to each other by frequency rank.
//
// Benchmark code: the records are synthetic (simulator/); nothing here is used by the
// agency node or the aggregator.
#ifndef SAMENZICHT_BENCH_LINKAGE_QUALITY_PLAINTEXT_FS_H_
#define SAMENZICHT_BENCH_LINKAGE_QUALITY_PLAINTEXT_FS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace samenzicht::bench {

// Jaro-Winkler similarity in [0, 1] (Winkler's prefix bonus, p = 0.1 over at most 4
// characters, given only when the Jaro similarity exceeds 0.7, as in rapidfuzz / DuckDB
// used by Splink). Byte-wise; inputs are the node's folded ASCII. 1 for two equal
// strings, 0 when either is empty.
double JaroWinkler(std::string_view a, std::string_view b);

// One record's identifiers in the clear, normalised. Empty / 0 = missing.
struct ClearRecord {
  std::string given;     // first given name; "" when only an initial was written
  std::string initial;   // first letter of the first given name
  std::string surname;   // without prefixes
  std::string surname_phonetic;
  std::string given_phonetic;  // phonetic code of the first name after call names ("" if none)
  int dob_year = 0, dob_month = 0, dob_day = 0;  // 0: no (valid) date of birth
  std::string postcode, city, phone, national_id, email;
  std::string street;        // folded, in the clear (the private profile keeps only its phonetic code)
  std::string house_number;  // as the node normalises it
};

// The comparisons, in the order of `FsModel::comparisons`.
enum FsComparison {
  kCmpGiven = 0,
  kCmpSurname,
  kCmpDob,
  kCmpPostcode,
  kCmpCity,
  kCmpPhone,
  kCmpNationalId,
  kCmpEmail,
  kCmpAddress,  // street and house number
  kFsComparisons
};

// How m, u and lambda are learned, both without labels:
//  kFastLink: EM over the candidate pairs for m, u and lambda together (u initialised from
//    random pairs); lambda is then the share of matches among candidate pairs.
//  kSplink: u from random pairs, held fixed; m by EM sessions, one per training blocking
//    key (dob; surname phonetic + birth year; postcode + initial), each without the
//    comparisons its key blocks on; lambda = P(two random records match), by EM over all
//    pairs with m and u fixed (pairs no key proposed count as non-matches).
enum class FsMethod { kFastLink, kSplink };
const char* FsMethodName(FsMethod m);

struct FsOptions {
  // Blocks (records sharing one blocking key value) with more records are skipped: too
  // coarse to be worth comparing all their pairs.
  int max_block = 300;
  int max_em_iterations = 200;
  // Accept a candidate pair when P(match | comparison vector) >= this.
  double threshold = 0.5;
  // Random record pairs to initialise u from.
  int random_pairs = 200000;
  FsMethod method = FsMethod::kSplink;
  // Term-frequency adjustment of exact agreement on the given name and on the surname.
  bool tf_adjust = true;
  uint64_t seed = 1;
};

struct FsLevelParams {
  std::string name;
  double m = 0, u = 0;
};
struct FsComparisonParams {
  std::string name;
  std::vector<FsLevelParams> levels;  // level 0 is "else" (disagree)
};
struct FsModel {
  std::vector<FsComparisonParams> comparisons;
  double lambda = 0;  // prior match probability (see FsMethod)
  int em_iterations = 0;
  bool converged = false;
};

struct FsResult {
  std::vector<int> label;  // per record: its person (connected component)
  int64_t candidate_pairs = 0;
  int64_t accepted_pairs = 0;
  int64_t skipped_blocks = 0;       // blocks over max_block
  int64_t skipped_block_records = 0;  // records in them (with repetition over keys)
  FsModel model;
};

// The comparison vector of a pair: per comparison a level index, or -1 when either side
// is missing the field (neutral: contributes nothing).
std::vector<int> CompareRecords(const ClearRecord& a, const ClearRecord& b);

// Blocking keys of a record (an empty key: not blocked on that key). Exposed for tests.
std::vector<std::string> BlockingKeys(const ClearRecord& r);

FsResult LinkFellegiSunter(const std::vector<ClearRecord>& records, const FsOptions& options);

// One line per comparison level: m, u and the match weight log2(m/u).
std::string DescribeModel(const FsModel& model);

// ---------------------------------------------------------------- frequency attack

struct AttackResult {
  int64_t distinct_tokens = 0;      // distinct observed values
  int64_t occurrences = 0;          // observed values with repetition
  int64_t distinct_right = 0;       // distinct observed values assigned their own plaintext
  int64_t occurrences_right = 0;    // their occurrences
  int64_t known_values = 0;         // distinct plaintext values the attacker knows
  int64_t overlap = 0;              // distinct observed values among the known ones
  // Expected number of distinct values right when the known values are assigned to the
  // observed ones at random, ignoring frequencies: overlap / known_values. The attack is
  // worth something only where it beats this.
  double chance_right() const { return known_values ? double(overlap) / known_values : 0; }
  double distinct_fraction() const {
    return distinct_tokens ? double(distinct_right) / distinct_tokens : 0;
  }
  double occurrence_fraction() const {
    return occurrences ? double(occurrences_right) / occurrences : 0;
  }
};

// `known`: plaintext value -> its frequency in the attacker's reference population;
// `observed`: value -> how often it occurs among the stored tokens. Because the keyed
// hash is injective on distinct messages, the observed side may be given as the hashed
// messages themselves: the attacker only uses their counts, and "right" means the value
// assigned to an observed message is that message. Both lists are ranked by count,
// descending, ties in a random order drawn with `seed`; the i-th observed value is
// assigned the i-th known value.
AttackResult FrequencyAttack(const std::unordered_map<std::string, int64_t>& known,
                             const std::unordered_map<std::string, int64_t>& observed,
                             uint64_t seed);

}  // namespace samenzicht::bench

#endif  // SAMENZICHT_BENCH_LINKAGE_QUALITY_PLAINTEXT_FS_H_
