// Two key services (2-of-2): each holds one share of the key, k = k1 * k2, and the node has
// the first service's answer evaluated by the second. The tokens are those of one service
// holding k1 * k2 (pinned under known shares); one service's answer alone gives no token
// of the deployment; each service limits and records the node's evaluations on its own;
// a second service that is down, is not the one configured, lacks the epoch or refuses
// fails the run with its own status code and is named as the second; a second service set
// up with the first's public key refuses a node that calls it directly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agency_node/commands.h"
#include "common/files.h"
#include "crypto/encoding.h"
#include "crypto/evaluation_receipt.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "crypto/signature.h"
#include "google/protobuf/util/json_util.h"
#include "keyholder/commands.h"
#include "keyholder/key_service.h"
#include "keyholder/server.h"
#include "rpc/tls.h"
#include "samenzicht/v1/keyholder.grpc.pb.h"
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

// k1: the key of RFC 9497's test vectors; k2: SHA-512("second share") reduced mod the group
// order; k = k1 * k2 mod 2^252 + 27742317777372353535851937790883648493, computed outside
// the project (Python integers). Little-endian scalars, as in the key files.
constexpr char kShare1[] = "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e";
constexpr char kShare2[] = "1064cf76f2cf366f33be004b2b54e3b123a658896e25df20d0017d0ccf514c09";
constexpr char kProduct[] = "f23d6eeb840b01b62edab549615d403d4f5acb7ac8a59007233b98c208ec9f00";

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Every token of a pseudonymise output, as "rule:value".
std::set<std::string> AllTokens(const std::string& jsonl) {
  std::set<std::string> out;
  for (absl::string_view line : absl::StrSplit(jsonl, '\n', absl::SkipEmpty())) {
    v1::Report r;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(std::string(line), &r).ok());
    for (const auto& tok : r.tokens()) out.insert(absl::StrCat(tok.rule(), ":", crypto::ToHex(tok.value())));
  }
  return out;
}

class KeyholderTwoServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = ::testing::TempDir() + "/keyholder_two/" + name;
    fs::remove_all(dir_);
    ASSERT_OK(files::MakeDirs(dir_ + "/node"));
    // Service a answers as localhost and 127.0.0.1 (the default names), service b as
    // keyholder-b.example only: a node that expects b checks that it reached b.
    pki_ = samenzicht::testing::MakePki(absl::StrCat("keyholder_two_", name),
                                        {{"keyholder-a", "server"}, {"keyholder-c", "server"},
                                         {"police", "agency"}, {"jeugdzorg", "agency"}});
    ASSERT_FALSE(pki_.empty());
    ASSERT_EQ(std::system((std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh issue " + pki_ +
                           " keyholder-b server DNS:keyholder-b.example >/dev/null")
                              .c_str()),
              0);
    for (const std::string& f : {std::string("ca.crt"), std::string("police.crt"), std::string("police.key")}) {
      fs::copy_file(pki_ + "/" + f, dir_ + "/node/" + f);
    }
    ASSERT_OK(files::WriteFileAtomic(dir_ + "/node/in.csv", kKeyholderSignals, 0600));
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_);
    log_ = std::make_shared<spdlog::logger>("test", sink_);
  }

  // A key service `name` (its certificate, data and keys under dir_/name) with the scalar
  // `hex` for `epoch` and an hourly limit (0: the default); a second service evaluates only
  // with receipts of the service whose trail key is `receipts_from` (none when null).
  std::unique_ptr<keyholder::Server> Start(const std::string& name, const char* hex, uint32_t epoch = 1,
                                           uint64_t per_hour = 0, keyholder::Server* receipts_from = nullptr) {
    const std::string d = dir_ + "/" + name;
    EXPECT_OK(files::MakeDirs(d));
    const std::string raw = Unhex(hex);
    const std::string key = absl::StrCat(d, "/oprf-", epoch, ".key");
    if (!fs::exists(key)) {
      EXPECT_OK(files::WriteFileAtomic(
          key, absl::StrCat("samenzicht-key v1 oprf-ristretto255 ", epoch, " ", crypto::Base64Encode(raw), "\n"),
          0600));
    }
    if (!fs::exists(d + "/audit.key")) {
      EXPECT_OK(crypto::GenerateKeyFile(d + "/audit.key", crypto::KeyKind::kSigning).status());
    }
    v1::KeyholderConfig config =
        samenzicht::testing::KeyServiceConfig(pki_, name, d + "/data", key, d + "/audit.key");
    if (per_hour > 0) config.set_max_evaluations_per_node_per_hour(per_hour);
    if (receipts_from != nullptr) {
      config.set_first_service_public_key(crypto::Base64Encode(receipts_from->service()->public_key()));
    }
    auto server = keyholder::Server::Start(config, testing::MidHourClock);
    EXPECT_OK(server.status());
    return server.ok() ? std::move(*server) : nullptr;
  }

  // The node's client configuration: the first service at `first`, and a second one at
  // `second` (none when 0) checked against the name `second_name` (none when empty).
  std::string ClientConfig(int first, int second, const std::string& second_name = "keyholder-b.example") {
    std::string text = samenzicht::testing::KeyServiceClientText(first, 1, "ca.crt", "police.crt", "police.key");
    if (second != 0) {
      absl::StrAppend(&text, "second { address: \"127.0.0.1:", second, "\"");
      if (!second_name.empty()) absl::StrAppend(&text, " server_name: \"", second_name, "\"");
      text += " }\n";
    }
    const std::string path = absl::StrCat(dir_, "/node/keyholder-", ++configs_, ".textproto");
    EXPECT_OK(files::WriteFileAtomic(path, text, 0600));
    return path;
  }

  PseudonymiseOptions Options(const std::string& client_config, const std::string& out) {
    PseudonymiseOptions o;
    o.keyholder = client_config;
    o.in = dir_ + "/node/in.csv";
    o.out = dir_ + "/node/" + out;
    o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
    o.areas = {"zuid", "oost"};
    o.today = Date{2024, 6, 15};
    return o;
  }

  std::string dir_, pki_;
  int configs_ = 0;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> log_;
};

