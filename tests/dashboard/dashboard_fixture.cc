// Fixture for the browser test (dashboard.test.mjs): an in-process aggregator with the
// dashboard on 127.0.0.1 port 0, real mutual TLS, fed with signed test batches over the
// Intake service by three agencies; then asks the Query service (gRPC, analyst
// certificate) for the numbers the page must show and writes them next to the port.
//
//   dashboard_fixture DIR      # writes DIR/ready.json, serves until stdin closes
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "aggregator/dashboard/dashboard.h"
#include "aggregator/exact_totals.h"
#include "aggregator/present/insight_format.h"
#include "aggregator/present/report.h"
#include "aggregator/server/server.h"
#include "aggregator/present/totals_format.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "rpc/tls.h"
#include "samenzicht/v1/intake.grpc.pb.h"
#include "samenzicht/v1/query.grpc.pb.h"
#include "tests/aggregator/test_util.h"

namespace sz = samenzicht;
namespace v1 = samenzicht::v1;
using samenzicht::aggregator::testing::MakePayload;
using samenzicht::aggregator::testing::MakeReport;
using samenzicht::aggregator::testing::Sign;
using samenzicht::aggregator::testing::Tok;

namespace {

v1::TlsFiles Tls(const std::string& pki, const std::string& who) {
  v1::TlsFiles t;
  t.set_ca_cert_file(pki + "/ca.crt");
  t.set_cert_file(pki + "/" + who + ".crt");
  t.set_key_file(pki + "/" + who + ".key");
  return t;
}

int Fail(const std::string& what) {
  std::cerr << "dashboard_fixture: " << what << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) return Fail("usage: dashboard_fixture DIR");
  std::string dir = std::filesystem::absolute(argv[1]).string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string pki = dir + "/pki";
  std::string script = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/pki.sh";
  std::string cmd = script + " init " + pki + " >/dev/null";
  for (const char* p : {"aggregator server", "police agency", "zorg agency", "school agency",
                        "gemeente analyst", "fg privacy_officer"}) {
    cmd += " && " + script + " issue " + pki + " " + p + " >/dev/null";
  }
  if (std::system(cmd.c_str()) != 0) return Fail("could not make certificates");

  v1::LinkageProfile profile = sz::aggregator::testing::TestProfile();
  { std::ofstream(dir + "/profile.textproto") << profile.DebugString(); }
  if (!sz::crypto::GenerateKeyFile(dir + "/store.key", sz::crypto::KeyKind::kStore).ok()) {
    return Fail("store key");
  }
  struct Agency {
    const char* node;
    v1::Domain domain;
    std::unique_ptr<sz::crypto::Signer> signer;
  };
  std::vector<Agency> agencies;
  agencies.push_back({"police", v1::DOMAIN_POLICE, nullptr});
  agencies.push_back({"zorg", v1::DOMAIN_YOUTH_CARE, nullptr});
  agencies.push_back({"school", v1::DOMAIN_EDUCATION, nullptr});
  v1::AggregatorConfig config;
  config.set_listen_address("127.0.0.1:0");
  config.set_dashboard_listen_address("127.0.0.1:0");
  *config.mutable_tls() = Tls(pki, "aggregator");
  config.set_data_dir(dir + "/data");
  config.set_store_key_file(dir + "/store.key");
  config.set_profile_file(dir + "/profile.textproto");
  config.set_key_epoch(1);
  config.set_min_cell_size(5);
  for (const char* area : {"binnenstad", "oude_wijken", "west", "oost", "zuid", "haren", "ten_boer"}) {
    config.add_areas(area);
  }
  for (Agency& a : agencies) {
    auto s = sz::crypto::Signer::Generate();
    if (!s.ok()) return Fail("signer");
    a.signer = std::move(*s);
    auto* e = config.add_agencies();
    e->set_node_id(a.node);
    e->set_domain(a.domain);
    e->set_signing_public_key(sz::crypto::Base64Encode(a.signer->public_key()));
  }
  auto server = sz::aggregator::Server::Start(config);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  auto dashboard = sz::aggregator::Dashboard::Start(config.dashboard_listen_address(),
                                                    config.tls(), (*server)->query());
  if (!dashboard.ok()) return Fail(std::string(dashboard.status().message()));
  std::string address = "127.0.0.1:" + std::to_string((*server)->port());

