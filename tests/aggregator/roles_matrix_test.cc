// Every RPC of the aggregator, called with every role, with no client certificate and with
// a certificate from a foreign CA: the exact status code of each cell.
#include <map>

#include "tests/aggregator/audit_fixture.h"

namespace samenzicht::aggregator {
namespace {

using grpc::StatusCode;

class RolesMatrixTest : public testing::AuditServerTest {
 protected:
  // Calls `rpc` as `who` (a name in the PKI, "" = no client certificate) from `pki`.
  grpc::Status Call(const std::string& rpc, const std::string& who, const std::string& pki) {
    auto ch = Channel(who, pki);
    if (rpc == "Intake.SubmitBatches") {
      return Submit(who, {PoliceBatch({testing::MakeReport(++next_, {})})}, nullptr, pki);
    }
    if (rpc == "Intake.Retract") {
      v1::RetractResponse r;
      return Retract(who, {testing::Id(1)}, &r, pki);
    }
    if (rpc == "Query.Totals") {
      v1::TotalsResponse r;
      return Totals(who, &r, {}, pki);
    }
    if (rpc == "Audit.GetTrail") {
      v1::GetTrailResponse r;
      return v1::Audit::NewStub(ch)->GetTrail(Ctx().get(), v1::GetTrailRequest(), &r);
    }
    if (rpc == "Audit.GetCheckpoint") {
      v1::GetCheckpointResponse r;
      return v1::Audit::NewStub(ch)->GetCheckpoint(Ctx().get(), v1::GetCheckpointRequest(), &r);
    }
    if (rpc == "Admin.GetSettings") {
      v1::Settings r;
      return v1::Admin::NewStub(ch)->GetSettings(Ctx().get(), v1::GetSettingsRequest(), &r);
    }
    if (rpc == "Admin.SetRetention") {
      v1::SetRetentionRequest req;
      req.set_retention_months(0);
      v1::Settings r;
      return v1::Admin::NewStub(ch)->SetRetention(Ctx().get(), req, &r);
    }
    if (rpc == "Admin.SetKeyEpoch") {
      v1::SetKeyEpochRequest req;
      req.set_key_epoch(kAuditEpochForMatrix);
      v1::Settings r;
      return v1::Admin::NewStub(ch)->SetKeyEpoch(Ctx().get(), req, &r);
    }
    ADD_FAILURE() << "unknown rpc " << rpc;
    return grpc::Status::CANCELLED;
  }
  static constexpr uint32_t kAuditEpochForMatrix = testing::kAuditEpoch;
  int next_ = 1000;
};

TEST_F(RolesMatrixTest, EveryRpcWithEveryRoleHasTheExactResult) {
  // Callers: name in the deployment PKI (or "" for none) and whether the PKI is foreign.
  struct Caller {
    std::string label, name;
    bool foreign;
  };
  const std::vector<Caller> callers = {
      {"agency", "police", false},          {"analyst", "gemeente", false},
      {"privacy_officer", "fg", false},     {"admin", "beheer", false},
      {"no certificate", "", false},        {"foreign agency", "police", true},
      {"foreign analyst", "gemeente", true}, {"foreign privacy officer", "fg", true},
      {"foreign admin", "beheer", true},
  };
  // The one role each RPC admits; every other role is PERMISSION_DENIED; without a
  // certificate or with a foreign one the TLS handshake fails (UNAVAILABLE).
  const std::map<std::string, std::string> allowed = {
      {"Intake.SubmitBatches", "agency"},     {"Intake.Retract", "agency"},
      {"Query.Totals", "analyst"},            {"Audit.GetTrail", "privacy_officer"},
      {"Audit.GetCheckpoint", "privacy_officer"}, {"Admin.GetSettings", "admin"},
      {"Admin.SetRetention", "admin"},        {"Admin.SetKeyEpoch", "admin"},
  };
  int cells = 0;
  for (const auto& [rpc, role] : allowed) {
    for (const Caller& c : callers) {
      StatusCode expected;
      if (c.name.empty() || c.foreign) {
        expected = StatusCode::UNAVAILABLE;
      } else {
        expected = c.label == role ? StatusCode::OK : StatusCode::PERMISSION_DENIED;
      }
      grpc::Status st = Call(rpc, c.name, c.foreign ? foreign_pki_ : "");
      EXPECT_EQ(st.error_code(), expected)
          << rpc << " as " << c.label << ": " << st.error_message();
      ++cells;
    }
  }
  EXPECT_EQ(cells, 8 * 9);
  // Nothing a refused caller tried is in the data: only police's allowed submissions.
  ASSERT_OK_AND_ASSIGN(int64_t reports, server_->store()->CountRows("reports"));
  EXPECT_EQ(reports, 1);
}

TEST_F(RolesMatrixTest, AdminChangesAreInTheTrailAndOverrideTheConfiguration) {
  auto admin = v1::Admin::NewStub(Channel("beheer"));
  v1::SetRetentionRequest rr;
  rr.set_retention_months(1201);
  v1::Settings s;
  EXPECT_EQ(admin->SetRetention(Ctx().get(), rr, &s).error_code(), StatusCode::INVALID_ARGUMENT);
  rr.set_retention_months(36);
  ASSERT_TRUE(admin->SetRetention(Ctx().get(), rr, &s).ok());
  EXPECT_EQ(s.retention_months(), 36u);
  v1::SetKeyEpochRequest kr;
  kr.set_key_epoch(0);
  EXPECT_EQ(admin->SetKeyEpoch(Ctx().get(), kr, &s).error_code(), StatusCode::INVALID_ARGUMENT);
  kr.set_key_epoch(2);
  ASSERT_TRUE(admin->SetKeyEpoch(Ctx().get(), kr, &s).ok());
  EXPECT_EQ(s.key_epoch(), 2u);
  // Batches of the old epoch are now refused.
  std::vector<v1::BatchAck> acks;
  ASSERT_TRUE(Submit("police", {PoliceBatch({testing::MakeReport(1, {})})}, &acks).ok());
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].code(), grpc::StatusCode::FAILED_PRECONDITION);