TEST_F(KeyholderTwoServicesTest, TwoSharesGiveTheTokensOfTheirProductAndOneShareNone) {
  auto a = Start("keyholder-a", kShare1);
  auto b = Start("keyholder-b", kShare2);
  auto c = Start("keyholder-c", kProduct);  // one service holding k1 * k2, for comparison
  ASSERT_TRUE(a && b && c);
  // A profile of its own for the pinned tokens, so that the shipped profile may change:
  // an ordinary rule, one with a deletion neighbourhood, one with name-deletion pairs.
  const std::string profile = dir_ + "/pinned_profile.textproto";
  ASSERT_OK(files::WriteFileAtomic(profile,
                                   "name: \"pinned\"\nversion: 1\nmax_reports_per_token: 50\n"
                                   "method: LINKAGE_METHOD_FELLEGI_SUNTER\nmatch_probability: 0.9\n"
                                   "rules { name: \"name_dob\" fields: [FIELD_FIRST_GIVEN_NAME, FIELD_SURNAME, FIELD_DATE_OF_BIRTH] }\n"
                                   "rules { name: \"surdel_dob\" fields: [FIELD_SURNAME_DELETIONS, FIELD_FIRST_INITIAL, FIELD_DOB_DAY_MONTH_UNORDERED] }\n"
                                   "rules { name: \"namedel_pca\" fields: [FIELD_NAME_DELETIONS, FIELD_POSTCODE_AREA] }\n",
                                   0600));
  std::ostringstream out;
  auto two = Options(ClientConfig(a->port(), b->port()), "two.jsonl");
  two.profile = profile;
  ASSERT_OK(PseudonymiseCommand(two, *log_, out));
  auto product = Options(ClientConfig(c->port(), 0), "product.jsonl");
  product.profile = profile;
  ASSERT_OK(PseudonymiseCommand(product, *log_, out));
  const std::set<std::string> tokens = AllTokens(Slurp(two.out));
  ASSERT_GT(tokens.size(), 50u);
  EXPECT_EQ(tokens, AllTokens(Slurp(product.out)));
  // Pinned: the tokens of the sample under k1 * k2 and the profile above (the blinds are
  // random, the tokens are not).
  std::string listing;
  for (const std::string& t : tokens) absl::StrAppend(&listing, t, "\n");
  EXPECT_EQ(crypto::ToHex(crypto::Digest("golden", listing)).substr(0, 32), "6756f43eb95d10d34fc2679140e92422");

  // A node (or a thief with its files) that reaches one service only gets that share's
  // outputs: not one token in common with the deployment's.
  for (const auto& [name, port] : {std::pair<std::string, int>{"a", a->port()}, {"b", b->port()}}) {
    auto one = Options(ClientConfig(port, 0, ""), "one-" + name + ".jsonl");
    one.profile = profile;
    if (name == "b") {
      // b's certificate names keyholder-b.example only.
      ASSERT_OK(files::WriteFileAtomic(one.keyholder,
                                       absl::StrCat(Slurp(one.keyholder), "server_name: \"keyholder-b.example\"\n"),
                                       0600));
    }
    ASSERT_OK(PseudonymiseCommand(one, *log_, out)) << name;
    const std::set<std::string> partial = AllTokens(Slurp(one.out));
    EXPECT_EQ(partial.size(), tokens.size()) << name;
    for (const std::string& t : partial) EXPECT_EQ(tokens.count(t), 0u) << name << " " << t;
  }
}

