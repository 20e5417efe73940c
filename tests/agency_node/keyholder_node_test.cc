// The node with the key service: an agency node's files copied elsewhere (certificate,
// private key, configuration; there is no key) compute no token without the key service,
// while the same files with the shared key of the weaker mode compute every token; two
// nodes give identical tokens for identical inputs (linkage works) and these differ from
// the shared-key mode's; the key service's trail counts every evaluation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agency_node/commands.h"
#include "agency_node/keyholder_client.h"
#include "common/files.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "google/protobuf/util/json_util.h"
#include "keyholder/commands.h"
#include "keyholder/key_service.h"
#include "keyholder/server.h"
#include "samenzicht/v1/report.pb.h"
#include "tests/agency_node/keyholder_fixture.h"
#include "tests/testing/keyholder_service.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

namespace fs = std::filesystem;
using ::samenzicht::testing::StatusIs;

using ::samenzicht::agency_node::testing::kKeyholderSignals;

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// record order -> the report's tokens as "rule:value" strings.
std::vector<std::set<std::string>> Tokens(const std::string& jsonl) {
  std::vector<std::set<std::string>> out;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n', absl::SkipEmpty())) {
    v1::Report r;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &r).ok());
    std::set<std::string> t;
    for (const auto& tok : r.tokens()) t.insert(absl::StrCat(tok.rule(), ":", tok.value()));
    out.push_back(std::move(t));
  }
  return out;
}

class KeyholderNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/keyholder_node/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    ASSERT_OK(files::MakeDirs(dir_ + "/service"));
    pki_ = samenzicht::testing::MakePki(
        absl::StrCat("keyholder_node_", ::testing::UnitTest::GetInstance()->current_test_info()->name()),
        {{"keyholder", "server"}, {"police", "agency"}, {"zorg", "agency"}});
    ASSERT_FALSE(pki_.empty());
    ASSERT_OK(crypto::oprf::GenerateServerKeyFile(dir_ + "/service/oprf-1.key", 1));
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/service/audit.key", crypto::KeyKind::kSigning).status());
    ASSERT_OK_AND_ASSIGN(server_, keyholder::Server::Start(
                                      samenzicht::testing::KeyServiceConfig(pki_, "keyholder", dir_ + "/service/data",
                                                                            dir_ + "/service/oprf-1.key",
                                                                            dir_ + "/service/audit.key"),
                                      testing::MidHourClock));
    for (const char* node : {"police", "zorg"}) {
      // Everything the node has: its certificate and key, the CA, the client configuration.
      const std::string nd = dir_ + "/" + node;
      ASSERT_OK(files::MakeDirs(nd));
      for (const std::string& f : {std::string("ca.crt"), std::string(node) + ".crt", std::string(node) + ".key"}) {
        fs::copy_file(pki_ + "/" + f, nd + "/" + f);
      }
      ASSERT_OK(files::WriteFileAtomic(
          nd + "/keyholder.textproto",
          samenzicht::testing::KeyServiceClientText(server_->port(), 1, "ca.crt", absl::StrCat(node, ".crt"),
                                                    absl::StrCat(node, ".key")),
          0600));
      ASSERT_OK(files::WriteFileAtomic(nd + "/in.csv", kKeyholderSignals, 0600));
    }
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_);
    log_ = std::make_shared<spdlog::logger>("test", sink_);
  }

  PseudonymiseOptions Options(const std::string& node_dir) {
    PseudonymiseOptions o;
    o.keyholder = node_dir + "/keyholder.textproto";
    o.in = node_dir + "/in.csv";
    o.out = node_dir + "/out.jsonl";
    o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
    o.areas = {"zuid", "oost"};
    o.today = Date{2024, 6, 15};
    return o;
  }

  // Starts the key service again with `key_file` (and an hourly limit; 0: the default) on
  // a new port, and points the police node's client configuration at it.
  void RestartService(const std::string& key_file, uint64_t per_hour) {
    server_.reset();
    v1::KeyholderConfig config = samenzicht::testing::KeyServiceConfig(
        pki_, "keyholder", dir_ + "/service/data", key_file, dir_ + "/service/audit.key");
    if (per_hour > 0) config.set_max_evaluations_per_node_per_hour(per_hour);
    ASSERT_OK_AND_ASSIGN(server_, keyholder::Server::Start(config, testing::MidHourClock));
    ASSERT_OK(files::WriteFileAtomic(
        dir_ + "/police/keyholder.textproto",
        samenzicht::testing::KeyServiceClientText(server_->port(), 1, "ca.crt", "police.crt", "police.key"),
        0600));
  }

  std::string dir_, pki_;
  std::unique_ptr<keyholder::Server> server_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> log_;
};