  // 40 persons. Police sees persons 0..29, youth care 20..37, school 34..39 (overlaps
  // police/youth care 20..29, youth care/school 34..37). Forms and months vary; labour is
  // a small cell.
  const v1::Form forms[] = {v1::FORM_SEXUAL, v1::FORM_CRIMINAL, v1::FORM_SEXUAL,
                            v1::FORM_CRIMINAL, v1::FORM_SEXUAL_AND_CRIMINAL};
  int report_id = 1;
  for (size_t ai = 0; ai < agencies.size(); ++ai) {
    int lo = ai == 0 ? 0 : ai == 1 ? 20 : 34, hi = ai == 0 ? 29 : ai == 1 ? 37 : 39;
    std::vector<v1::Report> reports;
    for (int p = lo; p <= hi; ++p) {
      v1::Form form = p % 13 == 0 ? v1::FORM_LABOUR : forms[p % 5];
      uint32_t month = 202401 + static_cast<uint32_t>((p + 3 * ai) % 12);
      v1::Report r = MakeReport(report_id++, {{"nid", Tok(1000 + p)}}, form, month);
      r.set_age_band(p % 3 == 0 ? v1::AGE_BAND_13_17 : p % 3 == 1 ? v1::AGE_BAND_18_26
                                                                   : v1::AGE_BAND_27_PLUS);
      reports.push_back(std::move(r));
    }
    auto ch = sz::rpc::Connect(address, Tls(pki, agencies[ai].node), "localhost");
    if (!ch.ok()) return Fail("connect");
    auto stub = v1::Intake::NewStub(*ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto stream = stub->SubmitBatches(&ctx);
    v1::SubmitRequest req;
    *req.mutable_batch() = Sign(*agencies[ai].signer,
                                MakePayload(agencies[ai].node, profile, 1, std::move(reports)));
    v1::BatchAck ack;
    if (!stream->Write(req) || !stream->Read(&ack)) return Fail("submit");
    stream->WritesDone();
    if (!stream->Finish().ok()) return Fail("submit finish");
  }

  // What the Query service (gRPC, analyst) answers for the period the test shows.
  auto ch = sz::rpc::Connect(address, Tls(pki, "gemeente"), "localhost");
  if (!ch.ok()) return Fail("connect analyst");
  auto q = v1::Query::NewStub(*ch);
  std::string expected = "{\n\"insight\": ";
  {
    grpc::ClientContext ctx;
    v1::InsightRequest r;
    r.set_from_month(202401);
    r.set_to_month(202412);
    r.set_granularity(v1::TREND_GRANULARITY_MONTH);
    v1::InsightResponse out;
    grpc::Status st = q->Insight(&ctx, r, &out);
    if (!st.ok()) return Fail("insight: " + st.error_message());
    expected += sz::aggregator::FormatInsightJson(out);
    // The council report of the same overview, for the test of its trend chart.
    sz::aggregator::ReportInput in;
    in.insight = out;
    in.period = "2024-01..2024-12";
    in.generated = "2025-02-01";
    { std::ofstream(dir + "/report.html") << sz::aggregator::RenderReportHtml(in); }
  }
  for (auto [name, dim] : {std::pair{"form", v1::DIMENSION_FORM},
                           std::pair{"age_band", v1::DIMENSION_AGE_BAND},
                           std::pair{"domain", v1::DIMENSION_DOMAIN}}) {
    grpc::ClientContext ctx;
    v1::TotalsRequest r;
    r.add_by(dim);
    r.set_from_month(202401);
    r.set_to_month(202412);
    v1::TotalsResponse out;
    grpc::Status st = q->Totals(&ctx, r, &out);
    if (!st.ok()) return Fail("totals: " + st.error_message());
    expected += std::string(",\n\"") + name + "\": " + sz::aggregator::FormatTotalsJson(out);
  }
  {
    // The exact, unpublished form table (the operator's path), so the test knows which
    // cells are small and can check they are protected.
    v1::TotalsRequest r;
    r.add_by(v1::DIMENSION_FORM);
    r.set_from_month(202401);
    r.set_to_month(202412);
    auto exact = sz::aggregator::ExactTotals(config, r);
    if (!exact.ok()) return Fail("exact totals: " + std::string(exact.status().message()));
    expected += ",\n\"exact_form\": " + sz::aggregator::FormatTotalsJson(*exact);
  }
  expected += "}\n";
  { std::ofstream(dir + "/expected.json") << expected; }
  {
    std::ofstream f(dir + "/ready.json.tmp");
    f << "{\"dashboard_port\": " << (*dashboard)->port() << ", \"grpc_port\": "
      << (*server)->port() << ", \"pki\": \"" << pki << "\"}\n";
  }
  std::filesystem::rename(dir + "/ready.json.tmp", dir + "/ready.json");
  std::cerr << "dashboard_fixture: https://127.0.0.1:" << (*dashboard)->port() << "/\n";
  char buf[64];
  while (read(0, buf, sizeof buf) > 0) {
  }
  (*dashboard)->Stop();
  (*server)->Shutdown();
  return 0;
}
