// Shared by the key-service tests of the agency node (agency_node_keyholder_test): the
// agency's export both the one-shot commands and the daemon pseudonymise through the key
// service, with the identifiers that must never appear in what the node prints or logs.
#ifndef SAMENZICHT_TESTS_AGENCY_NODE_KEYHOLDER_FIXTURE_H_
#define SAMENZICHT_TESTS_AGENCY_NODE_KEYHOLDER_FIXTURE_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "agency_node/csv.h"
#include "agency_node/national_id.h"
#include "agency_node/normalise.h"
#include "agency_node/signal.h"
#include "agency_node/tokeniser.h"
#include "crypto/encoding.h"
#include "model/config.h"

namespace samenzicht::agency_node::testing {

// The key service's clock in tests (Unix milliseconds of 2026-01-15 10:30 UTC, the middle
// of an hour): a test that counts evaluations per hour or day, across restarts of the
// service, must not depend on when it runs (an hour or a day boundary in between).
inline int64_t MidHourClock() { return 1768473000000; }

// A key service stand-in: a token is a digest of the input; every input asked is kept, in
// the order asked, and the calls are counted. At most `max_inputs_per_call` inputs per call.
class CountingOracle : public TokenOracle {
 public:
  explicit CountingOracle(size_t max_inputs_per_call = 7) : max_inputs_per_call_(max_inputs_per_call) {}
  uint32_t epoch() const override { return 1; }
  size_t max_inputs_per_call() const override { return max_inputs_per_call_; }
  absl::StatusOr<std::string> Evaluate(const std::vector<std::string_view>& inputs) const override {
    std::lock_guard<std::mutex> l(mu_);
    ++calls_;
    std::string out;
    for (std::string_view in : inputs) {
      asked_.emplace_back(in);
      out += crypto::Digest("test oracle", in);
    }
    return out;
  }
  std::vector<std::string> asked() const {
    std::lock_guard<std::mutex> l(mu_);
    return asked_;
  }
  int calls() const {
    std::lock_guard<std::mutex> l(mu_);
    return calls_;
  }

 private:
  const size_t max_inputs_per_call_;
  mutable std::mutex mu_;
  mutable std::vector<std::string> asked_;
  mutable int calls_ = 0;
};

// The number of key-service evaluations the records of `csv` need under the shipped
// profile: the distinct inputs a tokeniser asks a stand-in oracle for.
inline size_t DistinctOracleInputs(const std::string& csv) {
  auto profile = model::LoadProfile(SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto");
  auto normaliser = Normaliser::New();
  auto parsed = ParseCsv(csv);
  EXPECT_TRUE(profile.ok() && normaliser.ok() && parsed.ok());
  SignalOptions o;
  o.today = Date{2024, 6, 15};
  auto nid = NationalIds::FromProfile(*profile);
  EXPECT_TRUE(nid.ok());
  o.national_ids = *nid;
  auto signals = ParseSignals(*parsed, **normaliser, o);
  EXPECT_TRUE(signals.ok()) << signals.status();
  auto oracle = std::make_unique<CountingOracle>(1000);
  const CountingOracle* counting = oracle.get();
  auto tokeniser = Tokeniser::NewWithOracle(*profile, std::move(oracle));
  EXPECT_TRUE(tokeniser.ok());
  std::vector<const Person*> persons;
  std::vector<std::string> packed(signals->signals.size());
  std::vector<std::string*> out;
  for (size_t i = 0; i < packed.size(); ++i) {
    persons.push_back(&signals->signals[i].person);
    out.push_back(&packed[i]);
  }
  EXPECT_TRUE((*tokeniser)->TokeniseBatch(persons, out).ok());
  const std::vector<std::string> asked = counting->asked();
  return asked.size();
}

inline constexpr char kKeyholderSignals[] =
    "record_id,given_names,surname,date_of_birth,gender,national_id,phone,email,postcode,"
    "street,house_number,city,form,area\n"
    "P-1,Wietske,Hoogeveenstra,1991-08-17,female,111222333,06 5555 1234,wietske@gmail.example,"
    "9725 AB,Paterswoldseweg,4713Z,Haren,sexual,zuid\n"
    "P-2,Jan,Jansen,1985-02-03,male,,0612345678,,9711AA,,,,criminal,oost\n"
    "P-3,Fatima,El Amrani,2007-11-30,female,,,,,,,,labour,\n";

}  // namespace samenzicht::agency_node::testing

#endif  // SAMENZICHT_TESTS_AGENCY_NODE_KEYHOLDER_FIXTURE_H_