TEST_F(KeyholderNodeTest, StolenNodeFilesComputeNoTokenWithoutTheKeyService) {
  // The thief copies the whole node folder to another machine.
  const std::string stolen = dir_ + "/stolen";
  fs::copy(dir_ + "/police", stolen, fs::copy_options::recursive);
  std::ostringstream out;
  // With the key service out of reach (not running, or the thief is outside its network):
  server_.reset();
  auto o = Options(stolen);
  EXPECT_THAT(PseudonymiseCommand(o, *log_, out), StatusIs(absl::StatusCode::kUnavailable, "key service"));
  EXPECT_FALSE(fs::exists(o.out)) << "no report, so no token, may be written";
  // No file of the node is a key that computes tokens offline.
  for (const auto& entry : fs::directory_iterator(stolen)) {
    auto k = Options(stolen);
    k.keyholder.clear();
    k.key_file = entry.path().string();
    fs::permissions(k.key_file, fs::perms::owner_read | fs::perms::owner_write);
    EXPECT_FALSE(PseudonymiseCommand(k, *log_, out).ok()) << entry.path();
    EXPECT_FALSE(fs::exists(k.out)) << entry.path();
  }
  // Without either option the command refuses and names both.
  auto none = Options(stolen);
  none.keyholder.clear();
  EXPECT_THAT(PseudonymiseCommand(none, *log_, out),
              StatusIs(absl::StatusCode::kInvalidArgument, "--keyholder FILE"));
  EXPECT_THAT(PseudonymiseCommand(none, *log_, out),
              StatusIs(absl::StatusCode::kInvalidArgument, "--key FILE"));

  // The same theft in the shared-key mode: the node folder holds the hashing key, and the
  // copy computes every token offline. This is what the key service takes away.
  ASSERT_OK(crypto::GenerateKeyFile(stolen + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
  auto shared = Options(stolen);
  shared.keyholder.clear();
  shared.key_file = stolen + "/hashing.key";
  ASSERT_OK(PseudonymiseCommand(shared, *log_, out));
  EXPECT_EQ(Tokens(Slurp(shared.out)).size(), 3u);
}

TEST_F(KeyholderNodeTest, TwoNodesLinkAndTokensDifferFromSharedKeyMode) {
  std::ostringstream out;
  auto police = Options(dir_ + "/police");
  auto zorg = Options(dir_ + "/zorg");
  ASSERT_OK(PseudonymiseCommand(police, *log_, out));
  ASSERT_OK(PseudonymiseCommand(zorg, *log_, out));
  auto tp = Tokens(Slurp(police.out));
  auto tz = Tokens(Slurp(zorg.out));
  ASSERT_EQ(tp.size(), 3u);
  EXPECT_EQ(tp, tz) << "identical inputs at two nodes must give identical tokens";
  size_t tokens = 0;
  for (const auto& t : tp) {
    EXPECT_FALSE(t.empty());
    tokens += t.size();
  }
  EXPECT_NE(tp[0], tp[1]) << "different persons, different tokens";

  // The shared-key mode's tokens of the same records: none in common.
  ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
  auto shared = Options(dir_ + "/police");
  shared.keyholder.clear();
  shared.key_file = dir_ + "/hashing.key";
  shared.out = dir_ + "/shared.jsonl";
  ASSERT_OK(PseudonymiseCommand(shared, *log_, out));
  auto ts = Tokens(Slurp(shared.out));
  ASSERT_EQ(ts.size(), 3u);
  std::set<std::string> all_oprf, all_shared;
  for (const auto& t : tp) all_oprf.insert(t.begin(), t.end());
  for (const auto& t : ts) all_shared.insert(t.begin(), t.end());
  EXPECT_EQ(all_oprf.size(), tokens) << "no two tokens of the run coincide";
  for (const auto& t : all_shared) EXPECT_EQ(all_oprf.count(t), 0u);
  // Same rules were tokenised in both modes (same number of tokens per record).
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(tp[i].size(), ts[i].size()) << i;

  // The key service counted every evaluation: one per distinct value part of the records
  // (far fewer than their tokens) per node, in one call each.
  const size_t evaluations = testing::DistinctOracleInputs(kKeyholderSignals);
  EXPECT_LT(evaluations * 2, tokens);
  EXPECT_EQ(server_->service()->UsedToday("police"), evaluations);
  EXPECT_EQ(server_->service()->UsedToday("zorg"), evaluations);
  server_.reset();
  ASSERT_OK_AND_ASSIGN(keyholder::Trail trail, keyholder::ReadTrail(dir_ + "/service/data"));
  int calls = 0;
  for (const auto& e : trail.entries) {
    if (e.event != "evaluation") continue;
    ++calls;
    EXPECT_NE(e.details.find(absl::StrCat("\"evaluations\":", evaluations)), std::string::npos) << e.details;
  }
  EXPECT_EQ(calls, 2) << "one call per batch of records, not one per token or value";
}

// The tokens of the key-service mode under a known key (the key of RFC 9497's published
// test vectors) are pinned: a change of how values are split, evaluated or combined into
// tokens changes them, and must be made deliberately (every deployment then moves to a
// new epoch, docs/operations.md). The blinds are random; the tokens do not depend on them.
TEST_F(KeyholderNodeTest, TokensUnderAKnownKeyArePinned) {
  const std::string sk = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e";
  std::string raw;
  for (size_t i = 0; i < sk.size(); i += 2) raw.push_back(static_cast<char>(std::stoi(sk.substr(i, 2), nullptr, 16)));
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/service/oprf-known.key",
                                   absl::StrCat("samenzicht-key v1 oprf-ristretto255 1 ", crypto::Base64Encode(raw), "\n"),
                                   0600));
  ASSERT_NO_FATAL_FAILURE(RestartService(dir_ + "/service/oprf-known.key", 0));
  // A profile of its own, so that the shipped profile may gain rules: an ordinary rule, one
  // of three fields, one with a deletion neighbourhood, one with name-deletion pairs.
  const std::string profile = dir_ + "/pinned_profile.textproto";
  ASSERT_OK(files::WriteFileAtomic(profile,
                                   "name: \"pinned\"\nversion: 1\nmax_reports_per_token: 50\n"
                                   "method: LINKAGE_METHOD_FELLEGI_SUNTER\nmatch_probability: 0.9\n"
                                   "rules { name: \"nid\" fields: [FIELD_NATIONAL_ID] }\n"
                                   "rules { name: \"name_dob\" fields: [FIELD_FIRST_GIVEN_NAME, FIELD_SURNAME, FIELD_DATE_OF_BIRTH] }\n"
                                   "rules { name: \"surdel_dob\" fields: [FIELD_SURNAME_DELETIONS, FIELD_FIRST_INITIAL, FIELD_DOB_DAY_MONTH_UNORDERED] }\n"
                                   "rules { name: \"namedel_pca\" fields: [FIELD_NAME_DELETIONS, FIELD_POSTCODE_AREA] }\n",
                                   0600));
  const std::string nd = dir_ + "/police";
  std::ostringstream out;
  auto o = Options(nd);
  o.profile = profile;
  ASSERT_OK(PseudonymiseCommand(o, *log_, out));
  std::string listing;
  size_t tokens = 0;
  for (const auto& record : Tokens(Slurp(o.out))) {
    for (const std::string& t : record) absl::StrAppend(&listing, crypto::ToHex(t), "\n");
    tokens += record.size();
    listing += "--\n";
  }
  EXPECT_EQ(tokens, 133u);
  EXPECT_EQ(crypto::ToHex(crypto::Digest("golden", listing)).substr(0, 32), "ae3706d801f1a1aac5898d175da7d355");
}

