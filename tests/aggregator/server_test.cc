// In-process aggregator on 127.0.0.1 port 0 with real mutual TLS.
#include "aggregator/server/server.h"

#include <filesystem>
#include <atomic>
#include <fstream>
#include <iostream>
#include <thread>

#include <gtest/gtest.h>

#include "aggregator/exact_totals.h"
#include "crypto/key_file.h"
#include "rpc/tls.h"
#include "samenzicht/v1/intake.grpc.pb.h"
#include "samenzicht/v1/query.grpc.pb.h"
#include "tests/aggregator/fixture_builder.h"
#include "tests/aggregator/test_util.h"
#include "tests/testing/pki.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using testing::Id;
using testing::MakePayload;
using testing::MakeReport;
using testing::Sign;
using testing::Tok;

constexpr uint32_t kEpoch = 1;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = samenzicht::testing::MakePki(
        "server_test_pki", {{"aggregator", "server"}, {"police", "agency"}, {"zorg", "agency"},
                            {"gemeente", "analyst"}, {"fg", "privacy_officer"}});
    foreign_pki_ = samenzicht::testing::MakePki("server_test_foreign", {{"gemeente", "analyst"},
                                                                         {"police", "agency"}});
  }

  void SetUp() override {
    ASSERT_FALSE(pki_.empty());
    const std::string dir = testing::TestDir("server_test/");
    profile_ = testing::TestProfile();
    ASSERT_OK_AND_ASSIGN(config_, testing::ServedConfig(dir, pki_, profile_, kEpoch));
    data_dir_ = config_.data_dir();
    police_signer_ = *crypto::Signer::Generate();
    zorg_signer_ = *crypto::Signer::Generate();
    testing::AddAgency(config_, "police", v1::DOMAIN_POLICE, *police_signer_);
    testing::AddAgency(config_, "zorg", v1::DOMAIN_YOUTH_CARE, *zorg_signer_);
    ASSERT_OK_AND_ASSIGN(server_, Server::Start(config_));
    ASSERT_GT(server_->port(), 0);
    address_ = "127.0.0.1:" + std::to_string(server_->port());
  }

  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  std::shared_ptr<grpc::Channel> Channel(const std::string& who, const std::string& pki = "") {
    auto ch = rpc::Connect(address_, samenzicht::testing::TlsFor(pki.empty() ? pki_ : pki, who),
                           "localhost");
    EXPECT_TRUE(ch.ok()) << ch.status();
    return *ch;
  }

  // Submits batches over one stream; returns the acks, or the stream's final status.
  absl::StatusOr<std::vector<v1::BatchAck>> SubmitAs(const std::string& who,
                                                     const std::vector<v1::SignedBatch>& batches,
                                                     const std::string& pki = "") {
    auto stub = v1::Intake::NewStub(Channel(who, pki));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto stream = stub->SubmitBatches(&ctx);
    std::vector<v1::BatchAck> acks;
    for (const auto& b : batches) {
      v1::SubmitRequest req;
      *req.mutable_batch() = b;
      if (!stream->Write(req)) break;
      v1::BatchAck ack;
      if (!stream->Read(&ack)) break;
      acks.push_back(ack);
    }
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!st.ok()) return rpc::FromGrpcStatus(st);
    return acks;
  }

  v1::BatchAck SubmitOne(const std::string& who, const v1::SignedBatch& b) {
    auto acks = SubmitAs(who, {b});
    EXPECT_TRUE(acks.ok()) << acks.status();
    if (!acks.ok() || acks->size() != 1) return v1::BatchAck();
    return (*acks)[0];
  }

  absl::StatusOr<v1::TotalsResponse> Totals(const std::string& who,
                                            std::vector<v1::Dimension> by = {},
                                            const std::string& pki = "") {
    auto stub = v1::Query::NewStub(Channel(who, pki));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::TotalsRequest req;
    for (auto d : by) req.add_by(d);
    v1::TotalsResponse resp;
    grpc::Status st = stub->Totals(&ctx, req, &resp);
    if (!st.ok()) return rpc::FromGrpcStatus(st);
    return resp;
  }

  // The exact, unpublished counts (exact_totals.h: the operator's path, `aggregator
  // exact-totals`), read from the store next to the running server.
  absl::StatusOr<v1::TotalsResponse> Exact(std::vector<v1::Dimension> by = {}) {
    v1::TotalsRequest req;
    for (auto d : by) req.add_by(d);
    return ExactTotals(config_, req);
  }

  // Total persons and total signals, exactly; the analyst's published answer must come too
  // (perturbed by the Cell Key Method, so it is not compared).
  std::pair<uint64_t, uint64_t> Counts() {
    auto published = Totals("gemeente");
    EXPECT_TRUE(published.ok()) << published.status();
    auto r = Exact();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {0, 0};
    return {r->total_persons().value(), r->total_signals().value()};
  }

  v1::SignedBatch PoliceBatch(std::vector<v1::Report> reports, std::string id = "") {
    return Sign(*police_signer_, MakePayload("police", profile_, kEpoch, std::move(reports), id));
  }
  v1::SignedBatch ZorgBatch(std::vector<v1::Report> reports, std::string id = "") {
    return Sign(*zorg_signer_, MakePayload("zorg", profile_, kEpoch, std::move(reports), id));
  }

  // Two agencies, overlapping persons:
  //  P1: police r1 (sexual, nid T1) + zorg r11 (criminal, nid T1, phone T2)
  //      + zorg r12 (labour, phone T2)                      -> sexual_and_criminal
  //  P2: police r2 (labour, name_dob T3) + zorg r13 (labour, name_dob T3)
  //  P3: police r3 (sexual, phone T4)
  //  P4: police r4 (no token)
  void SubmitOverlappingPersons() {
    v1::BatchAck a = SubmitOne(
        "police", PoliceBatch({MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_SEXUAL),
                               MakeReport(2, {{"name_dob", Tok(3)}}, v1::FORM_LABOUR),
                               MakeReport(3, {{"phone", Tok(4)}}, v1::FORM_SEXUAL),
                               MakeReport(4, {}, v1::FORM_OTHER)}));
    ASSERT_EQ(a.code(), 0) << a.message();
    ASSERT_EQ(a.accepted(), 4u);
    a = SubmitOne("zorg",
                  ZorgBatch({MakeReport(11, {{"nid", Tok(1)}, {"phone", Tok(2)}}, v1::FORM_CRIMINAL),
                             MakeReport(12, {{"phone", Tok(2)}}, v1::FORM_LABOUR),
                             MakeReport(13, {{"name_dob", Tok(3)}}, v1::FORM_LABOUR)}));
    ASSERT_EQ(a.code(), 0) << a.message();
    ASSERT_EQ(a.accepted(), 3u);
  }

  static std::string pki_, foreign_pki_;
  std::string data_dir_, address_;
  v1::LinkageProfile profile_;
  v1::AggregatorConfig config_;
  std::unique_ptr<crypto::Signer> police_signer_, zorg_signer_;
  std::unique_ptr<Server> server_;
};
std::string ServerTest::pki_, ServerTest::foreign_pki_;

