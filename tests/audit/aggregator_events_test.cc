// The aggregator's typed audit events (audit/aggregator_events.h): each writes the exact
// bytes the trail has always held for its kind (the trail is hash-chained over them, and
// entries written by earlier releases must read back), and reads them back to an equal
// struct.
#include "audit/aggregator_events.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::aggregator {
namespace {

using samenzicht::testing::StatusIs;

// ToJson is exactly `json`, and FromJson(json) gives `e` back.
template <typename Event>
void ExpectBytesAndRoundTrip(const Event& e, const std::string& json) {
  EXPECT_EQ(e.ToJson(), json);
  absl::StatusOr<Event> back = Event::FromJson(json);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == e) << json;
}

TEST(AggregatorEventsTest, BatchReceived) {
  BatchReceivedEvent e{"police", "b-1", 10, 7, 2, 1, 3, 1, 1, 40, 6, 0, "ab12"};
  ExpectBytesAndRoundTrip(
      e, R"({"agency":"police","batch_id":"b-1","reports":10,"accepted":7,"duplicates":2,)"
         R"("refused":1,"key_epoch":3,"replaced":1,"corrected":1,"tokens":40,)"
         R"("max_tokens_per_report":6,"reports_beyond_profile":0,"batch_digest":"ab12"})");
}

TEST(AggregatorEventsTest, ReportCorrectedRefusedAndRetraction) {
  ExpectBytesAndRoundTrip(ReportCorrectedEvent{"zorg", "b-2", "00ff", 4},
                          R"({"agency":"zorg","batch_id":"b-2","report_id":"00ff","version":4})");
  ExpectBytesAndRoundTrip(
      BatchRefusedEvent{"zorg", "", "FAILED_PRECONDITION", "key epoch \"2\"", "cd"},
      R"({"agency":"zorg","batch_id":"","code":"FAILED_PRECONDITION",)"
      R"("reason":"key epoch \"2\"","batch_digest":"cd"})");
  ExpectBytesAndRoundTrip(RetractionEvent{"zorg", 3, 2, 1},
                          R"({"agency":"zorg","requested":3,"retracted":2,"not_found":1})");
}

TEST(AggregatorEventsTest, PurgeAndRetiredEpochsNameWhoAsked) {
  PurgeEvent p{Request::Of(kRoleLocalOperator, "purge", absl::OkStatus()), "2022-03", 12, 30};
  ExpectBytesAndRoundTrip(p, R"({"role":"local_operator","asked":"purge","outcome":"OK",)"
                             R"("cutoff_month":"2022-03","reports":12,"tokens":30})");
  KeyEpochRetiredEvent k{Request::Of(kRoleLocalOperator, "retire key epochs", absl::OkStatus()), 3,
                         5, 9};
  ExpectBytesAndRoundTrip(k,
                          R"({"role":"local_operator","asked":"retire key epochs","outcome":"OK",)"
                          R"("before_epoch":3,"reports":5,"tokens":9})");
}

TEST(AggregatorEventsTest, SettingChangesInTheirThreeShapes) {
  // Made by the administrator.
  SettingChangeEvent made{.request = Request::Of("admin", "Admin.SetRetention", absl::OkStatus())};
  made.from = 24;
  made.to = 36;
  made.source = "administrator";
  ExpectBytesAndRoundTrip(made, R"({"role":"admin","asked":"Admin.SetRetention","outcome":"OK",)"
                                R"("from":24,"to":36,"source":"administrator"})");
  // Refused: the reason follows the outcome.
  SettingChangeEvent refused{
      .request = Request::Of("admin", "Admin.SetKeyEpoch",
                             absl::InvalidArgumentError("key_epoch must be at least 1"))};
  refused.from = 2;
  refused.to = 0;
  refused.source = "administrator";
  ExpectBytesAndRoundTrip(
      refused, R"({"role":"admin","asked":"Admin.SetKeyEpoch","outcome":"INVALID_ARGUMENT",)"
               R"("reason":"key_epoch must be at least 1","from":2,"to":0,)"
               R"("source":"administrator"})");
  // Found at start: a stored value overrides the configuration.
  SettingChangeEvent start{.request = Request::AtStart("local:svc")};
  start.configured = 2;
  start.effective = 3;
  start.source = "stored setting overrides the configuration";
  ExpectBytesAndRoundTrip(
      start, R"({"role":"aggregator","asked":"start","outcome":"OK","process_user":"local:svc",)"
             R"("configured":2,"effective":3,)"
             R"("source":"stored setting overrides the configuration"})");
}

