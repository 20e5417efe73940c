// Key epochs and rotation: tokens of two epochs never match; during a rotation
// both epochs are accepted; a node re-sending its history under the new epoch with the same
// report ids replaces those reports' tokens (no signal counted twice); a complete rotation
// gives exactly the totals of before; a half-done one splits the persons linked across
// agencies that are on different epochs; after the switch-over the old epoch is refused and
// `key-retire` deletes the old tokens (the reports stay, unlinkable); schema 2 upgrades.
#include <sqlite3.h>

#include "audit/aggregator_events.h"
#include "aggregator/audit_store.h"
#include "aggregator/admin/retention.h"
#include "aggregator/admin/rotation.h"
#include "crypto/keyed_hash.h"
#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator::testing {
namespace {

TEST(KeyEpochTest, TokensOfDifferentEpochsNeverMatch) {
  std::string dir = FreshDir("rotation_epochs");
  ASSERT_OK(crypto::GenerateKeyFile(dir + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
  auto key = crypto::LoadKeyFile(dir + "/hashing.key", crypto::KeyKind::kHashing);
  ASSERT_OK(key);
  // The agency node's derivation (agency_node/tokeniser.h): purpose, epoch, rule names.
  auto e1 = crypto::KeyedHasher::New(key->bytes, "samenzicht.token.v1", 1, {"nid", "phone"});
  auto e2 = crypto::KeyedHasher::New(key->bytes, "samenzicht.token.v1", 2, {"nid", "phone"});
  ASSERT_OK(e1);
  ASSERT_OK(e2);
  for (const char* value : {"123456782", "0612345678", ""}) {
    EXPECT_EQ((*e1)->Hash(0, value), (*e1)->Hash(0, value));
    EXPECT_NE((*e1)->Hash(0, value), (*e2)->Hash(0, value)) << "same key, epochs 1 and 2";
    EXPECT_NE((*e1)->Hash(0, value), (*e1)->Hash(1, value)) << "rules are separated too";
  }
}

class RotationTest : public AuditServerTest {
 protected:
  // Token of identity `n` under key epoch `epoch` (a new key gives unrelated tokens).
  static std::string T(int n, uint32_t epoch) { return Tok(n + 500 * static_cast<int>(epoch - 1)); }

  // Police: A (1), B (2, 3), C (4), D (5), and one report without tokens (6).
  std::vector<v1::Report> PoliceReports(uint32_t e) {
    return {MakeReport(1, {{"nid", T(1, e)}}, v1::FORM_SEXUAL),
            MakeReport(2, {{"nid", T(2, e)}}, v1::FORM_CRIMINAL),
            MakeReport(3, {{"nid", T(2, e)}, {"phone", T(3, e)}}, v1::FORM_CRIMINAL),
            MakeReport(4, {{"name_dob", T(4, e)}}, v1::FORM_LABOUR),
            MakeReport(5, {{"phone", T(5, e)}}, v1::FORM_SEXUAL),
            MakeReport(6, {}, v1::FORM_OTHER)};
  }
  // Zorg: A (11), D (12), E (13, 14).
  std::vector<v1::Report> ZorgReports(uint32_t e) {
    return {MakeReport(11, {{"nid", T(1, e)}}, v1::FORM_CRIMINAL),
            MakeReport(12, {{"phone", T(5, e)}}, v1::FORM_SEXUAL),
            MakeReport(13, {{"nid", T(30, e)}}, v1::FORM_LABOUR),
            MakeReport(14, {{"nid", T(30, e)}}, v1::FORM_LABOUR)};
  }
  v1::SignedBatch Batch(const std::string& who, uint32_t epoch, std::vector<v1::Report> reports) {
    const crypto::Signer& s = who == "police" ? *police_signer_ : *zorg_signer_;
    return Sign(s, MakePayload(who, profile_, epoch, std::move(reports)));
  }
  v1::BatchAck SubmitOne(const std::string& who, uint32_t epoch, std::vector<v1::Report> reports) {
    std::vector<v1::BatchAck> acks;
    grpc::Status st = Submit(who, {Batch(who, epoch, std::move(reports))}, &acks);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return acks.empty() ? v1::BatchAck() : acks[0];
  }
  void Restart(uint32_t key_epoch, uint32_t previous, uint32_t switchover) {
    StopServer();
    config_.set_key_epoch(key_epoch);
    config_.set_previous_key_epoch(previous);
    config_.set_key_switchover_month(switchover);
    StartServer();
  }
  uint64_t Unlinkable() {
    absl::StatusOr<v1::TotalsResponse> r = Exact();
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->unlinkable_signals().value() : 0;
  }
  int64_t OldEpochReports(const std::string& agency = "") {
    auto s = ReadKeyStatus(config_);
    EXPECT_TRUE(s.ok()) << s.status();
    if (agency.empty()) return s->old_epoch_reports;
    int64_t n = 0;
    for (const auto& c : s->counts) {
      if (c.agency == agency && c.epoch < s->key_epoch) n += c.reports;
    }
    return n;
  }
  // Submits the whole history at epoch 1 and returns (persons, signals).
  std::pair<uint64_t, uint64_t> Baseline() {
    EXPECT_EQ(SubmitOne("police", 1, PoliceReports(1)).code(), 0);
    EXPECT_EQ(SubmitOne("zorg", 1, ZorgReports(1)).code(), 0);
    auto c = Counts();
    EXPECT_EQ(c, std::make_pair(uint64_t{6}, uint64_t{10}));  // A B C D E and the unlinkable one
    return c;
  }
};

TEST_F(RotationTest, CompleteRotationKeepsTotalsAndHalfDoneNeverDoubleCountsSignals) {
  const auto before = Baseline();
  // One unlinkable report; a count of 1 is below min_cell_size (2) and shown as suppressed.
  const uint64_t unlinkable_before = Unlinkable();
  EXPECT_EQ(OldEpochReports(), 0);

  // Epoch 2 becomes current; epoch 1 is still accepted until a switch-over far ahead.
  Restart(2, 1, 209912);
  {
    auto s = ReadKeyStatus(config_);
    ASSERT_OK(s);
    EXPECT_EQ(s->key_epoch, 2u);
    EXPECT_EQ(s->old_epoch_reports, 10);
    EXPECT_NE(FormatKeyStatus(*s).find("OLD"), std::string::npos) << FormatKeyStatus(*s);
  }
  // A node not yet rotated can still send (here: a re-send, counted once).
  v1::BatchAck old = SubmitOne("zorg", 1, {ZorgReports(1)[0]});
  EXPECT_EQ(old.code(), 0) << old.message();
  EXPECT_EQ(old.duplicates(), 1u);
  EXPECT_EQ(Counts(), before);

  // Half done: police re-sends its whole history under epoch 2, same report ids.
  v1::BatchAck re = SubmitOne("police", 2, PoliceReports(2));
  EXPECT_EQ(re.code(), 0) << re.message();
  EXPECT_EQ(re.accepted(), 0u);
  EXPECT_EQ(re.duplicates(), 0u);
  EXPECT_NE(re.message().find("6 report(s)"), std::string::npos) << re.message();
  EXPECT_EQ(OldEpochReports("police"), 0);
  EXPECT_EQ(OldEpochReports("zorg"), 4);
  auto half = Counts();
  EXPECT_EQ(half.second, before.second) << "a re-keyed report is still one signal";
  // Persons A and D were linked across police (now epoch 2) and zorg (still epoch 1): each
  // splits in two until zorg has rotated. Links within one agency (B, E) hold.
  EXPECT_EQ(half.first, before.first + 2);
  // Sending epoch 2 again changes nothing.
  v1::BatchAck again = SubmitOne("police", 2, PoliceReports(2));
  EXPECT_EQ(again.duplicates(), 6u);
  EXPECT_EQ(Counts(), half);

  // Complete: zorg re-sends too; the totals are exactly those of before.
  EXPECT_EQ(SubmitOne("zorg", 2, ZorgReports(2)).code(), 0);
  EXPECT_EQ(OldEpochReports(), 0);
  EXPECT_EQ(Counts(), before);
  EXPECT_EQ(Unlinkable(), unlinkable_before);
  {
    ASSERT_OK_AND_ASSIGN(v1::TotalsResponse by_form, Exact({v1::DIMENSION_FORM}));
    EXPECT_EQ(by_form.total_persons().value(), before.first);
  }
  // A late epoch-1 re-send never downgrades a rotated report.
  v1::BatchAck late = SubmitOne("zorg", 1, ZorgReports(1));
  EXPECT_EQ(late.duplicates(), 4u);
  EXPECT_EQ(OldEpochReports(), 0);
  EXPECT_EQ(Counts(), before);

  // The replacements are in the audit trail, which still verifies.
  StopServer();
  std::vector<std::string> details = Column(
      data_dir_ + "/aggregator.db",
      std::string("SELECT details FROM audit WHERE event = '") + kEventBatchReceived + "'");
  int replaced_entries = 0;
  for (const auto& d : details) {
    if (d.find("\"replaced\":6") != std::string::npos && d.find("\"key_epoch\":2") != std::string::npos) ++replaced_entries;
    if (d.find("\"replaced\":4") != std::string::npos) ++replaced_entries;
  }
  EXPECT_EQ(replaced_entries, 2);
  VerifyOptions o;
  o.public_key_b64 = audit_public_key_;
  EXPECT_OK(VerifyTrail(data_dir_, o));
}

TEST_F(RotationTest, AfterTheSwitchOverTheOldEpochIsRefusedAndRetiredTokensAreDeleted) {
  const auto before = Baseline();
  const uint64_t unlinkable_before = Unlinkable();
  Restart(2, 1, 209912);
  EXPECT_EQ(SubmitOne("police", 2, PoliceReports(2)).code(), 0);  // zorg never rotates

  // Retiring before the switch-over month is refused.
  StopServer();
  EXPECT_EQ(RetireOldEpochsOffline(config_, CurrentMonth()).status().code(),
            absl::StatusCode::kFailedPrecondition);

  // The switch-over month has begun: epoch 1 is refused with FAILED_PRECONDITION.
  Restart(2, 1, 202001);
  v1::BatchAck refused = SubmitOne("zorg", 1, ZorgReports(1));
  EXPECT_EQ(refused.code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  EXPECT_NE(refused.message().find("key epoch 1"), std::string::npos) << refused.message();
  EXPECT_EQ(OldEpochReports("zorg"), 4);

  StopServer();
  auto r = RetireOldEpochsOffline(config_, CurrentMonth());
  ASSERT_OK(r);
  EXPECT_EQ(r->before_epoch, 2u);
  EXPECT_EQ(r->reports, 4);
  EXPECT_EQ(r->tokens, 4);
  EXPECT_EQ(Column(data_dir_ + "/aggregator.db",
                   "SELECT count(*) FROM reports WHERE key_epoch < 2 AND length(tokens) > 0")[0],
            "0");
  VerifyOptions o;
  o.public_key_b64 = audit_public_key_;
  EXPECT_OK(VerifyTrail(data_dir_, o));
  EXPECT_EQ(Column(data_dir_ + "/aggregator.db",
                   std::string("SELECT count(*) FROM audit WHERE event = '") +
                       kEventKeyEpochRetired + "'")[0], "1");
  // Who asked what, and the outcome, as every change entry says.
  EXPECT_EQ(Column(data_dir_ + "/aggregator.db",
                   std::string("SELECT details FROM audit WHERE event = '") +
                       kEventKeyEpochRetired + "'")[0],
            "{\"role\":\"local_operator\",\"asked\":\"retire key epochs\",\"outcome\":\"OK\","
            "\"before_epoch\":2,\"reports\":4,\"tokens\":4}");

  StartServer();
  auto after = Counts();
  EXPECT_EQ(after.second, before.second) << "retired reports stay counted as signals";
  // Police's 5 persons; zorg's 4 reports are unlinkable now, each counted as a person in the
  // upper bound (and in unlinkable_signals, so the lower bound is 9 - 5 = 4).
  EXPECT_EQ(after.first, 9u);
  EXPECT_EQ(Unlinkable(), 5u);
  // Zorg still cannot send epoch 1; under epoch 2 its re-send makes them linkable again.
  EXPECT_EQ(SubmitOne("zorg", 2, ZorgReports(2)).code(), 0);
  EXPECT_EQ(Counts(), before);
  EXPECT_EQ(Unlinkable(), unlinkable_before);
}

TEST_F(RotationTest, SchemaTwoDatabaseUpgradesWithTheEpochItRanWith) {
  Baseline();
  StopServer();
  // What a schema-2 database looked like: schema 3 (token rows, text report ids) without
  // the key_epoch column.
  {
    auto store_key = crypto::LoadKeyFile(config_.store_key_file(), crypto::KeyKind::kStore);
    ASSERT_OK(store_key);
    DowngradeToSchemaSix(data_dir_ + "/aggregator.db", store_key->bytes);
  }
  Sql(std::string(kDowngradeToSchemaThree) +
      "ALTER TABLE reports DROP COLUMN key_epoch; PRAGMA user_version = 2;");
  {
    auto s = ReadKeyStatus(config_);
    ASSERT_OK(s);
    EXPECT_EQ(s->old_epoch_reports, 10);  // epoch not known yet
  }
  StartServer();
  EXPECT_EQ(Column(data_dir_ + "/aggregator.db", "PRAGMA user_version")[0], std::to_string(kSchemaVersion));
  EXPECT_EQ(Column(data_dir_ + "/aggregator.db",
                   "SELECT count(*) FROM reports WHERE key_epoch = 1")[0], "10");
  EXPECT_EQ(OldEpochReports(), 0);
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{6}, uint64_t{10}));
}

}  // namespace
}  // namespace samenzicht::aggregator::testing