TEST_F(ServerTest, TwoAgenciesWithOverlappingPersonsGiveExactTotals) {
  SubmitOverlappingPersons();
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r, Exact({v1::DIMENSION_FORM}));
  EXPECT_EQ(r.total_persons().value(), 4u);
  EXPECT_EQ(r.total_signals().value(), 7u);
  EXPECT_EQ(r.unlinkable_signals().value(), 1u);
  ASSERT_EQ(r.rows_size(), 6);
  EXPECT_EQ(r.rows(0).keys(0), "sexual");
  EXPECT_EQ(r.rows(0).persons().value(), 1u);         // P3
  EXPECT_EQ(r.rows(0).signals().value(), 2u);         // r1, r3
  EXPECT_EQ(r.rows(2).keys(0), "sexual_and_criminal");
  EXPECT_EQ(r.rows(2).persons().value(), 1u);         // P1
  EXPECT_EQ(r.rows(3).keys(0), "labour");
  EXPECT_EQ(r.rows(3).persons().value(), 1u);         // P2 only (P1 is s&c)
  EXPECT_EQ(r.rows(3).signals().value(), 3u);
  // The analyst over gRPC: the same table, protected (k = 2): nothing withheld, no count
  // of 1, every count within S = 3k of the exact one.
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse shown, Totals("gemeente", {v1::DIMENSION_FORM}));
  ASSERT_EQ(shown.rows_size(), r.rows_size());
  for (int i = 0; i < shown.rows_size(); ++i) {
    for (auto [c, exact] : {std::make_pair(shown.rows(i).persons(), r.rows(i).persons()),
                            std::make_pair(shown.rows(i).signals(), r.rows(i).signals())}) {
      EXPECT_FALSE(c.suppressed());
      EXPECT_NE(c.value(), 1u);
      EXPECT_LE(c.value(), exact.value() + 6);
      if (exact.value() == 0) {
        EXPECT_EQ(c.value(), 0u);
      }
    }
  }
  ASSERT_OK_AND_ASSIGN(r, Exact({v1::DIMENSION_DOMAIN}));
  EXPECT_EQ(r.rows(0).keys(0), "police");
  EXPECT_EQ(r.rows(0).persons().value(), 4u);
  EXPECT_EQ(r.rows(0).signals().value(), 4u);
  EXPECT_EQ(r.rows(4).keys(0), "youth_care");
  EXPECT_EQ(r.rows(4).persons().value(), 2u);
  EXPECT_EQ(r.rows(4).signals().value(), 3u);
}