TEST(AggregatorEventsTest, ConfigurationAndAgencyKeyChanges) {
  ConfigChangeEvent c{.request = Request::AtStart("local:svc")};
  c.previous_digest = "";
  c.digest = "d1";
  c.changed_files = {{"tls_cert", "/etc/s/cert.pem", "", "f1"}, {"crl_dir", "", "f0", ""}};
  c.key_epoch = 1;
  c.retention_months = 24;
  c.min_cell_size = 5;
  c.max_batch_reports = 10000;
  c.agencies = {"police", "zorg"};
  c.areas = {};
  ExpectBytesAndRoundTrip(
      c, R"({"role":"aggregator","asked":"start","outcome":"OK","process_user":"local:svc",)"
         R"("previous_digest":"","digest":"d1","changed_files":[)"
         R"({"field":"tls_cert","path":"/etc/s/cert.pem","previous_fingerprint":"",)"
         R"("fingerprint":"f1"},{"field":"crl_dir","path":"","previous_fingerprint":"f0",)"
         R"("fingerprint":""}],"key_epoch":1,"retention_months":24,"min_cell_size":5,)"
         R"("max_batch_reports":10000,"agencies":["police","zorg"],"areas":[]})");
  ExpectBytesAndRoundTrip(
      AgencyKeyChangeEvent{Request::AtStart("local:svc"), "zorg", "", "f2", "configuration"},
      R"({"role":"aggregator","asked":"start","outcome":"OK","process_user":"local:svc",)"
      R"("agency":"zorg","previous_fingerprint":"","fingerprint":"f2","source":"configuration"})");
}

TEST(AggregatorEventsTest, StartStopAndPermissionDenied) {
  ExpectBytesAndRoundTrip(
      StartEvent{"d1", 2, 24, 3},
      R"({"config_digest":"d1","key_epoch":2,"retention_months":24,"agencies":3})");
  ExpectBytesAndRoundTrip(StopEvent{}, "{}");
  ExpectBytesAndRoundTrip(
      PermissionDeniedEvent{Request::Of("analyst", "Admin.GetSettings",
                                        absl::PermissionDeniedError("only the administrator"))},
      R"({"role":"analyst","asked":"Admin.GetSettings","outcome":"PERMISSION_DENIED",)"
      R"("reason":"only the administrator"})");
}

TEST(AggregatorEventsTest, BackupAndRestoreMadeOrNot) {
  BackupEvent made{Request::Of(kRoleLocalOperator, "backup", absl::OkStatus()), "/b/x.db", 7, 20};
  ExpectBytesAndRoundTrip(made, R"({"role":"local_operator","asked":"backup","outcome":"OK",)"
                                R"("file":"/b/x.db","reports":7,"audit_entries":20})");
  BackupEvent failed{
      .request = Request::Of(kRoleLocalOperator, "backup", absl::AlreadyExistsError("exists")),
      .file = "/b/x.db"};
  ExpectBytesAndRoundTrip(failed,
                          R"({"role":"local_operator","asked":"backup","outcome":"ALREADY_EXISTS",)"
                          R"("reason":"exists","file":"/b/x.db"})");
  RestoreEvent command{.request = Request::Of(kRoleLocalOperator, "restore", absl::OkStatus()),
                       .backup_file = "/b/x.db"};
  command.data_dir = "/var/lib/s";
  command.reports = 7;
  command.audit_entries = 20;
  ExpectBytesAndRoundTrip(
      command,
      R"({"role":"local_operator","asked":"restore","outcome":"OK",)"
      R"("backup_file":"/b/x.db","data_dir":"/var/lib/s","reports":7,"audit_entries":20})");
  RestoreEvent note{.request = Request::Of(kRoleLocalOperator, "restore", absl::OkStatus()),
                    .backup_file = "/b/x.db"};
  note.restored_unix = 1700000000;
  ExpectBytesAndRoundTrip(note, R"({"role":"local_operator","asked":"restore","outcome":"OK",)"
                                R"("backup_file":"/b/x.db","restored_unix":1700000000})");
}

