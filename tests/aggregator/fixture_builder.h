// The set-up the aggregator tests share, built in one place: a folder per test, the rule
// names of a profile, a store under a fresh random key, an agency entry with its signing
// key, and the configuration of an aggregator served in-process over mutual TLS.
//
//   profile_ = testing::TestProfile();
//   testing::AddAgency(config_, "police", v1::DOMAIN_POLICE, *police_signer_);
//   ASSERT_OK_AND_ASSIGN(store_, testing::OpenTestStore(testing::TestDir(), profile_));
//
//   ASSERT_OK_AND_ASSIGN(config_, testing::ServedConfig(dir, pki_, profile_, kEpoch));
//
// Profiles, tokens, reports and signed batches: test_util.h; certificates: tests/testing/pki.h.
#ifndef SAMENZICHT_TESTS_AGGREGATOR_FIXTURE_BUILDER_H_
#define SAMENZICHT_TESTS_AGGREGATOR_FIXTURE_BUILDER_H_

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "aggregator/store/store.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/secret_bytes.h"
#include "crypto/signature.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/profile.pb.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/pki.h"

namespace samenzicht::aggregator::testing {

// The running test.
inline const ::testing::TestInfo& CurrentTest() {
  return *::testing::UnitTest::GetInstance()->current_test_info();
}

// A fresh, empty folder named `prefix` followed by the running test's name (FreshDir).
inline std::string TestDir(const std::string& prefix = "") {
  return FreshDir(prefix + CurrentTest().name());
}

// The names of `profile`'s rules, in order: what Store::Open takes.
inline std::vector<std::string> RuleNames(const v1::LinkageProfile& profile) {
  std::vector<std::string> rules;
  for (const auto& r : profile.rules()) rules.push_back(r.name());
  return rules;
}

// The store of `dir`/data, under a fresh random store key, with `profile`'s rules. The
// errors of Store::Open.
inline absl::StatusOr<std::unique_ptr<Store>> OpenTestStore(const std::string& dir,
                                                            const v1::LinkageProfile& profile) {
  absl::StatusOr<crypto::SecretBytes> key = crypto::SecretBytes::Random(32);
  if (!key.ok()) return key.status();
  return Store::Open(dir + "/data", *key, RuleNames(profile));
}

// Adds the agency `node_id` of `domain` to `config`; `signer` signs its batches.
inline void AddAgency(v1::AggregatorConfig& config, const std::string& node_id, v1::Domain domain,
                      const crypto::Signer& signer) {
  v1::AgencyEntry* a = config.add_agencies();
  a->set_node_id(node_id);
  a->set_domain(domain);
  a->set_signing_public_key(crypto::Base64Encode(signer.public_key()));
}

// The configuration of an aggregator served in-process on 127.0.0.1 port 0 with the
// certificate "aggregator" of `pki` (tests/testing/pki.h): its data in `dir`/data, `profile`
// written to `dir`/profile.textproto, a store key generated into `dir`/store.key, key epoch
// `epoch`, min_cell_size 2, areas oost and west, no agency yet (AddAgency). The errors of
// writing the files.
inline absl::StatusOr<v1::AggregatorConfig> ServedConfig(const std::string& dir,
                                                         const std::string& pki,
                                                         const v1::LinkageProfile& profile,
                                                         uint32_t epoch) {
  {
    std::ofstream f(dir + "/profile.textproto");
    f << profile.DebugString();
    if (!f.flush()) return absl::InternalError("cannot write " + dir + "/profile.textproto");
  }
  absl::StatusOr<std::string> store_key =
      crypto::GenerateKeyFile(dir + "/store.key", crypto::KeyKind::kStore);
  if (!store_key.ok()) return store_key.status();
  v1::AggregatorConfig config;
  config.set_listen_address("127.0.0.1:0");
  *config.mutable_tls() = samenzicht::testing::TlsFor(pki, "aggregator");
  config.set_data_dir(dir + "/data");
  config.set_store_key_file(dir + "/store.key");
  config.set_profile_file(dir + "/profile.textproto");
  config.set_key_epoch(epoch);
  config.set_min_cell_size(2);
  for (const char* area : {"oost", "west"}) config.add_areas(area);
  return config;
}

}  // namespace samenzicht::aggregator::testing

#endif  // SAMENZICHT_TESTS_AGGREGATOR_FIXTURE_BUILDER_H_