TEST_F(ServerTest, RefusalsChangeNoTotal) {
  SubmitOverlappingPersons();
  const auto before = Counts();
  ASSERT_EQ(before, std::make_pair(uint64_t{4}, uint64_t{7}));

  // Bad signature.
  auto payload = MakePayload("police", profile_, kEpoch, {MakeReport(20, {{"nid", Tok(20)}})});
  v1::BatchAck a = SubmitOne("police", Sign(*zorg_signer_, payload));
  EXPECT_EQ(a.code(), grpc::StatusCode::UNAUTHENTICATED);
  // Mismatched fingerprint.
  auto p2 = payload;
  p2.set_profile_fingerprint(std::string(32, '\0'));
  a = SubmitOne("police", Sign(*police_signer_, p2));
  EXPECT_EQ(a.code(), grpc::StatusCode::FAILED_PRECONDITION);
  // Replayed batch.
  auto batch = PoliceBatch({MakeReport(30, {{"nid", Tok(30)}})});
  EXPECT_EQ(SubmitOne("police", batch).code(), grpc::StatusCode::OK);
  const auto after_new = Counts();
  EXPECT_EQ(after_new, std::make_pair(uint64_t{5}, uint64_t{8}));
  a = SubmitOne("police", batch);
  EXPECT_EQ(a.code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(a.accepted(), 1u);  // the first commit's count; nothing is stored again
  EXPECT_EQ(Counts(), after_new);
  // Wrong-length token.
  a = SubmitOne("police", PoliceBatch({MakeReport(40, {{"nid", std::string(16, 'a')}})}));
  EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_EQ(a.errors_size(), 1);
  EXPECT_EQ(a.errors(0).code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(a.errors(0).message().find("tokens[0].value"), std::string::npos);
  EXPECT_EQ(Counts(), after_new);
}

TEST_F(ServerTest, RolesAreEnforced) {
  SubmitOverlappingPersons();
  // An analyst cannot submit; a privacy officer neither.
  EXPECT_THAT(SubmitAs("gemeente", {PoliceBatch({MakeReport(50, {})})}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(SubmitAs("fg", {PoliceBatch({MakeReport(50, {})})}),
              StatusIs(absl::StatusCode::kPermissionDenied));
  // Agencies and the privacy officer cannot query totals.
  EXPECT_THAT(Totals("police"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Totals("zorg"), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Totals("fg"), StatusIs(absl::StatusCode::kPermissionDenied));
  // One agency cannot submit as another: node_id is checked against the certificate.
  v1::BatchAck a = SubmitOne("zorg", PoliceBatch({MakeReport(51, {})}));
  EXPECT_EQ(a.code(), grpc::StatusCode::UNAUTHENTICATED);  // zorg's key is not police's
  a = SubmitOne("zorg", Sign(*zorg_signer_, MakePayload("police", profile_, kEpoch,
                                                        {MakeReport(52, {})})));
  EXPECT_EQ(a.code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{4}, uint64_t{7}));
}

TEST_F(ServerTest, ForeignCertificateIsRefused) {
  SubmitOverlappingPersons();
  auto r = Totals("gemeente", {}, foreign_pki_);
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnavailable));
  auto s = SubmitAs("police", {PoliceBatch({MakeReport(60, {})})}, foreign_pki_);
  EXPECT_FALSE(s.ok() && !s->empty());
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{4}, uint64_t{7}));
}

