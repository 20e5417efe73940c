// `aggregator audit verify` verifies the key service's trail too: the privacy officer
// checks both trails with one tool. A key service's data folder (keyholder.db) verifies and
// is named as the key service's; a row changed after the fact is found and named, as
// `keyholder audit verify` finds it. `aggregator audit report --keyholder-data-dir` joins
// the key service's verified trail to the aggregator's, per month and agency.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <tuple>

#include "audit/aggregator_events.h"
#include "audit/chain.h"
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

// The officer's monthly report with the key service's trail: per month and agency the
// reports received next to the evaluations the agency's node had made and its refused
// calls; a node that evaluated and sent nothing is a row of its own. The key service's
// trail is verified first, with the key the officer was given.
TEST(KeyServiceTrailTest, AuditReportJoinsTheKeyServiceTrailPerAgencyAndMonth) {
  const std::string dir = ::testing::TempDir() + "/keyservice_report";
  std::filesystem::remove_all(dir);
  const int64_t now = 1768473000000;  // 2026-01-15 10:30 UTC
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::Signer> ks_signer, crypto::Signer::Generate());
  {
    std::vector<crypto::oprf::EpochKey> keys;
    keys.push_back({1, *crypto::oprf::ServerKey::Derive(std::string(32, 'k'), "test")});
    keyholder::Limits limits;
    limits.per_hour = 7;
    ASSERT_OK_AND_ASSIGN(auto service, keyholder::KeyService::Open(std::move(keys), dir + "/keyholder", limits,
                                                                   ks_signer.get(), [now] { return now; }));
    auto evaluate = [&](const std::string& node, int n) {
      std::vector<std::string_view> inputs(n, "value");
      auto batch = crypto::oprf::BlindBatch::New(inputs);
      EXPECT_OK(batch.status());
      return service->Evaluate(rpc::Peer{node, rpc::Role::kAgency}, 1, batch->blinded_elements()).status();
    };
    for (int n = 1; n <= 3; ++n) ASSERT_OK(evaluate("police", n));
    EXPECT_THAT(evaluate("police", 2), StatusIs(absl::StatusCode::kResourceExhausted));
    ASSERT_OK(evaluate("zorg", 5));
  }  // entries: start, three evaluations of police, its refusal, one of zorg
  // The aggregator's trail: police's batch of 3 reports in the same month.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<crypto::Signer> agg_signer, crypto::Signer::Generate());
  {
    std::filesystem::create_directories(dir + "/aggregator");
    sqlite::OpenOptions o;
    o.label = "aggregator";
    ASSERT_OK_AND_ASSIGN(auto db, sqlite::Database::Open(dir + "/aggregator/aggregator.db", o));
    ASSERT_OK(db->Exec("CREATE TABLE audit(seq INTEGER PRIMARY KEY, time_ms INTEGER, event TEXT, actor TEXT, "
                       "details TEXT, prev_hash BLOB, hash BLOB, signature BLOB)"));
    audit::AuditChain chain(agg_signer.get(), 0, "");
    BatchReceivedEvent batch;
    batch.agency = "police";
    batch.batch_id = "b1";
    batch.reports = 3;
    batch.accepted = 3;
    batch.key_epoch = 1;
    for (const auto& [event, actor, details] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"start", "aggregator", "{}"}, {kEventBatchReceived, "police", batch.ToJson()}}) {
      audit::Entry e = chain.Next(event, actor, details, now + 60000);
      ASSERT_OK_AND_ASSIGN(auto st, db->Prepare("INSERT INTO audit VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
      st.Bind(1, static_cast<int64_t>(e.seq)).Bind(2, e.time_ms).Bind(3, e.event).Bind(4, e.actor)
          .Bind(5, e.details).BindBlob(6, e.prev_hash).BindBlob(7, e.hash).BindBlob(8, e.signature);
      ASSERT_OK(st.Run());
      chain.Commit(e);
    }
  }
  const std::string ks_key = crypto::Base64Encode(ks_signer->public_key());
  const std::string columns =
      "month,party,batches,reports,accepted,duplicates,refused_reports,batches_refused,retractions,"
      "retracted,queries,suppressed_cells,purges,purged_reports,left_released";
  RunResult r = RunCommand({AGGREGATOR_BIN, "audit", "report", "--data-dir", dir + "/aggregator", "--format", "csv",
                            "--keyholder-data-dir", dir + "/keyholder", "--keyholder-public-key", ks_key});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, columns + ",evaluations,evaluation_refusals\n"
                   "2026-01,police,1,3,3,0,0,0,0,0,0,0,0,0,0,6,1\n"
                   "2026-01,zorg,0,0,0,0,0,0,0,0,0,0,0,0,0,5,0\n");
  EXPECT_EQ(r.err, "key service audit trail verified: 6 entries, signed by " + ks_key + "\n");
  // Without the key service: the aggregator's columns only.
  r = RunCommand({AGGREGATOR_BIN, "audit", "report", "--data-dir", dir + "/aggregator", "--format", "csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, columns + "\n2026-01,police,1,3,3,0,0,0,0,0,0,0,0,0,0\n");
  // The key service's trail with another key than its own (the aggregator's), or none.
  r = RunCommand({AGGREGATOR_BIN, "audit", "report", "--data-dir", dir + "/aggregator", "--keyholder-data-dir",
                  dir + "/keyholder", "--keyholder-public-key", crypto::Base64Encode(agg_signer->public_key())});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("key service audit trail NOT verified: "));
  r = RunCommand({AGGREGATOR_BIN, "audit", "report", "--data-dir", dir + "/aggregator", "--keyholder-data-dir",
                  dir + "/keyholder"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--keyholder-data-dir needs --keyholder-public-key"));
  // The aggregator's data folder given as the key service's.
  r = RunCommand({AGGREGATOR_BIN, "audit", "report", "--data-dir", dir + "/aggregator", "--keyholder-data-dir",
                  dir + "/aggregator", "--keyholder-public-key", crypto::Base64Encode(agg_signer->public_key())});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("holds no key service's trail"));
}

}  // namespace
}  // namespace samenzicht::aggregator::testing