  // After a restart the stored settings still win over the configuration file.
  StopServer();
  StartServer();
  ASSERT_TRUE(v1::Admin::NewStub(Channel("beheer"))
                  ->GetSettings(Ctx().get(), v1::GetSettingsRequest(), &s)
                  .ok());
  EXPECT_EQ(s.key_epoch(), 2u);
  EXPECT_EQ(s.retention_months(), 36u);

  v1::GetTrailResponse trail;
  ASSERT_TRUE(v1::Audit::NewStub(Channel("fg"))
                  ->GetTrail(Ctx().get(), v1::GetTrailRequest(), &trail)
                  .ok());
  std::vector<std::string> events;
  for (const auto& e : trail.entries()) events.push_back(e.event() + "/" + e.actor());
  EXPECT_THAT(events, ::testing::IsSupersetOf({"retention_change/beheer", "key_epoch_change/beheer",
                                               "batch_refused/police", "stop/aggregator",
                                               "start/aggregator"}));
  EXPECT_EQ(trail.public_key(), *crypto::Base64Decode(audit_public_key_));
  // A restart with the same configuration is not a configuration change.
  int config_changes = 0;
  for (const auto& e : trail.entries()) config_changes += e.event() == "configuration_change";
  EXPECT_EQ(config_changes, 1);
  // A changed configuration is.
  StopServer();
  config_.set_min_cell_size(3);
  StartServer();
  ASSERT_TRUE(v1::Audit::NewStub(Channel("fg"))
                  ->GetTrail(Ctx().get(), v1::GetTrailRequest(), &trail)
                  .ok());
  config_changes = 0;
  for (const auto& e : trail.entries()) config_changes += e.event() == "configuration_change";
  EXPECT_EQ(config_changes, 2);
}

}  // namespace
}  // namespace samenzicht::aggregator
