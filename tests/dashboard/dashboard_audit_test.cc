// The dashboard's queries are audited by the query layer like every other path: an answer,
// a refused period and a refused role (403, for the API and for the page) each leave an
// entry "query" with "via": "dashboard" in the trail, read back as the privacy officer does.
#include <string>
#include <vector>

#include <httplib.h>

#include "audit/aggregator_events.h"
#include "aggregator/audit_store.h"
#include "aggregator/dashboard/dashboard.h"
#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator {
namespace {

using testing::MakeReport;
using testing::Tok;

class DashboardAuditTest : public testing::AuditServerTest {
 protected:
  void StartDashboard() {
    auto d = Dashboard::Start("127.0.0.1:0", samenzicht::testing::TlsFor(pki_, "aggregator"),
                              server_->query());
    ASSERT_OK(d);
    dashboard_ = std::move(*d);
  }
  void TearDown() override {
    if (dashboard_) dashboard_->Stop();
    AuditServerTest::TearDown();
  }

  // The HTTP status of GET `path` as `who` (-1: no answer).
  int Get(const std::string& who, const std::string& path) {
    httplib::SSLClient cli("127.0.0.1", dashboard_->port(), pki_ + "/" + who + ".crt",
                           pki_ + "/" + who + ".key");
    cli.enable_server_certificate_verification(false);
    cli.set_connection_timeout(5);
    cli.set_read_timeout(30);
    auto res = cli.Get(path.c_str());
    return res ? res->status : -1;
  }

  size_t Entries(const std::string& actor, const std::vector<std::string>& needles) {
    auto trail = ReadTrail(data_dir_);
    EXPECT_TRUE(trail.ok()) << trail.status();
    size_t n = 0;
    if (!trail.ok()) return n;
    for (const audit::Entry& e : trail->entries) {
      if (e.event != kEventQuery || e.actor != actor) continue;
      bool all = true;
      for (const std::string& s : needles) all = all && e.details.find(s) != std::string::npos;
      n += all ? 1 : 0;
    }
    return n;
  }

  std::unique_ptr<Dashboard> dashboard_;
};

TEST_F(DashboardAuditTest, AnswersAndRefusalsAreInTheTrail) {
  ASSERT_TRUE(Submit("police", {PoliceBatch({MakeReport(1, {{"nid", Tok(1)}}, v1::FORM_SEXUAL, 202403),
                                             MakeReport(2, {{"nid", Tok(2)}}, v1::FORM_LABOUR, 202404)})})
                  .ok());
  StartDashboard();
  EXPECT_EQ(Get("gemeente", "/api/totals?by=form&from=2024-01&to=2024-12"), 200);
  EXPECT_EQ(Entries("gemeente", {"\"via\":\"dashboard\"", "\"view\":\"totals\"", "\"by\":\"form\"",
                                 "\"answered\":true", "\"perturbed_cells\":"}),
            1u);
  EXPECT_EQ(Get("gemeente", "/api/insight?from=2024-01&to=2024-12"), 200);
  EXPECT_EQ(Entries("gemeente", {"\"via\":\"dashboard\"", "\"view\":\"insight\"",
                                 "\"answered\":true"}),
            1u);
  // A period off the release grid: 400, audited as refused.
  EXPECT_EQ(Get("gemeente", "/api/insight?from=2024-01&to=2024-05"), 400);
  EXPECT_EQ(Entries("gemeente", {"\"via\":\"dashboard\"", "\"to\":\"2024-05\"",
                                 "\"refused\":\"INVALID_ARGUMENT\""}),
            1u);
  // An agency's certificate: 403 for the API and for the page, both audited.
  EXPECT_EQ(Get("police", "/api/insight?from=2024-01&to=2024-12"), 403);
  EXPECT_EQ(Get("police", "/"), 403);
  EXPECT_EQ(Entries("police", {"\"via\":\"dashboard\"", "\"role\":\"agency\"",
                               "\"view\":\"the dashboard /api/insight\"",
                               "\"refused\":\"PERMISSION_DENIED\""}),
            1u);
  EXPECT_EQ(Entries("police", {"\"via\":\"dashboard\"", "\"view\":\"the dashboard /\"",
                               "\"refused\":\"PERMISSION_DENIED\""}),
            1u);
  // A path of the caller's own making is refused and audited without its text.
  EXPECT_EQ(Get("police", "/Jan-Jansen-1990-01-01"), 403);
  EXPECT_EQ(Entries("police", {"\"view\":\"the dashboard (another path)\"",
                               "\"refused\":\"PERMISSION_DENIED\""}),
            1u);
  EXPECT_EQ(Entries("police", {"Jansen"}), 0u);
}

}  // namespace
}  // namespace samenzicht::aggregator
