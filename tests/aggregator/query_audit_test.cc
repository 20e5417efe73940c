// Every path that publishes figures writes each answered and each refused query to the audit
// trail, from the query layer itself: gRPC totals and overview, the in-process council report
// (under the local operator's name) and the exact, unpublished totals. Each test queries,
// then reads the trail as the privacy officer does (ReadTrail, database opened read-only)
// and finds the entry. The dashboard's path is in tests/dashboard/dashboard_audit_test.cc.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/audit_store.h"
#include "aggregator/report_query.h"
#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;
using ::testing::HasSubstr;
using testing::MakeReport;
using testing::Tok;

class QueryAuditTest : public testing::AuditServerTest {
 protected:
  // Reports in 2024 (released long ago): three persons, two of them known to both agencies.
  void SubmitSome() {
    ASSERT_TRUE(Submit("police", {PoliceBatch({MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_SEXUAL, 202403),
                                               MakeReport(2, {{"nid", Tok(2)}}, v1::FORM_LABOUR, 202404),
                                               MakeReport(3, {{"nid", Tok(3)}}, v1::FORM_SEXUAL, 202405)})})
                    .ok());
    ASSERT_TRUE(Submit("zorg", {ZorgBatch({MakeReport(11, {{"nid", Tok(1)}}, v1::FORM_CRIMINAL, 202403),
                                           MakeReport(12, {{"nid", Tok(2)}}, v1::FORM_LABOUR, 202406)})})
                    .ok());
  }

  // The details of every "query" entry by `actor` holding all of `needles`.
  std::vector<std::string> QueryEntries(const std::string& actor,
                                        const std::vector<std::string>& needles) {
    auto trail = ReadTrail(data_dir_);
    EXPECT_TRUE(trail.ok()) << trail.status();
    std::vector<std::string> out;
    if (!trail.ok()) return out;
    for (const audit::Entry& e : trail->entries) {
      if (e.event != kEventQuery || e.actor != actor) continue;
      bool all = true;
      for (const std::string& n : needles) all = all && e.details.find(n) != std::string::npos;
      if (all) out.push_back(e.details);
    }
    return out;
  }

  grpc::Status Insight(const std::string& who, uint32_t from, uint32_t to,
                       v1::InsightResponse* resp) {
    v1::InsightRequest req;
    req.set_from_month(from);
    req.set_to_month(to);
    return v1::Query::NewStub(Channel(who))->Insight(Ctx().get(), req, resp);
  }
};

TEST_F(QueryAuditTest, AGrpcTotalsAnswerIsAuditedWithWhatWasPerturbed) {
  SubmitSome();
  v1::TotalsResponse t;
  ASSERT_TRUE(Totals("gemeente", &t, {v1::DIMENSION_FORM}).ok());
  std::vector<std::string> e = QueryEntries(
      "gemeente", {"\"via\":\"grpc\"", "\"view\":\"totals\"", "\"by\":\"form\"",
                   "\"answered\":true", "\"method\":\"cell_key\""});
  ASSERT_EQ(e.size(), 1u);
  EXPECT_THAT(e[0], HasSubstr(absl::StrCat("\"perturbed_cells\":", t.rows_size() * 2 + 3)));
}

TEST_F(QueryAuditTest, TheGrpcOverviewIsAuditedAnsweredAndRefused) {
  SubmitSome();
  v1::InsightResponse r;
  ASSERT_TRUE(Insight("gemeente", 202401, 202412, &r).ok());
  // Off the release grid: refused, and the refusal is in the trail too.
  grpc::Status refused = Insight("gemeente", 202401, 202405, &r);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(QueryEntries("gemeente", {"\"via\":\"grpc\"", "\"view\":\"insight\"",
                                      "\"from\":\"2024-01\"", "\"to\":\"2024-12\"",
                                      "\"answered\":true"})
                .size(),
            1u);
  EXPECT_EQ(QueryEntries("gemeente", {"\"via\":\"grpc\"", "\"view\":\"insight\"",
                                      "\"to\":\"2024-05\"", "\"answered\":false",
                                      "\"refused\":\"INVALID_ARGUMENT\""})
                .size(),
            1u);
}

TEST_F(QueryAuditTest, AGrpcQueryOfTheWrongRoleIsRefusedAndAudited) {
  v1::TotalsResponse t;
  ASSERT_EQ(Totals("police", &t).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(QueryEntries("police", {"\"via\":\"grpc\"", "\"role\":\"agency\"",
                                    "\"answered\":false", "\"refused\":\"PERMISSION_DENIED\""})
                .size(),
            1u);
}

TEST_F(QueryAuditTest, TheInProcessReportIsAuditedUnderTheLocalOperatorsName) {
  SubmitSome();
  v1::InsightRequest req;
  req.set_from_month(202401);
  req.set_to_month(202412);
  // Next to the running server, as an operator on the aggregator host runs it.
  ASSERT_OK_AND_ASSIGN(ReportInput in, QueryReportInProcess(config_, req));
  ASSERT_EQ(in.tables.size(), ReportTableRequests(202401, 202412).size());
  const std::string me = LocalOperator();
  ASSERT_EQ(me.rfind("local:", 0), 0u);
  EXPECT_EQ(QueryEntries(me, {"\"via\":\"report (in-process)\"", "\"view\":\"insight\"",
                              "\"answered\":true", "\"from\":\"2024-01\""})
                .size(),
            1u);
  EXPECT_EQ(QueryEntries(me, {"\"via\":\"report (in-process)\"", "\"view\":\"totals\"",
                              "\"answered\":true", "\"method\":\"cell_key\""})
                .size(),
            in.tables.size());
  // A refused report (a period off the grid) is audited too.
  req.set_to_month(202405);
  EXPECT_THAT(QueryReportInProcess(config_, req), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(QueryEntries(me, {"\"via\":\"report (in-process)\"", "\"to\":\"2024-05\"",
                              "\"refused\":\"INVALID_ARGUMENT\""})
                .size(),
            1u);
  // The trail still verifies: the second process chained on the server's head.
  StopServer();
  VerifyOptions o;
  o.public_key_b64 = audit_public_key_;
  ASSERT_OK(VerifyTrail(data_dir_, o).status());
}

TEST_F(QueryAuditTest, ExactTotalsAreAuditedAnsweredAndRefused) {
  SubmitSome();
  ASSERT_OK_AND_ASSIGN(v1::TotalsResponse exact, Exact({v1::DIMENSION_FORM}));
  EXPECT_EQ(exact.total_persons().value(), 3u);
  const std::string me = LocalOperator();
  EXPECT_EQ(QueryEntries(me, {"\"via\":\"exact-totals\"", "\"by\":\"form\"",
                              "\"answered\":true", "\"method\":\"none: exact, unpublished\""})
                .size(),
            1u);
  EXPECT_THAT(Exact({v1::DIMENSION_FORM, v1::DIMENSION_FORM}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(QueryEntries(me, {"\"via\":\"exact-totals\"", "\"answered\":false",
                              "\"refused\":\"INVALID_ARGUMENT\""})
                .size(),
            1u);
  StopServer();
  VerifyOptions o;
  o.public_key_b64 = audit_public_key_;
  ASSERT_OK(VerifyTrail(data_dir_, o).status());
}

}  // namespace
}  // namespace samenzicht::aggregator
