// `aggregator audit verify` verifies the key service's trail too: the privacy officer
// checks both trails with one tool. A key service's data folder (keyholder.db) verifies and
// is named as the key service's; a row changed after the fact is found and named, as
// `keyholder audit verify` finds it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "common/sqlite/sqlite.h"
#include "crypto/encoding.h"
#include "crypto/oprf.h"
#include "crypto/signature.h"
#include "keyholder/commands.h"
#include "keyholder/key_service.h"
#include "rpc/peer.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace samenzicht::aggregator::testing {
namespace {

using ::samenzicht::testing::RunCommand;
using ::samenzicht::testing::RunResult;
using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(KeyServiceTrailTest, AggregatorAuditVerifyChecksTheKeyServiceTrailAndFindsATamperedRow) {
  const std::string dir = ::testing::TempDir() + "/keyservice_trail";
  std::filesystem::remove_all(dir);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::Signer> signer, crypto::Signer::Generate());
  {
    std::vector<crypto::oprf::EpochKey> keys;
    keys.push_back({1, *crypto::oprf::ServerKey::Derive(std::string(32, 'k'), "test")});
    ASSERT_OK_AND_ASSIGN(auto service,
                         keyholder::KeyService::Open(std::move(keys), dir, keyholder::Limits{}, signer.get()));
    const rpc::Peer police{"police", rpc::Role::kAgency};
    for (int call = 1; call <= 3; ++call) {
      std::vector<std::string_view> inputs(call, "value");
      ASSERT_OK_AND_ASSIGN(auto batch, crypto::oprf::BlindBatch::New(inputs));
      ASSERT_OK(service->Evaluate(police, 1, batch.blinded_elements()));
    }
  }  // entries: start, then one evaluation of 1, 2 and 3 elements (seq 2 to 4)
  const std::string pk = crypto::Base64Encode(signer->public_key());
  RunResult r = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", dir, "--public-key", pk});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("key service audit trail verified: 4 entries, head "));
  EXPECT_THAT(r.out, HasSubstr("signed by " + pk + " (trusted from --public-key)"));

  // The count of the second call is lowered after the fact.
  {
    sqlite::OpenOptions o;
    o.label = "tamper";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir + "/keyholder.db", o));
    ASSERT_OK(db->Exec("UPDATE audit SET details = replace(details, '\"evaluations\":2', "
                       "'\"evaluations\":1') WHERE seq = 3"));
    ASSERT_EQ(db->Changes(), 1);
  }
  r = RunCommand({AGGREGATOR_BIN, "audit", "verify", "--data-dir", dir, "--public-key", pk});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("audit trail NOT verified: "));
  EXPECT_THAT(r.err, HasSubstr("entry 3"));
  // The key service's own tool says the same.
  std::ostringstream os;
  EXPECT_THAT(keyholder::AuditVerifyCommand(dir, pk, {}, os), StatusIs(absl::StatusCode::kDataLoss, "entry 3"));
}

}  // namespace
}  // namespace samenzicht::aggregator::testing