TEST_F(KeyholderNodeTest, LimitReachedFailsTheRunAndWritesNothing) {
  ASSERT_NO_FATAL_FAILURE(RestartService(dir_ + "/service/oprf-1.key", 5));
  const std::string nd = dir_ + "/police";
  std::ostringstream out;
  auto o = Options(nd);
  EXPECT_THAT(PseudonymiseCommand(o, *log_, out),
              StatusIs(absl::StatusCode::kResourceExhausted, "this hour"));
  EXPECT_FALSE(fs::exists(o.out));
  EXPECT_EQ(server_->service()->UsedThisHour("police"), 0u);
}

// The attack the per-value evaluation makes cheaper: someone with a node's certificate and
// key (and the aggregator's database) evaluates a list of surnames through the key service,
// to compute every combination token offline. At the default limits (sized for a node's
// normal use, keyholder/key_service.h) the service stops it after kDefaultPerHour
// evaluations in the hour (RESOURCE_EXHAUSTED, nothing of the refused calls evaluated),
// and the trail, verified, shows the node's evaluations and its refused calls.
TEST_F(KeyholderNodeTest, ANodeEnumeratingANameListIsStoppedAtTheDefaultLimit) {
  ASSERT_OK_AND_ASSIGN(v1::KeyholderClientConfig config,
                       LoadKeyholderClientConfig(dir_ + "/police/keyholder.textproto"));
  ASSERT_OK_AND_ASSIGN(auto oracle, KeyholderOracle::New(config));
  constexpr size_t kList = 12000, kPerCall = 1000;
  static_assert(kList > keyholder::kDefaultPerHour && keyholder::kDefaultPerHour % kPerCall == 0);
  std::vector<std::string> names;
  for (size_t i = 0; i < kList; ++i) names.push_back(absl::StrCat("surname", i));
  size_t evaluated = 0, refused = 0;
  for (size_t at = 0; at < kList; at += kPerCall) {
    std::vector<std::string_view> call(names.begin() + at, names.begin() + at + kPerCall);
    absl::StatusOr<std::string> out = oracle->Evaluate(call);
    if (out.ok()) {
      ASSERT_EQ(out->size(), kPerCall * crypto::kDigestBytes);
      evaluated += kPerCall;
      continue;
    }
    EXPECT_THAT(out.status(), StatusIs(absl::StatusCode::kResourceExhausted, "this hour")) << at;
    EXPECT_TRUE(IsKeyServiceError(out.status()));
    ++refused;
  }
  EXPECT_EQ(evaluated, keyholder::kDefaultPerHour);
  EXPECT_EQ(refused, (kList - keyholder::kDefaultPerHour) / kPerCall);
  EXPECT_EQ(server_->service()->UsedThisHour("police"), keyholder::kDefaultPerHour);
  server_.reset();  // writes the counted repeated refusals

  // The trail: the node's evaluations, its first refusal, and the further ones counted.
  ASSERT_OK_AND_ASSIGN(keyholder::Trail trail, keyholder::ReadTrail(dir_ + "/service/data"));
  uint64_t trail_evaluations = 0, first_refusals = 0, repeated_refusals = 0;
  for (const auto& e : trail.entries) {
    if (e.actor != "police") continue;
    if (e.event == "evaluation") trail_evaluations += keyholder::JsonCount(e.details, "evaluations");
    if (e.event == "limit_refused") ++first_refusals;
    if (e.event == "limit_refused_repeated") repeated_refusals += keyholder::JsonCount(e.details, "refused_calls");
  }
  EXPECT_EQ(trail_evaluations, keyholder::kDefaultPerHour);
  EXPECT_EQ(first_refusals, 1u);
  EXPECT_EQ(first_refusals + repeated_refusals, refused);
  // What the privacy officer reads (`keyholder audit report`, after verifying the trail).
  std::ostringstream report;
  ASSERT_OK(keyholder::AuditReportCommand(dir_ + "/service/data", "", report));
  EXPECT_THAT(report.str(), ::testing::HasSubstr(absl::StrCat(",police,1,", keyholder::kDefaultPerHour, ",", refused, "\n")));
}

}  // namespace
}  // namespace samenzicht::agency_node