TEST_F(KeyholderTwoServicesTest, EachServiceLimitsAndRecordsOnItsOwn) {
  const uint64_t evaluations = testing::DistinctOracleInputs(kKeyholderSignals);
  std::ostringstream out;
  {
    // The second service asks for the first one's receipts, as a 2-of-2 deployment is set up.
    auto a = Start("keyholder-a", kShare1);
    auto b = Start("keyholder-b", kShare2, 1, 0, a.get());
    ASSERT_TRUE(a && b);
    ASSERT_OK(PseudonymiseCommand(Options(ClientConfig(a->port(), b->port()), "ok.jsonl"), *log_, out));
    EXPECT_EQ(a->service()->UsedToday("police"), evaluations);
    EXPECT_EQ(b->service()->UsedToday("police"), evaluations);
  }
  // The second service at its hourly limit: the first evaluated (and recorded it), the
  // second refused, the node writes nothing and names the second service.
  {
    auto a = Start("keyholder-a", kShare1);
    auto b = Start("keyholder-b", kShare2, 1, evaluations + 5);
    ASSERT_TRUE(a && b);
    auto o = Options(ClientConfig(a->port(), b->port()), "limited-b.jsonl");
    EXPECT_THAT(PseudonymiseCommand(o, *log_, out),
                StatusIs(absl::StatusCode::kResourceExhausted, "second key service at 127.0.0.1:"));
    EXPECT_FALSE(fs::exists(o.out));
    EXPECT_EQ(a->service()->UsedThisHour("police"), 2 * evaluations);
    EXPECT_EQ(b->service()->UsedThisHour("police"), evaluations);
  }
  // The first service at its limit: the second is never asked.
  {
    auto a = Start("keyholder-a", kShare1, 1, 2 * evaluations + 5);
    auto b = Start("keyholder-b", kShare2);
    ASSERT_TRUE(a && b);
    auto o = Options(ClientConfig(a->port(), b->port()), "limited-a.jsonl");
    EXPECT_THAT(PseudonymiseCommand(o, *log_, out),
                StatusIs(absl::StatusCode::kResourceExhausted, "first key service at 127.0.0.1:"));
    EXPECT_FALSE(fs::exists(o.out));
    EXPECT_EQ(b->service()->UsedThisHour("police"), evaluations);
  }
  // Each trail holds its own service's evaluations and refusals.
  auto events = [](const std::string& data_dir) {
    auto trail = keyholder::ReadTrail(data_dir);
    EXPECT_OK(trail.status());
    std::vector<std::string> e;
    for (const auto& entry : trail->entries) {
      if (entry.event != "start") e.push_back(absl::StrCat(entry.event, " ", entry.actor));
    }
    return e;
  };
  EXPECT_THAT(events(dir_ + "/keyholder-a/data"),
              ::testing::ElementsAre("evaluation police", "evaluation police", "limit_refused police"));
  EXPECT_THAT(events(dir_ + "/keyholder-b/data"),
              ::testing::ElementsAre("evaluation police", "limit_refused police"));
}