TEST_F(ServerTest, RetractOwnReportsOnly) {
  SubmitOverlappingPersons();
  auto stub = v1::Intake::NewStub(Channel("zorg"));
  grpc::ClientContext ctx;
  v1::RetractRequest req;
  req.add_report_ids(Id(1));   // police's: answered as not found
  req.add_report_ids(Id(12));  // zorg's own
  v1::RetractResponse resp;
  ASSERT_TRUE(stub->Retract(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.retracted(), 1u);
  ASSERT_EQ(resp.not_found_size(), 1);
  EXPECT_EQ(resp.not_found(0), Id(1));
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{4}, uint64_t{6}));
  grpc::ClientContext ctx2;
  EXPECT_EQ(v1::Intake::NewStub(Channel("gemeente"))->Retract(&ctx2, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(ServerTest, StateSurvivesARestart) {
  SubmitOverlappingPersons();
  server_->Shutdown();
  server_.reset();
  ASSERT_OK_AND_ASSIGN(server_, Server::Start(config_));
  address_ = "127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{4}, uint64_t{7}));
}

// By default a query waits for a snapshot that holds every committed batch; with
// `background_linkage` the server answers from the last complete snapshot, and its
// background preparer takes in the acknowledged batches.
TEST_F(ServerTest, BackgroundLinkageServesTheLastCompleteSnapshot) {
  EXPECT_EQ(server_->query()->options().freshness, Freshness::kCurrent);
  server_->Shutdown();
  server_.reset();
  config_.set_background_linkage(true);
  ASSERT_OK_AND_ASSIGN(server_, Server::Start(config_));
  address_ = "127.0.0.1:" + std::to_string(server_->port());
  EXPECT_EQ(server_->query()->options().freshness, Freshness::kLastComplete);
  SubmitOverlappingPersons();
  const uint64_t committed = server_->store()->generation();
  std::shared_ptr<const Snapshot> snap;
  while (true) {  // bounded by the test's timeout
    ASSERT_OK_AND_ASSIGN(snap, server_->query()->LastComplete());
    if (snap->generation >= committed) break;
    std::this_thread::sleep_for(Query::kPollInterval);
  }
  // Every report is in the snapshot (its linkage is the published one: under the release
  // freeze, reports of months frozen before they arrived are held back).
  EXPECT_EQ(snap->dataset.reports.size(), 7u);
  EXPECT_EQ(Counts(), std::make_pair(uint64_t{4}, uint64_t{7}));
}

TEST_F(ServerTest, RefusesAStoreKeyInsideTheDataDir) {
  v1::AggregatorConfig c = config_;
  std::filesystem::copy_file(config_.store_key_file(), data_dir_ + "/store.key");
  c.set_store_key_file(data_dir_ + "/store.key");
  c.set_listen_address("127.0.0.1:0");
  EXPECT_THAT(Server::Start(c), StatusIs(absl::StatusCode::kFailedPrecondition, "outside"));
}

bool Contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

TEST_F(ServerTest, NoTokenSentByAnAgencyReachesAnyFileInTheDataDir) {
  SubmitOverlappingPersons();
  // Plus every refusal path, with fresh tokens.
  auto payload = MakePayload("police", profile_, kEpoch, {MakeReport(70, {{"nid", Tok(70)}})});
  SubmitOne("police", Sign(*zorg_signer_, payload));
  SubmitOne("police", PoliceBatch({MakeReport(71, {{"nid", Tok(71)}, {"phone", std::string(31, 'q')}})}));
  auto batch = PoliceBatch({MakeReport(72, {{"name_dob", Tok(72)}})});
  SubmitOne("police", batch);
  SubmitOne("police", batch);
  ASSERT_OK(Totals("gemeente", {v1::DIMENSION_FORM, v1::DIMENSION_DOMAIN}));

  std::vector<std::string> tokens;
  for (int t : {1, 2, 3, 4, 20, 30, 70, 71, 72}) tokens.push_back(Tok(t));
  std::vector<std::string> needles;
  for (const auto& t : tokens) {
    needles.push_back(t);
    needles.push_back(crypto::Base64Encode(t));
    needles.push_back(crypto::ToHex(t));
    needles.push_back(t.substr(0, 16));  // half a token is a leak too
  }
  int files = 0;
  bool saw_wal = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir_)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    if (entry.path().string().ends_with("-wal")) saw_wal = true;
    std::ifstream f(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (const auto& n : needles) {
      EXPECT_FALSE(Contains(bytes, n)) << entry.path() << " holds an agency token";
    }
  }
  EXPECT_GE(files, 1);
  EXPECT_TRUE(saw_wal);
}

// A bounded load test against the real intake on loopback: one agency floods the server
// with concurrent streams, a third of them carrying a batch over the message limit, while
// another agency delivers its batches as a node does (retrying a temporary refusal). The
// honest agency's every batch is acknowledged and counted once, no oversized batch is
// stored, and the flood's accepted batches are counted exactly.
TEST_F(ServerTest, IntakeKeepsAcknowledgingUnderAFloodOfConcurrentAndOversizedBatches) {
  server_->Shutdown();
  server_.reset();
  config_.set_max_message_bytes(256 << 10);
  ASSERT_OK_AND_ASSIGN(server_, Server::Start(config_));
  address_ = "127.0.0.1:" + std::to_string(server_->port());

  // One batch over its own stream; OK only when acknowledged with code 0.
  auto submit = [](v1::Intake::Stub* stub, const v1::SignedBatch& batch) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    auto stream = stub->SubmitBatches(&ctx);
    v1::SubmitRequest req;
    *req.mutable_batch() = batch;
    v1::BatchAck ack;
    const bool answered = stream->Write(req) && stream->Read(&ack);
    stream->WritesDone();
    grpc::Status st = stream->Finish();
    if (!st.ok()) return st.error_code();
    return answered ? static_cast<grpc::StatusCode>(ack.code()) : grpc::StatusCode::UNKNOWN;
  };

  constexpr int kFloodThreads = 12, kFloodRounds = 30, kHonestBatches = 20;
  std::atomic<bool> stop{false};
  std::atomic<int> flood_ok{0}, flood_refused{0}, oversized_ok{0}, oversized_refused{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < kFloodThreads; ++t) {
    flood.emplace_back([&, t] {
      auto stub = v1::Intake::NewStub(Channel("zorg"));
      for (int i = 0; i < kFloodRounds && !stop.load(); ++i) {
        const int base = 1'000'000 + (t * kFloodRounds + i) * 4000;
        std::vector<v1::Report> reports;
        const bool oversized = (i + t) % 3 == 0;  // 3,000 reports, about 390 KB: over 256 KiB
        for (int r = 0; r < (oversized ? 3000 : 2); ++r) {
          reports.push_back(MakeReport(base + r, {{"nid", Tok(base + r)}, {"phone", Tok(base + r + 1)}},
                                       v1::FORM_LABOUR));
        }
        const grpc::StatusCode c = submit(stub.get(), ZorgBatch(std::move(reports)));
        if (oversized) (c == grpc::StatusCode::OK ? oversized_ok : oversized_refused)++;
        else (c == grpc::StatusCode::OK ? flood_ok : flood_refused)++;
      }
    });
  }
  auto police = v1::Intake::NewStub(Channel("police"));
  int acknowledged = 0, retries = 0;
  for (int b = 0; b < kHonestBatches; ++b) {
    const v1::SignedBatch batch =
        PoliceBatch({MakeReport(500 + 2 * b, {{"nid", Tok(500 + 2 * b)}}, v1::FORM_SEXUAL),
                     MakeReport(501 + 2 * b, {{"nid", Tok(501 + 2 * b)}}, v1::FORM_SEXUAL)});
    for (int attempt = 0; attempt < 40; ++attempt) {
      const grpc::StatusCode c = submit(police.get(), batch);
      // A retry after a lost acknowledgement is answered ALREADY_EXISTS: delivered.
      if (c == grpc::StatusCode::OK || c == grpc::StatusCode::ALREADY_EXISTS) {
        ++acknowledged;
        break;
      }
      ++retries;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  stop = true;
  for (auto& th : flood) th.join();
  std::cout << "load on the real intake: police " << acknowledged << "/" << kHonestBatches
            << " batches acknowledged (" << retries << " retries); flood accepted " << flood_ok
            << ", refused " << flood_refused << "; oversized refused " << oversized_refused
            << ", accepted " << oversized_ok << "\n";
  EXPECT_EQ(acknowledged, kHonestBatches);
  EXPECT_EQ(oversized_ok.load(), 0);
  EXPECT_GT(oversized_refused.load(), 0);
  EXPECT_GT(flood_ok.load(), 0);
  // Every acknowledged report is stored once, and nothing else: police's 40 reports and two
  // per accepted flood batch.
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse r, Exact());
  EXPECT_EQ(r.total_signals().value(), static_cast<uint64_t>(2 * kHonestBatches + 2 * flood_ok.load()));
}

}  // namespace
}  // namespace samenzicht::aggregator
