// Findings of the security review, each as the attack or gap that was demonstrated: the
// identity oracle in stored batch digests, audit gaps, free-text areas and a malicious
// agency. Every test runs a real aggregator on loopback (audit_fixture.h).
#include <filesystem>
#include <fstream>
#include <ctime>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/audit_store.h"
#include "aggregator/store/schema.h"
#include "model/config.h"
#include "samenzicht/v1/admin.grpc.pb.h"
#include "crypto/encoding.h"
#include "crypto/keyed_hash.h"
#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using ::testing::HasSubstr;
using testing::MakeReport;
namespace fs = std::filesystem;

void ExecSql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class SecurityTest : public testing::AuditServerTest {
 protected:
  std::vector<audit::Entry> Entries() {
    auto t = ReadTrail(data_dir_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? t->entries : std::vector<audit::Entry>{};
  }
  std::vector<std::string> Column(const std::string& sql) {
    return testing::Column(data_dir_ + "/aggregator.db", sql);
  }
  // Every byte the aggregator wrote into its data folder (database, WAL, checkpoints).
  std::string DataFolderBytes() {
    std::string all;
    for (const auto& f : fs::recursive_directory_iterator(data_dir_)) {
      if (f.is_regular_file()) all += FileBytes(f.path().string());
    }
    return all;
  }
};

// ---- Identity oracle in stored batch digests -------------------------------------------

// The attack of the review: a stolen copy of the data folder plus the agencies' shared
// hashing key (not the store key). For a one-report batch the attacker knows the batch id,
// the report id, the categories and (near enough) the creation time from the database; for
// each guessed identity it rebuilds the payload, hashes it as the acknowledgement does and
// looks for that digest, or for the node's signature over it, in what the aggregator keeps.
// Here the node sent no nonce (as a node of an older release did), so the rebuilt payload
// of the true identity is byte for byte the one sent: only the keying of what is stored
// stands between the attacker and a confirmed identity.
TEST_F(SecurityTest, ARecomputedBatchDigestOfTheTrueIdentityMatchesNothingStored) {
  const crypto::SecretBytes agency_key = *crypto::SecretBytes::Random(32);
  std::vector<std::string> rules;
  for (const auto& r : profile_.rules()) rules.push_back(r.name());
  ASSERT_OK_AND_ASSIGN(auto tokeniser,
                       crypto::KeyedHasher::New(agency_key, "samenzicht.token.v1", testing::kAuditEpoch,
                                                rules));
  auto report_of = [&](const std::string& report_id, const std::string& dob) {
    v1::Report r = MakeReport(0, {{"nid", tokeniser->Hash(0, "123456782")},
                                  {"name_dob", tokeniser->Hash(1, "jan|jansen|" + dob)}},
                              v1::FORM_SEXUAL, 202401);
    r.set_report_id(report_id);
    return r;
  };
  const std::string batch_id = testing::Id(4242);
  v1::BatchPayload sent = testing::MakePayload("police", profile_, testing::kAuditEpoch,
                                               {report_of(testing::Id(7), "1990-05-01")}, batch_id);
  std::vector<v1::BatchAck> acks;
  ASSERT_TRUE(Submit("police", {testing::Sign(*police_signer_, sent)}, &acks).ok());
  ASSERT_EQ(acks.size(), 1u);
  ASSERT_EQ(acks[0].accepted(), 1u);
  StopServer();

  // What the attacker reads from the copy.
  ASSERT_EQ(Column("SELECT batch_id FROM batches"), std::vector<std::string>{batch_id});
  const std::string stored_digest = Column("SELECT hex(digest) FROM batches")[0];
  const std::string stored_report_id = Column("SELECT lower(hex(report_id)) FROM report_ids")[0];
  ASSERT_EQ(stored_report_id, testing::Id(7));
  std::string trail;
  for (const auto& e : Entries()) trail += e.details + "\n";
  const std::string folder = DataFolderBytes();

  int matches = 0;
  for (const char* dob : {"1990-05-01", "1990-05-02"}) {
    v1::BatchPayload guess = testing::MakePayload(
        "police", profile_, testing::kAuditEpoch, {report_of(stored_report_id, dob)}, batch_id);
    const std::string bytes = guess.SerializeAsString();
    const std::string digest = crypto::Digest(kBatchContext, bytes);
    if (dob == std::string("1990-05-01")) {
      // The rebuilt payload is exact: the acknowledgement carried this very digest.
      ASSERT_EQ(digest, acks[0].batch_digest());
    }
    std::string upper_hex = crypto::ToHex(digest);
    for (char& c : upper_hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    // The node's (deterministic) Ed25519 signature over the guessed payload.
    const std::string signature = police_signer_->Sign(kBatchContext, bytes);
    const bool found = stored_digest == upper_hex ||
                       trail.find(crypto::ToHex(digest)) != std::string::npos ||
                       trail.find(crypto::Base64Encode(signature)) != std::string::npos ||
                       folder.find(digest) != std::string::npos ||
                       folder.find(signature) != std::string::npos ||
                       folder.find(crypto::ToHex(digest)) != std::string::npos;
    matches += found ? 1 : 0;
  }
  EXPECT_EQ(matches, 0) << "a guessed identity was confirmed from the stored digest";
  // What the trail keeps instead: the digest keyed with the store key, no signature.
  EXPECT_THAT(trail, HasSubstr("\"batch_digest\":\""));
  EXPECT_THAT(trail, ::testing::Not(HasSubstr("node_signature")));
}

// A refused batch's entry names its digest keyed too.
TEST_F(SecurityTest, ARefusedBatchIsRecordedWithAKeyedDigest) {
  v1::BatchPayload p = testing::MakePayload("police", profile_, testing::kAuditEpoch,
                                            {MakeReport(1, {{"nid", testing::Tok(1)}})});
  std::vector<v1::BatchAck> acks;
  // Signed by the wrong node: refused (UNAUTHENTICATED) before it is parsed.
  ASSERT_TRUE(Submit("police", {testing::Sign(*zorg_signer_, p)}, &acks).ok());
  ASSERT_EQ(acks.size(), 1u);
  StopServer();
  std::string trail;
  for (const auto& e : Entries()) trail += e.details + "\n";
  EXPECT_THAT(trail, HasSubstr("\"code\":\"UNAUTHENTICATED\""));
  EXPECT_EQ(trail.find(crypto::ToHex(acks[0].batch_digest())), std::string::npos);
}

// A database of schema version 5 kept the plain digests; opening it keys them.
TEST(BatchDigestUpgradeTest, OpeningAnOlderDatabaseKeysItsStoredDigests) {
  const std::string dir = testing::FreshDir("digest_upgrade") + "/data";
  const crypto::SecretBytes key = *crypto::SecretBytes::Random(32);
  const std::vector<std::string> rules = {"nid"};
  const std::string plain = crypto::Digest(kBatchContext, "payload");
  std::string keyed;
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, rules));
    std::vector<v1::Report> reports{MakeReport(1, {{"nid", testing::Tok(1)}})};
    BatchToStore b;
    b.batch_id = testing::Id(1);
    b.agency = "police";
    b.digest = plain;
    b.report_count = 1;
    b.reports.push_back({0, &reports[0]});
    ASSERT_OK(store->CommitBatch(b));
    keyed = store->KeyedBatchDigest(plain);
  }
  const std::string db = dir + "/aggregator.db";
  EXPECT_EQ(testing::Column(db, "SELECT lower(hex(digest)) FROM batches")[0], crypto::ToHex(keyed));
  EXPECT_NE(keyed, plain);
  // Back to what version 5 stored.
  testing::DowngradeToSchemaSix(db, key);
  ExecSql(db, "UPDATE batches SET digest = x'" + crypto::ToHex(plain) + "'; PRAGMA user_version = 5");
  ASSERT_EQ(testing::Column(db, "PRAGMA user_version")[0], "5");
  ASSERT_EQ(testing::Column(db, "SELECT lower(hex(digest)) FROM batches")[0], crypto::ToHex(plain));
  {
    ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, rules));
  }
  EXPECT_EQ(testing::Column(db, "PRAGMA user_version")[0], absl::StrCat(kSchemaVersion));
  EXPECT_EQ(testing::Column(db, "SELECT lower(hex(digest)) FROM batches")[0], crypto::ToHex(keyed));
}