TEST_F(KeyholderTwoServicesTest, AWrongOrMissingSecondServiceIsNamed) {
  auto a = Start("keyholder-a", kShare1);
  auto b = Start("keyholder-b", kShare2);
  ASSERT_TRUE(a && b);
  std::ostringstream out;
  const std::string second = absl::StrCat("second key service at 127.0.0.1:", b->port());
  // Not the service the node expects: another key service answers at the second's place,
  // and its certificate does not name keyholder-b.example.
  auto c = Start("keyholder-c", kShare2);
  ASSERT_TRUE(c);
  auto wrong = Options(ClientConfig(a->port(), c->port()), "wrong.jsonl");
  EXPECT_THAT(PseudonymiseCommand(wrong, *log_, out),
              StatusIs(absl::StatusCode::kUnavailable, absl::StrCat("second key service at 127.0.0.1:", c->port())));
  EXPECT_FALSE(fs::exists(wrong.out));
  EXPECT_EQ(c->service()->UsedToday("police"), 0u);
  // A second service without the epoch's share.
  auto b2 = Start("keyholder-b", kShare2, 2);
  ASSERT_TRUE(b2);
  auto no_epoch = Options(ClientConfig(a->port(), b2->port()), "no-epoch.jsonl");
  EXPECT_THAT(PseudonymiseCommand(no_epoch, *log_, out),
              StatusIs(absl::StatusCode::kNotFound, absl::StrCat("second key service at 127.0.0.1:", b2->port())));
  EXPECT_FALSE(fs::exists(no_epoch.out));
  // The second service down.
  const std::string config = ClientConfig(a->port(), b->port());
  b.reset();
  auto down = Options(config, "down.jsonl");
  EXPECT_THAT(PseudonymiseCommand(down, *log_, out), StatusIs(absl::StatusCode::kUnavailable, second));
  EXPECT_FALSE(fs::exists(down.out));
  // Configurations that name no proper second service.
  auto same = Options(ClientConfig(a->port(), a->port(), ""), "same.jsonl");
  EXPECT_THAT(PseudonymiseCommand(same, *log_, out),
              StatusIs(absl::StatusCode::kInvalidArgument, "the second key service has the first one's address"));
  auto empty = Options(ClientConfig(a->port(), 0), "empty.jsonl");
  ASSERT_OK(files::WriteFileAtomic(empty.keyholder, Slurp(empty.keyholder) + "second { }\n", 0600));
  EXPECT_THAT(PseudonymiseCommand(empty, *log_, out),
              StatusIs(absl::StatusCode::kInvalidArgument, "second { address } is empty"));
  EXPECT_EQ(log_text_.str().find("Jansen"), std::string::npos);
}