TEST(AggregatorEventsTest, QueriesOfEachMethod) {
  QueryEvent q{.role = "analyst",
               .via = "grpc",
               .view = "totals",
               .by = "form",
               .from = "2024-01",
               .to = "2024-03",
               .method = "cell_key",
               .answered = true};
  q.perturbed_cells = 12;
  ExpectBytesAndRoundTrip(
      q, R"({"role":"analyst","via":"grpc","view":"totals","by":"form","from":"2024-01",)"
         R"("to":"2024-03","method":"cell_key","answered":true,"perturbed_cells":12})");
  QueryEvent exact{.role = "local_operator",
                   .via = "exact-totals",
                   .view = "totals",
                   .method = "none: exact, unpublished",
                   .answered = false};
  exact.exact_cells = 0;
  exact.refused = "INVALID_ARGUMENT";
  ExpectBytesAndRoundTrip(
      exact, R"({"role":"local_operator","via":"exact-totals","view":"totals","by":"","from":"",)"
             R"("to":"","method":"none: exact, unpublished","answered":false,"exact_cells":0,)"
             R"("refused":"INVALID_ARGUMENT"})");
}

TEST(AggregatorEventsTest, ReleasesOfAMonthAndOfADecember) {
  ExpectBytesAndRoundTrip(DisclosureReleaseEvent{.month = "2024-03", .reports = 7},
                          R"({"month":"2024-03","reports":7})");
  ExpectBytesAndRoundTrip(
      DisclosureReleaseEvent{.month = "2024-12", .reports = 0, .revises = "2024"},
      R"({"month":"2024-12","reports":0,"revises":"2024"})");
  ExpectBytesAndRoundTrip(
      DisclosureReleaseEvent{.month = "2024-03", .reports = 7, .completed = "rows and versions"},
      R"({"month":"2024-03","reports":7,"completed":"rows and versions"})");
  EXPECT_THAT(DisclosureReleaseEvent::FromJson("not json"),
              StatusIs(absl::StatusCode::kInvalidArgument, "disclosure_release"));
}

TEST(AggregatorEventsTest, ReportsThatLeftAReleasedMonth) {
  ExpectBytesAndRoundTrip(
      DisclosureDepartureEvent{.month = "2024-03", .agency = "police", .reports = 2},
      R"({"month":"2024-03","agency":"police","reports":2})");
  EXPECT_THAT(DisclosureDepartureEvent::FromJson("not json"),
              StatusIs(absl::StatusCode::kInvalidArgument, "disclosure_departure"));
}

TEST(AggregatorEventsTest, OlderEntriesWithoutAFieldReadItAsZero) {
  // A batch_received entry of a release before tokens were counted.
  ASSERT_OK_AND_ASSIGN(BatchReceivedEvent e,
                       BatchReceivedEvent::FromJson(R"({"agency":"police","accepted":4})"));
  EXPECT_EQ(e.accepted, 4);
  EXPECT_EQ(e.tokens, 0);
  EXPECT_EQ(e.batch_digest, "");
  ASSERT_OK_AND_ASSIGN(QueryEvent q, QueryEvent::FromJson(R"({"suppressed":3})"));
  EXPECT_EQ(q.suppressed.value_or(-1), 3);
  EXPECT_FALSE(q.perturbed_cells.has_value());
  EXPECT_THAT(BatchReceivedEvent::FromJson("not json"),
              StatusIs(absl::StatusCode::kInvalidArgument, "batch_received"));
}

}  // namespace
}  // namespace samenzicht::aggregator