// ---- Audit gaps ------------------------------------------------------------------------

// The details of the entries of `event`, in order, with their actors.
std::vector<std::pair<std::string, std::string>> Of(const std::vector<audit::Entry>& entries,
                                                    const std::string& event) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : entries) {
    if (e.event == event) out.emplace_back(e.actor, e.details);
  }
  return out;
}

// An agency trying the query, admin and audit services, an analyst trying intake and the
// administrator's settings: each refusal is an entry naming the caller, its role, what it
// asked and the outcome.
TEST_F(SecurityTest, EveryPermissionDeniedCallIsAudited) {
  v1::TotalsResponse totals;
  EXPECT_EQ(Totals("police", &totals).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  {
    v1::Settings out;
    EXPECT_EQ(v1::Admin::NewStub(Channel("gemeente"))
                  ->GetSettings(Ctx().get(), v1::GetSettingsRequest(), &out)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::SetKeyEpochRequest req;
    req.set_key_epoch(9);
    EXPECT_EQ(v1::Admin::NewStub(Channel("police"))->SetKeyEpoch(Ctx().get(), req, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::GetTrailResponse out;
    EXPECT_EQ(v1::Audit::NewStub(Channel("zorg"))
                  ->GetTrail(Ctx().get(), v1::GetTrailRequest(), &out)
                  .error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  v1::RetractResponse rr;
  EXPECT_EQ(Retract("gemeente", {testing::Id(1)}, &rr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Submit("beheer", {PoliceBatch({MakeReport(1, {})})}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  StopServer();
  auto denied = Of(Entries(), kEventPermissionDenied);
  ASSERT_EQ(denied.size(), 6u);
  const std::vector<std::tuple<std::string, std::string, std::string>> expected = {
      {"police", "agency", "Query.Totals"},       {"gemeente", "analyst", "Admin.GetSettings"},
      {"police", "agency", "Admin.SetKeyEpoch"},  {"zorg", "agency", "Audit.GetTrail"},
      {"gemeente", "analyst", "Intake.Retract"},  {"beheer", "admin", "Intake.SubmitBatches"}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [actor, role, asked] = expected[i];
    EXPECT_EQ(denied[i].first, actor) << i;
    EXPECT_THAT(denied[i].second, HasSubstr(absl::StrCat("\"role\":\"", role, "\",\"asked\":\"",
                                                         asked, "\",\"outcome\":\"PERMISSION_DENIED\"")))
        << i;
  }
  // The administrator's own call is answered, not recorded as refused.
}

// A changed agency signing key names the agency and both key fingerprints; an agency
// removed from the configuration is recorded too.
TEST_F(SecurityTest, AChangedAgencySigningKeyIsAuditedWithBothFingerprints) {
  StopServer();
  const std::string old_fp = crypto::PublicKeyFingerprint(zorg_signer_->public_key());
  auto new_signer = *crypto::Signer::Generate();
  const std::string new_fp = crypto::PublicKeyFingerprint(new_signer->public_key());
  config_.mutable_agencies(1)->set_signing_public_key(crypto::Base64Encode(new_signer->public_key()));
  StartServer();
  StopServer();
  auto changed = Of(Entries(), kEventAgencyKeyChange);
  ASSERT_EQ(changed.size(), 1u);
  EXPECT_EQ(changed[0].first, kActorAggregator);
  EXPECT_THAT(changed[0].second,
              HasSubstr(absl::StrCat("{\"role\":\"aggregator\",\"asked\":\"start\",\"outcome\":\"OK\",",
                                     "\"process_user\":\"", LocalOperator(), "\",",
                                     "\"agency\":\"zorg\",\"previous_fingerprint\":\"", old_fp,
                                     "\",\"fingerprint\":\"", new_fp, "\"")));
  // Unchanged keys make no entry; a removed agency does.
  config_.mutable_agencies()->RemoveLast();
  StartServer();
  StopServer();
  changed = Of(Entries(), kEventAgencyKeyChange);
  ASSERT_EQ(changed.size(), 2u);
  EXPECT_THAT(changed[1].second, HasSubstr(absl::StrCat("\"agency\":\"zorg\",\"previous_fingerprint\":\"",
                                                        new_fp, "\",\"fingerprint\":\"\"")));
  // Every start records the configuration change itself (a new digest).
  EXPECT_EQ(Of(Entries(), kEventConfigChange).size(), 3u);
}

// An agency certificate calling every method of the query, admin and audit services: each
// call is refused and each refusal is one permission_denied entry naming the agency, its
// role, the method asked and the outcome.
TEST_F(SecurityTest, AnAgencyCallingEveryQueryAdminAndAuditMethodIsAudited) {
  auto ch = Channel("police");
  auto query = v1::Query::NewStub(ch);
  auto admin = v1::Admin::NewStub(ch);
  auto audit = v1::Audit::NewStub(ch);
  {
    v1::TotalsResponse out;
    EXPECT_EQ(query->Totals(Ctx().get(), v1::TotalsRequest(), &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::InsightResponse out;
    EXPECT_EQ(query->Insight(Ctx().get(), v1::InsightRequest(), &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::Settings out;
    EXPECT_EQ(admin->GetSettings(Ctx().get(), v1::GetSettingsRequest(), &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::SetRetentionRequest rr;
    rr.set_retention_months(12);
    EXPECT_EQ(admin->SetRetention(Ctx().get(), rr, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::SetKeyEpochRequest kr;
    kr.set_key_epoch(7);
    EXPECT_EQ(admin->SetKeyEpoch(Ctx().get(), kr, &out).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    v1::GetTrailResponse trail;
    EXPECT_EQ(audit->GetTrail(Ctx().get(), v1::GetTrailRequest(), &trail).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
    v1::GetCheckpointResponse cp;
    EXPECT_EQ(audit->GetCheckpoint(Ctx().get(), v1::GetCheckpointRequest(), &cp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  StopServer();
  const auto denied = Of(Entries(), kEventPermissionDenied);
  const std::vector<std::string> asked = {"Query.Totals",      "Query.Insight",
                                          "Admin.GetSettings", "Admin.SetRetention",
                                          "Admin.SetKeyEpoch", "Audit.GetTrail",
                                          "Audit.GetCheckpoint"};
  ASSERT_EQ(denied.size(), asked.size());
  for (size_t i = 0; i < asked.size(); ++i) {
    EXPECT_EQ(denied[i].first, "police") << i;
    EXPECT_THAT(denied[i].second,
                HasSubstr(absl::StrCat("{\"role\":\"agency\",\"asked\":\"", asked[i],
                                       "\",\"outcome\":\"PERMISSION_DENIED\",\"reason\":\"")))
        << i;
  }
  // Nothing was changed by the refused calls: the settings are the configuration's.
  EXPECT_TRUE(Of(Entries(), kEventRetentionChange).empty());
}

// Every configuration change is an entry naming the actor (the aggregator, which finds the
// change when it starts), its role, what was asked (the start) and the outcome.
TEST_F(SecurityTest, AConfigurationChangeNamesRoleAskedAndOutcome) {
  StopServer();
  config_.set_min_cell_size(3);
  StartServer();
  StopServer();
  const auto changes = Of(Entries(), kEventConfigChange);
  ASSERT_EQ(changes.size(), 2u);  // the first start, then the changed minimum cell size
  for (const auto& [actor, details] : changes) {
    EXPECT_EQ(actor, kActorAggregator);
    EXPECT_THAT(details, HasSubstr("{\"role\":\"aggregator\",\"asked\":\"start\",\"outcome\":\"OK\","
                                   "\"process_user\":\"" + LocalOperator() + "\""));
  }
  EXPECT_THAT(changes[1].second, HasSubstr("\"min_cell_size\":3"));
  // Key epoch entries at start say the same.
  for (const auto& [actor, details] : Of(Entries(), kEventKeyEpochChange)) {
    EXPECT_EQ(actor, kActorAggregator);
    EXPECT_THAT(details, HasSubstr("{\"role\":\"aggregator\",\"asked\":\"start\",\"outcome\":\"OK\""));
  }
}

// A key or certificate file replaced at the same path changes nothing in the configuration
// file, yet the aggregator now runs with another key: the start records it as a
// configuration change naming the field, the path and both file fingerprints, and never
// the key's bytes.
TEST_F(SecurityTest, AKeyOrCertificateReplacedAtTheSamePathIsAConfigurationChange) {
  StopServer();
  // The aggregator's certificate and key at paths of this test, so they can be swapped.
  const std::string tls = dir_ + "/tls";
  fs::create_directories(tls);
  fs::copy_file(pki_ + "/aggregator.crt", tls + "/server.crt");
  fs::copy_file(pki_ + "/aggregator.key", tls + "/server.key");
  config_.mutable_tls()->set_cert_file(tls + "/server.crt");
  config_.mutable_tls()->set_key_file(tls + "/server.key");
  StartServer();
  StopServer();
  const size_t before = Of(Entries(), kEventConfigChange).size();
  const std::string old_cert = FileBytes(tls + "/server.crt");
  const std::string old_key = FileBytes(tls + "/server.key");

  // The same paths, another certificate and key (a pair of another CA).
  const std::string other = samenzicht::testing::MakePki("audit_swapped_server",
                                                         {{"aggregator", "server"}});
  ASSERT_FALSE(other.empty());
  fs::copy_file(other + "/aggregator.crt", tls + "/server.crt",
                fs::copy_options::overwrite_existing);
  fs::copy_file(other + "/aggregator.key", tls + "/server.key",
                fs::copy_options::overwrite_existing);
  ASSERT_NE(FileBytes(tls + "/server.key"), old_key);
  StartServer();
  StopServer();
  auto changes = Of(Entries(), kEventConfigChange);
  ASSERT_EQ(changes.size(), before + 1);
  const std::string& d = changes.back().second;
  EXPECT_EQ(changes.back().first, kActorAggregator);
  EXPECT_THAT(d, HasSubstr("{\"role\":\"aggregator\",\"asked\":\"start\",\"outcome\":\"OK\""));
  // A file's fingerprint: the first 16 bytes of its domain-separated BLAKE2b-256, in hex.
  const auto fp = [](const std::string& bytes) {
    return crypto::ToHex(crypto::Digest("samenzicht.config-file.v1", bytes).substr(0, 16));
  };
  EXPECT_THAT(d, HasSubstr(absl::StrCat("{\"field\":\"tls.cert_file\",\"path\":\"", tls,
                                        "/server.crt\",\"previous_fingerprint\":\"", fp(old_cert),
                                        "\",\"fingerprint\":\"",
                                        fp(FileBytes(tls + "/server.crt")), "\"}")));
  EXPECT_THAT(d, HasSubstr(absl::StrCat("{\"field\":\"tls.key_file\",\"path\":\"", tls,
                                        "/server.key\",\"previous_fingerprint\":\"", fp(old_key),
                                        "\",\"fingerprint\":\"",
                                        fp(FileBytes(tls + "/server.key")), "\"}")));
  // Only the two replaced files are named.
  EXPECT_THAT(d, ::testing::Not(HasSubstr("\"field\":\"tls.ca_cert_file\"")));
  EXPECT_THAT(d, ::testing::Not(HasSubstr("\"field\":\"store_key_file\"")));
  // No key material in the trail: neither key's PEM body, nor any line of it.
  const auto all = Entries();
  for (const std::string& pem : {old_key, FileBytes(tls + "/server.key")}) {
    for (absl::string_view line : absl::StrSplit(pem, '\n', absl::SkipEmpty())) {
      if (line.rfind("-----", 0) == 0) continue;
      for (const auto& e : all) EXPECT_EQ(e.details.find(std::string(line)), std::string::npos) << e.seq;
    }
  }
  // The same files again: no entry.
  StartServer();
  StopServer();
  EXPECT_EQ(Of(Entries(), kEventConfigChange).size(), before + 1);

  // The store key and the linkage profile replaced at their paths are named as well.
  const std::string profile = FileBytes(config_.profile_file());
  std::ofstream(config_.profile_file(), std::ios::app) << "\n# edited\n";
  StartServer();
  StopServer();
  changes = Of(Entries(), kEventConfigChange);
  ASSERT_EQ(changes.size(), before + 2);
  EXPECT_THAT(changes.back().second,
              HasSubstr(absl::StrCat("{\"field\":\"profile_file\",\"path\":\"",
                                     config_.profile_file(), "\",\"previous_fingerprint\":\"",
                                     fp(profile), "\",\"fingerprint\":\"",
                                     fp(FileBytes(config_.profile_file())), "\"}")));
}

// The administrator's setting changes, made or refused, name the administrator, its role,
// the method asked and the outcome.
TEST_F(SecurityTest, AnAdministratorsSettingChangesNameRoleAskedAndOutcome) {
  auto admin = v1::Admin::NewStub(Channel("beheer"));
  v1::Settings s;
  v1::SetRetentionRequest rr;
  rr.set_retention_months(1201);
  EXPECT_EQ(admin->SetRetention(Ctx().get(), rr, &s).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  rr.set_retention_months(36);
  ASSERT_TRUE(admin->SetRetention(Ctx().get(), rr, &s).ok());
  v1::SetKeyEpochRequest kr;
  kr.set_key_epoch(0);
  EXPECT_EQ(admin->SetKeyEpoch(Ctx().get(), kr, &s).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  kr.set_key_epoch(2);
  ASSERT_TRUE(admin->SetKeyEpoch(Ctx().get(), kr, &s).ok());
  StopServer();
  const auto retention = Of(Entries(), kEventRetentionChange);
  ASSERT_EQ(retention.size(), 2u);
  EXPECT_EQ(retention[0].first, "beheer");
  EXPECT_THAT(retention[0].second,
              HasSubstr("{\"role\":\"admin\",\"asked\":\"Admin.SetRetention\","
                        "\"outcome\":\"INVALID_ARGUMENT\",\"reason\":\"retention_months must be at "
                        "most 1200\",\"from\":0,\"to\":1201"));
  EXPECT_EQ(retention[1].first, "beheer");
  EXPECT_THAT(retention[1].second,
              HasSubstr("{\"role\":\"admin\",\"asked\":\"Admin.SetRetention\",\"outcome\":\"OK\","
                        "\"from\":0,\"to\":36"));
  std::vector<std::pair<std::string, std::string>> epochs;
  for (const auto& e : Of(Entries(), kEventKeyEpochChange)) {
    if (e.first == "beheer") epochs.push_back(e);
  }
  ASSERT_EQ(epochs.size(), 2u);
  EXPECT_THAT(epochs[0].second,
              HasSubstr("{\"role\":\"admin\",\"asked\":\"Admin.SetKeyEpoch\","
                        "\"outcome\":\"INVALID_ARGUMENT\",\"reason\":\"key_epoch must be at least "
                        "1\",\"from\":1,\"to\":0"));
  EXPECT_THAT(epochs[1].second,
              HasSubstr("{\"role\":\"admin\",\"asked\":\"Admin.SetKeyEpoch\",\"outcome\":\"OK\","
                        "\"from\":1,\"to\":2"));
}

// ---- Free-text areas -----------------------------------------------------------------

TEST_F(SecurityTest, AreasAreRequiredOnBothSides) {
  StopServer();
  v1::AggregatorConfig no_areas = config_;
  no_areas.clear_areas();
  EXPECT_THAT(Server::Start(no_areas), StatusIs(absl::StatusCode::kInvalidArgument, "areas is required"));
  const std::string agg = dir_ + "/aggregator.textproto";
  std::ofstream(agg) << no_areas.DebugString();
  EXPECT_THAT(model::LoadAggregatorConfig(agg),
              StatusIs(absl::StatusCode::kInvalidArgument, "areas is required"));
  const std::string node = dir_ + "/node.textproto";
  std::ofstream(node) << "node_id: \"police\"\naggregator_address: \"127.0.0.1:1\"\n";
  EXPECT_THAT(model::LoadNodeConfig(node),
              StatusIs(absl::StatusCode::kInvalidArgument, "areas is required"));
  // Codes are short and of a restricted alphabet; the error names the position, never the
  // value (it might be a postcode or a name).
  for (const std::string& bad : {std::string("Jan Jansen"), std::string("9712 AB"),
                                 std::string(33, 'a'), std::string("oost")}) {
    v1::AggregatorConfig c = config_;
    c.add_areas(bad);
    absl::Status s = Server::Start(c).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("areas[2]")) << bad;
    EXPECT_EQ(std::string(s.message()).find(bad), std::string::npos) << s;
  }
  std::ofstream(node) << "node_id: \"police\"\nareas: [\"oost\", \"Oost-Groningen centrum\"]\n";
  EXPECT_THAT(model::LoadNodeConfig(node), StatusIs(absl::StatusCode::kInvalidArgument, "areas[1]"));
}

// Free text in `area` (a postcode, a name) is refused per report with INVALID_ARGUMENT
// naming the field, never echoing the value; a configured district is stored.
TEST_F(SecurityTest, IntakeRefusesAnAreaThatIsNotAConfiguredDistrict) {
  v1::Report postcode = MakeReport(1, {{"nid", testing::Tok(1)}});
  postcode.set_area("9712ab");
  v1::Report name = MakeReport(2, {{"nid", testing::Tok(2)}});
  name.set_area("jansen");
  v1::Report ok = MakeReport(3, {{"nid", testing::Tok(3)}});
  ok.set_area("west");
  std::vector<v1::BatchAck> acks;
  ASSERT_TRUE(Submit("police", {PoliceBatch({postcode, name, ok})}, &acks).ok());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].accepted(), 1u);
  ASSERT_EQ(acks[0].errors_size(), 2);
  for (const auto& e : acks[0].errors()) {
    EXPECT_EQ(e.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
    EXPECT_EQ(e.field(), "area");
    EXPECT_EQ(e.message().find("9712"), std::string::npos);
    EXPECT_EQ(e.message().find("jansen"), std::string::npos);
  }
  StopServer();
  ASSERT_OK_AND_ASSIGN(crypto::LoadedKey key,
                       crypto::LoadKeyFile(config_.store_key_file(), crypto::KeyKind::kStore));
  EXPECT_EQ(testing::StoredAreas(data_dir_ + "/aggregator.db", key.bytes),
            std::vector<std::string>{"west"});
}

// A database written before areas were required may hold free text: it is never published
// as a row label (read as not known).
TEST(KnownAreasTest, AStoredAreaOutsideTheConfigurationIsNoLabel) {
  const std::string dir = testing::FreshDir("known_areas") + "/data";
  const crypto::SecretBytes key = *crypto::SecretBytes::Random(32);
  ASSERT_OK_AND_ASSIGN(auto store, Store::Open(dir, key, {"nid"}));
  std::vector<v1::Report> reports{MakeReport(1, {}), MakeReport(2, {})};
  reports[0].set_area("west");
  reports[1].set_area("jan jansen 9712ab");
  BatchToStore b;
  b.batch_id = testing::Id(1);
  b.agency = "police";
  b.digest = std::string(32, 'd');
  b.report_count = 2;
  for (uint32_t i = 0; i < 2; ++i) b.reports.push_back({i, &reports[i]});
  ASSERT_OK(store->CommitBatch(b));
  auto none = [](const std::string&) { return 0; };
  ASSERT_OK_AND_ASSIGN(Dataset before, store->LoadDataset(none));
  EXPECT_EQ(before.areas.size(), 2u);
  store->SetKnownAreas({"west", "oost"});
  ASSERT_OK_AND_ASSIGN(Dataset d, store->LoadDataset(none));
  EXPECT_EQ(d.areas, std::vector<std::string>{"west"});
  ASSERT_EQ(d.reports.size(), 2u);
  EXPECT_EQ(d.reports[0].area, 1);
  EXPECT_EQ(d.reports[1].area, 0);
}

// ---- A malicious agency ------------------------------------------------------------------

// The row of `agency` in a CSV anomaly report, as its cells.
std::vector<std::string> RowOf(const std::string& csv, const std::string& agency) {
  std::istringstream in(csv);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(agency + ",", 0) == 0) return absl::StrSplit(line, ',');
  }
  return {};
}

// Zorg pushes a victim's national-id token through six reports of its own and sends one
// report carrying more tokens than one person's report can: both show in its figures, the
// honest agency's do not.
TEST_F(SecurityTest, AMaliciousAgencyShowsInTheAnomalyFigures) {
  std::vector<v1::Report> police;
  for (int i = 1; i <= 3; ++i) police.push_back(MakeReport(i, {{"nid", testing::Tok(i)}}));
  police.push_back(MakeReport(4, {{"nid", testing::Tok(99)}}));
  ASSERT_TRUE(Submit("police", {PoliceBatch(police)}).ok());
  std::vector<v1::Report> zorg;
  for (int i = 11; i <= 16; ++i) zorg.push_back(MakeReport(i, {{"nid", testing::Tok(99)}}));
  std::vector<std::pair<std::string, std::string>> many;
  for (int t = 0; t < 50; ++t) many.emplace_back("surdel_dob", testing::Tok(1000 + t));
  zorg.push_back(MakeReport(17, many));
  std::vector<v1::BatchAck> acks;
  ASSERT_TRUE(Submit("zorg", {ZorgBatch(zorg)}, &acks).ok());
  ASSERT_EQ(acks.at(0).accepted(), 7u) << acks[0].message();
  StopServer();

  ASSERT_OK_AND_ASSIGN(crypto::LoadedKey key,
                       crypto::LoadKeyFile(config_.store_key_file(), crypto::KeyKind::kStore));
  ASSERT_OK_AND_ASSIGN(auto shares, ReadTokenShares(data_dir_, key.bytes));
  EXPECT_EQ(shares["zorg"].largest_token_reports, 6);
  EXPECT_NEAR(shares["zorg"].largest_token_share, 6.0 / 7.0, 1e-9);
  EXPECT_EQ(shares["police"].largest_token_reports, 1);
  ReportOptions o;
  o.format = "csv";
  ASSERT_OK_AND_ASSIGN(std::string csv, AnomalyReport(Entries(), shares, o));
  // agency,reports,tokens_per_report,max_tokens_per_report,reports_beyond_profile,...
  EXPECT_EQ(RowOf(csv, "zorg"),
            (std::vector<std::string>{"zorg", "7", "8.00", "50", "1", RowOf(csv, "zorg").at(5),
                                      "7", "0.00", "0.00", "6", "0.86"}))
      << csv;
  const std::vector<std::string> honest = RowOf(csv, "police");
  ASSERT_EQ(honest.size(), 11u) << csv;
  EXPECT_EQ(honest[1], "4");
  EXPECT_EQ(honest[3], "1");
  EXPECT_EQ(honest[4], "0");
  EXPECT_EQ(honest[9], "1");
  ASSERT_OK_AND_ASSIGN(std::string table, AnomalyReport(Entries(), shares, {}));
  EXPECT_THAT(table, HasSubstr("zorg"));

  // A database of schema 7 (corrections, tokens not sealed yet) that no newer aggregator has
  // opened: the same figures, its tokens read as stored.
  const std::string db_path = data_dir_ + "/aggregator.db";
  testing::DowngradeToSchemaSix(db_path, key.bytes);
  ASSERT_EQ(testing::Column(db_path, "PRAGMA user_version")[0], "6");
  ExecSql(db_path,
          "ALTER TABLE reports ADD COLUMN version INTEGER NOT NULL DEFAULT 1; PRAGMA user_version = 7");
  ASSERT_OK_AND_ASSIGN(auto shares7, ReadTokenShares(data_dir_, key.bytes));
  EXPECT_EQ(shares7["zorg"].largest_token_reports, 6);
  EXPECT_EQ(shares7["police"].largest_token_reports, 1);
}

// Reports per period against the agency's history: a month with ten times the agency's
// usual number of reports stands out.
TEST(AnomalyReportTest, ABusyMonthIsComparedWithTheAgencysHistory) {
  std::vector<audit::Entry> entries;
  auto batch = [&](const std::string& agency, int year, int month, int accepted) {
    audit::Entry e;
    e.event = kEventBatchReceived;
    e.actor = agency;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = 15;
    e.time_ms = static_cast<int64_t>(timegm(&tm)) * 1000;
    e.details = absl::StrCat("{\"accepted\":", accepted, ",\"tokens\":", accepted * 3,
                             ",\"max_tokens_per_report\":3,\"reports_beyond_profile\":0}");
    entries.push_back(e);
  };
  for (int m = 1; m <= 5; ++m) batch("police", 2024, m, m == 3 ? 12 : 10);
  batch("police", 2024, 6, 100);
  batch("zorg", 2024, 1, 5);
  batch("zorg", 2024, 6, 6);  // months without a batch count as 0
  ReportOptions o;
  o.format = "csv";
  ASSERT_OK_AND_ASSIGN(std::string csv, AnomalyReport(entries, {}, o));
  EXPECT_EQ(RowOf(csv, "police"),
            (std::vector<std::string>{"police", "152", "3.00", "3", "0", "2024-06", "100", "10.00",
                                      "10.00", "0", "0.00"}))
      << csv;
  EXPECT_EQ(RowOf(csv, "zorg").at(5), "2024-06");
  EXPECT_EQ(RowOf(csv, "zorg").at(7), "0.00");  // 5, 0, 0, 0, 0 before June
  // Within a period only its months are compared; the history before it still counts.
  o.from_month = 202405;
  ASSERT_OK_AND_ASSIGN(csv, AnomalyReport(entries, {}, o));
  EXPECT_EQ(RowOf(csv, "police").at(1), "110");
  EXPECT_EQ(RowOf(csv, "police").at(7), "10.00");
}

}  // namespace
}  // namespace samenzicht::aggregator