// The attack: a node (or a thief of its certificate) calls the second service directly,
// skipping the first service's limits and trail. The second service, with the first's
// public key, evaluates only elements the first one evaluated for that node and epoch:
// without the first's receipt, with another node's, with one for other elements, with one
// used before or with one signed by another key it refuses with PERMISSION_DENIED, evaluates nothing, counts
// nothing and records the refusal.
TEST_F(KeyholderTwoServicesTest, ANodeCallingTheSecondServiceDirectlyIsRefused) {
  auto a = Start("keyholder-a", kShare1);
  ASSERT_TRUE(a);
  auto b = Start("keyholder-b", kShare2, 1, 0, a.get());
  ASSERT_TRUE(b);
  auto call = [&](int port, const std::string& cert, const std::string& server_name,
                  const v1::EvaluateRequest& request, v1::EvaluateResponse* response) {
    auto channel = rpc::Connect(absl::StrCat("127.0.0.1:", port), samenzicht::testing::TlsFor(pki_, cert),
                                server_name);
    EXPECT_OK(channel.status());
    auto stub = v1::KeyHolder::NewStub(*channel);
    grpc::ClientContext context;
    return stub->Evaluate(&context, request, response);
  };
  std::vector<std::string> inputs = {"value one", "value two", "value three"};
  std::vector<std::string_view> views(inputs.begin(), inputs.end());
  ASSERT_OK_AND_ASSIGN(crypto::oprf::BlindBatch batch, crypto::oprf::BlindBatch::New(views));
  v1::EvaluateRequest direct;
  direct.set_epoch(1);
  direct.set_blinded_elements(batch.blinded_elements());
  auto refused = [&](const v1::EvaluateRequest& request, const std::string& why) {
    v1::EvaluateResponse response;
    const grpc::Status st = call(b->port(), "police", "keyholder-b.example", request, &response);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << why << ": " << st.error_message();
    EXPECT_NE(st.error_message().find(why), std::string::npos) << st.error_message();
    EXPECT_TRUE(response.evaluated_elements().empty()) << why;
  };
  // No receipt at all: the first service's limits and trail would be skipped.
  refused(direct, "the call carries none");
  EXPECT_EQ(b->service()->UsedToday("police"), 0u);
  EXPECT_EQ(a->service()->UsedToday("police"), 0u);

  // The ordinary way: the first service's answer and its receipt.
  v1::EvaluateResponse first;
  ASSERT_TRUE(call(a->port(), "police", "", direct, &first).ok());
  ASSERT_TRUE(first.has_receipt());
  EXPECT_EQ(first.receipt().node(), "police");
  EXPECT_EQ(first.receipt().elements(), 3u);
  v1::EvaluateRequest relayed;
  relayed.set_epoch(1);
  relayed.set_blinded_elements(first.evaluated_elements());
  *relayed.mutable_receipt() = first.receipt();
  v1::EvaluateResponse second;
  const grpc::Status ok = call(b->port(), "police", "keyholder-b.example", relayed, &second);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(second.evaluated_elements().size(), 3u * crypto::oprf::kElementBytes);
  // The same answer and receipt again: it would count at the second and not at the first.
  refused(relayed, "the receipt was used before");

  // That receipt for other elements (the node's own blinded ones, which would give it the
  // second share alone applied to inputs of its choice).
  v1::EvaluateRequest other_elements = direct;
  *other_elements.mutable_receipt() = first.receipt();
  refused(other_elements, "the receipt is for other elements than those sent");
  // Another node's receipt, for exactly these elements.
  v1::EvaluateResponse theirs;
  ASSERT_TRUE(call(a->port(), "jeugdzorg", "", direct, &theirs).ok());
  v1::EvaluateRequest borrowed;
  borrowed.set_epoch(1);
  borrowed.set_blinded_elements(theirs.evaluated_elements());
  *borrowed.mutable_receipt() = theirs.receipt();
  refused(borrowed, "the receipt was given to another node");
  // A receipt with every field right, signed by a key other than the first service's.
  ASSERT_OK_AND_ASSIGN(auto forger, crypto::Signer::Generate());
  crypto::EvaluationReceipt forged{"police", 1, 3, crypto::ReceiptElementsDigest(direct.blinded_elements()), 1, 0, ""};
  crypto::SignReceipt(*forger, &forged);
  v1::EvaluateRequest forged_request = direct;
  v1::EvaluationReceipt* f = forged_request.mutable_receipt();
  f->set_node(forged.node);
  f->set_epoch(forged.epoch);
  f->set_elements(forged.elements);
  f->set_elements_digest(forged.elements_digest);
  f->set_trail_seq(forged.trail_seq);
  f->set_time_ms(forged.time_ms);
  f->set_signature(forged.signature);
  refused(forged_request, "the receipt is not signed by the first key service's key");

  // Only the relayed call was evaluated and counted by the second service; its trail holds
  // the refusals, and its evaluation names the first service's trail entry.
  EXPECT_EQ(b->service()->UsedToday("police"), 3u);
  EXPECT_EQ(a->service()->UsedToday("police"), 3u);
  ASSERT_OK_AND_ASSIGN(keyholder::Trail trail, keyholder::ReadTrail(dir_ + "/keyholder-b/data"));
  std::vector<std::string> events;
  for (const auto& e : trail.entries) {
    if (e.event == "start") continue;
    events.push_back(absl::StrCat(e.event, " ", e.actor, " ", e.details));
  }
  EXPECT_THAT(events,
              ::testing::ElementsAre(
                  "receipt_refused police {\"epoch\":1,\"asked\":3,\"reason\":\"missing\"}",
                  absl::StrCat("evaluation police {\"epoch\":1,\"evaluations\":3,\"node_hour\":3,\"node_day\":3,"
                               "\"receipt_seq\":", first.receipt().trail_seq(), "}"),
                  "receipt_refused police {\"epoch\":1,\"asked\":3,\"reason\":\"reused\"}",
                  "receipt_refused police {\"epoch\":1,\"asked\":3,\"reason\":\"other_elements\"}",
                  "receipt_refused police {\"epoch\":1,\"asked\":3,\"reason\":\"other_node\"}",
                  "receipt_refused police {\"epoch\":1,\"asked\":3,\"reason\":\"bad_signature\"}"));

  // The node's own client configured with the second service alone is refused the same way.
  auto alone = Options(ClientConfig(b->port(), 0, ""), "alone.jsonl");
  ASSERT_OK(files::WriteFileAtomic(alone.keyholder,
                                   absl::StrCat(Slurp(alone.keyholder), "server_name: \"keyholder-b.example\"\n"), 0600));
  std::ostringstream out;
  EXPECT_THAT(PseudonymiseCommand(alone, *log_, out),
              StatusIs(absl::StatusCode::kPermissionDenied, "the call carries none"));
  EXPECT_FALSE(fs::exists(alone.out));
  EXPECT_EQ(b->service()->UsedToday("police"), 3u);
  // The officer's report of the second service counts the refusals with the node's calls:
  // one evaluation of 3, six refused calls.
  std::ostringstream report;
  ASSERT_OK(keyholder::AuditReportCommand(dir_ + "/keyholder-b/data",
                                          crypto::Base64Encode(b->service()->public_key()), report));
  EXPECT_THAT(report.str(), ::testing::HasSubstr("\nday,node,epoch,evaluations,refused_calls\n2026-01-15,police,1,3,6\n"));
}

}  // namespace
}  // namespace samenzicht::agency_node
