#include "audit/aggregator_events.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/month.h"
#include "common/status_macros.h"

namespace samenzicht::aggregator {

std::string MonthText(uint32_t yyyymm) { return Month(yyyymm).Text(); }

uint32_t MonthOfMs(int64_t time_ms) { return Month::OfUnixMs(time_ms).yyyymm(); }

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::StatusOr<Struct> Parse(std::string_view json, const char* event) {
  Struct s;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &s).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the details of a ", event, " entry are not a JSON object"));
  }
  return s;
}

const Value* Field(const Struct& s, const char* key) {
  auto it = s.fields().find(key);
  return it == s.fields().end() ? nullptr : &it->second;
}

std::string Str(const Struct& s, const char* key) {
  const Value* v = Field(s, key);
  return v == nullptr ? "" : v->string_value();
}

std::optional<std::string> OptStr(const Struct& s, const char* key) {
  const Value* v = Field(s, key);
  if (v == nullptr) return std::nullopt;
  return v->string_value();
}

int64_t Int(const Struct& s, const char* key) {
  const Value* v = Field(s, key);
  return v == nullptr ? 0 : static_cast<int64_t>(v->number_value());
}

std::optional<int64_t> OptInt(const Struct& s, const char* key) {
  const Value* v = Field(s, key);
  if (v == nullptr) return std::nullopt;
  return static_cast<int64_t>(v->number_value());
}

bool Bool(const Struct& s, const char* key) {
  const Value* v = Field(s, key);
  return v != nullptr && v->bool_value();
}

std::vector<std::string> StrList(const Struct& s, const char* key) {
  std::vector<std::string> out;
  const Value* v = Field(s, key);
  if (v == nullptr) return out;
  for (const Value& x : v->list_value().values()) out.push_back(x.string_value());
  return out;
}

void AddRequest(JsonObject& d, const Request& r) {
  d.Add("role", r.role).Add("asked", r.asked).Add("outcome", r.outcome);
  if (r.reason.has_value()) d.Add("reason", *r.reason);
  if (r.process_user.has_value()) d.Add("process_user", *r.process_user);
}

Request ReadRequest(const Struct& s) {
  Request r;
  r.role = Str(s, "role");
  r.asked = Str(s, "asked");
  r.outcome = Str(s, "outcome");
  r.reason = OptStr(s, "reason");
  r.process_user = OptStr(s, "process_user");
  return r;
}

void AddOpt(JsonObject& d, const char* key, const std::optional<int64_t>& v) {
  if (v.has_value()) d.Add(key, *v);
}

}  // namespace

Request Request::Of(std::string_view role, std::string_view asked, const absl::Status& outcome) {
  Request r;
  r.role = std::string(role);
  r.asked = std::string(asked);
  r.outcome = absl::StatusCodeToString(outcome.code());
  if (!outcome.ok()) r.reason = std::string(outcome.message());
  return r;
}

Request Request::AtStart(std::string_view process_user) {
  Request r;
  r.role = kRoleAggregator;
  r.asked = kAskedStart;
  r.outcome = "OK";
  r.process_user = std::string(process_user);
  return r;
}

std::string BatchReceivedEvent::ToJson() const {
  JsonObject d;
  d.Add("agency", agency)
      .Add("batch_id", batch_id)
      .Add("reports", reports)
      .Add("accepted", accepted)
      .Add("duplicates", duplicates)
      .Add("refused", refused)
      .Add("key_epoch", key_epoch)
      .Add("replaced", replaced)
      .Add("corrected", corrected)
      .Add("tokens", tokens)
      .Add("max_tokens_per_report", max_tokens_per_report)
      .Add("reports_beyond_profile", reports_beyond_profile)
      .Add("batch_digest", batch_digest);
  return d.str();
}

absl::StatusOr<BatchReceivedEvent> BatchReceivedEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventBatchReceived));
  BatchReceivedEvent e;
  e.agency = Str(s, "agency");
  e.batch_id = Str(s, "batch_id");
  e.reports = Int(s, "reports");
  e.accepted = Int(s, "accepted");
  e.duplicates = Int(s, "duplicates");
  e.refused = Int(s, "refused");
  e.key_epoch = Int(s, "key_epoch");
  e.replaced = Int(s, "replaced");
  e.corrected = Int(s, "corrected");
  e.tokens = Int(s, "tokens");
  e.max_tokens_per_report = Int(s, "max_tokens_per_report");
  e.reports_beyond_profile = Int(s, "reports_beyond_profile");
  e.batch_digest = Str(s, "batch_digest");
  return e;
}

std::string ReportCorrectedEvent::ToJson() const {
  JsonObject d;
  d.Add("agency", agency)
      .Add("batch_id", batch_id)
      .Add("report_id", report_id)
      .Add("version", version);
  return d.str();
}

absl::StatusOr<ReportCorrectedEvent> ReportCorrectedEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventReportCorrected));
  ReportCorrectedEvent e;
  e.agency = Str(s, "agency");
  e.batch_id = Str(s, "batch_id");
  e.report_id = Str(s, "report_id");
  e.version = Int(s, "version");
  return e;
}

std::string BatchRefusedEvent::ToJson() const {
  JsonObject d;
  d.Add("agency", agency)
      .Add("batch_id", batch_id)
      .Add("code", code)
      .Add("reason", reason)
      .Add("batch_digest", batch_digest);
  return d.str();
}

absl::StatusOr<BatchRefusedEvent> BatchRefusedEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventBatchRefused));
  BatchRefusedEvent e;
  e.agency = Str(s, "agency");
  e.batch_id = Str(s, "batch_id");
  e.code = Str(s, "code");
  e.reason = Str(s, "reason");
  e.batch_digest = Str(s, "batch_digest");
  return e;
}

std::string RetractionEvent::ToJson() const {
  JsonObject d;
  d.Add("agency", agency)
      .Add("requested", requested)
      .Add("retracted", retracted)
      .Add("not_found", not_found);
  return d.str();
}

absl::StatusOr<RetractionEvent> RetractionEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventRetraction));
  RetractionEvent e;
  e.agency = Str(s, "agency");
  e.requested = Int(s, "requested");
  e.retracted = Int(s, "retracted");
  e.not_found = Int(s, "not_found");
  return e;
}

std::string PurgeEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  d.Add("cutoff_month", cutoff_month).Add("reports", reports).Add("tokens", tokens);
  return d.str();
}

absl::StatusOr<PurgeEvent> PurgeEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventPurge));
  PurgeEvent e;
  e.request = ReadRequest(s);
  e.cutoff_month = Str(s, "cutoff_month");
  e.reports = Int(s, "reports");
  e.tokens = Int(s, "tokens");
  return e;
}

std::string KeyEpochRetiredEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  d.Add("before_epoch", before_epoch).Add("reports", reports).Add("tokens", tokens);
  return d.str();
}

absl::StatusOr<KeyEpochRetiredEvent> KeyEpochRetiredEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventKeyEpochRetired));
  KeyEpochRetiredEvent e;
  e.request = ReadRequest(s);
  e.before_epoch = Int(s, "before_epoch");
  e.reports = Int(s, "reports");
  e.tokens = Int(s, "tokens");
  return e;
}

std::string SettingChangeEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  AddOpt(d, "configured", configured);
  AddOpt(d, "effective", effective);
  AddOpt(d, "from", from);
  AddOpt(d, "to", to);
  d.Add("source", source);
  return d.str();
}

absl::StatusOr<SettingChangeEvent> SettingChangeEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, "setting change"));
  SettingChangeEvent e;
  e.request = ReadRequest(s);
  e.configured = OptInt(s, "configured");
  e.effective = OptInt(s, "effective");
  e.from = OptInt(s, "from");
  e.to = OptInt(s, "to");
  e.source = Str(s, "source");
  return e;
}

std::string ConfigChangeEvent::ToJson() const {
  std::string files = "[";
  for (const ChangedFile& f : changed_files) {
    JsonObject c;
    c.Add("field", f.field)
        .Add("path", f.path)
        .Add("previous_fingerprint", f.previous_fingerprint)
        .Add("fingerprint", f.fingerprint);
    absl::StrAppend(&files, files.size() > 1 ? "," : "", c.str());
  }
  files += "]";
  JsonObject d;
  AddRequest(d, request);
  d.Add("previous_digest", previous_digest)
      .Add("digest", digest)
      .AddRaw("changed_files", files)
      .Add("key_epoch", key_epoch)
      .Add("retention_months", retention_months)
      .Add("min_cell_size", min_cell_size)
      .Add("max_batch_reports", max_batch_reports)
      .AddRaw("agencies", JsonStringArray(agencies))
      .AddRaw("areas", JsonStringArray(areas));
  return d.str();
}

absl::StatusOr<ConfigChangeEvent> ConfigChangeEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventConfigChange));
  ConfigChangeEvent e;
  e.request = ReadRequest(s);
  e.previous_digest = Str(s, "previous_digest");
  e.digest = Str(s, "digest");
  if (const Value* files = Field(s, "changed_files"); files != nullptr) {
    for (const Value& v : files->list_value().values()) {
      const Struct& f = v.struct_value();
      e.changed_files.push_back(
          {Str(f, "field"), Str(f, "path"), Str(f, "previous_fingerprint"), Str(f, "fingerprint")});
    }
  }
  e.key_epoch = Int(s, "key_epoch");
  e.retention_months = Int(s, "retention_months");
  e.min_cell_size = Int(s, "min_cell_size");
  e.max_batch_reports = Int(s, "max_batch_reports");
  e.agencies = StrList(s, "agencies");
  e.areas = StrList(s, "areas");
  return e;
}

std::string AgencyKeyChangeEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  d.Add("agency", agency)
      .Add("previous_fingerprint", previous_fingerprint)
      .Add("fingerprint", fingerprint)
      .Add("source", source);
  return d.str();
}

absl::StatusOr<AgencyKeyChangeEvent> AgencyKeyChangeEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventAgencyKeyChange));
  AgencyKeyChangeEvent e;
  e.request = ReadRequest(s);
  e.agency = Str(s, "agency");
  e.previous_fingerprint = Str(s, "previous_fingerprint");
  e.fingerprint = Str(s, "fingerprint");
  e.source = Str(s, "source");
  return e;
}

std::string StartEvent::ToJson() const {
  JsonObject d;
  d.Add("config_digest", config_digest)
      .Add("key_epoch", key_epoch)
      .Add("retention_months", retention_months)
      .Add("agencies", agencies);
  return d.str();
}

absl::StatusOr<StartEvent> StartEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventStart));
  StartEvent e;
  e.config_digest = Str(s, "config_digest");
  e.key_epoch = Int(s, "key_epoch");
  e.retention_months = Int(s, "retention_months");
  e.agencies = Int(s, "agencies");
  return e;
}

std::string StopEvent::ToJson() const { return JsonObject().str(); }

absl::StatusOr<StopEvent> StopEvent::FromJson(std::string_view json) {
  RETURN_IF_ERROR(Parse(json, kEventStop).status());
  return StopEvent{};
}

std::string PermissionDeniedEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  return d.str();
}

absl::StatusOr<PermissionDeniedEvent> PermissionDeniedEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventPermissionDenied));
  return PermissionDeniedEvent{ReadRequest(s)};
}

std::string BackupEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  d.Add("file", file);
  AddOpt(d, "reports", reports);
  AddOpt(d, "audit_entries", audit_entries);
  return d.str();
}

absl::StatusOr<BackupEvent> BackupEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventBackup));
  BackupEvent e;
  e.request = ReadRequest(s);
  e.file = Str(s, "file");
  e.reports = OptInt(s, "reports");
  e.audit_entries = OptInt(s, "audit_entries");
  return e;
}

std::string RestoreEvent::ToJson() const {
  JsonObject d;
  AddRequest(d, request);
  d.Add("backup_file", backup_file);
  if (data_dir.has_value()) d.Add("data_dir", *data_dir);
  AddOpt(d, "reports", reports);
  AddOpt(d, "audit_entries", audit_entries);
  AddOpt(d, "restored_unix", restored_unix);
  return d.str();
}

absl::StatusOr<RestoreEvent> RestoreEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventRestore));
  RestoreEvent e;
  e.request = ReadRequest(s);
  e.backup_file = Str(s, "backup_file");
  e.data_dir = OptStr(s, "data_dir");
  e.reports = OptInt(s, "reports");
  e.audit_entries = OptInt(s, "audit_entries");
  e.restored_unix = OptInt(s, "restored_unix");
  return e;
}

std::string QueryEvent::ToJson() const {
  JsonObject d;
  d.Add("role", role)
      .Add("via", via)
      .Add("view", view)
      .Add("by", by)
      .Add("from", from)
      .Add("to", to)
      .Add("method", method)
      .Add("answered", answered);
  AddOpt(d, "perturbed_cells", perturbed_cells);
  AddOpt(d, "suppressed", suppressed);
  AddOpt(d, "exact_cells", exact_cells);
  if (refused.has_value()) d.Add("refused", *refused);
  return d.str();
}

absl::StatusOr<QueryEvent> QueryEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventQuery));
  QueryEvent e;
  e.role = Str(s, "role");
  e.via = Str(s, "via");
  e.view = Str(s, "view");
  e.by = Str(s, "by");
  e.from = Str(s, "from");
  e.to = Str(s, "to");
  e.method = Str(s, "method");
  e.answered = Bool(s, "answered");
  e.perturbed_cells = OptInt(s, "perturbed_cells");
  e.suppressed = OptInt(s, "suppressed");
  e.exact_cells = OptInt(s, "exact_cells");
  e.refused = OptStr(s, "refused");
  return e;
}

std::string DisclosureReleaseEvent::ToJson() const {
  JsonObject d;
  d.Add("month", month).Add("reports", reports);
  if (revises.has_value()) d.Add("revises", *revises);
  if (completed.has_value()) d.Add("completed", *completed);
  return d.str();
}

absl::StatusOr<DisclosureReleaseEvent> DisclosureReleaseEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventDisclosureRelease));
  DisclosureReleaseEvent e;
  e.month = Str(s, "month");
  e.reports = Int(s, "reports");
  e.revises = OptStr(s, "revises");
  e.completed = OptStr(s, "completed");
  return e;
}

std::string DisclosureDepartureEvent::ToJson() const {
  JsonObject d;
  d.Add("month", month).Add("agency", agency).Add("reports", reports);
  return d.str();
}

absl::StatusOr<DisclosureDepartureEvent> DisclosureDepartureEvent::FromJson(std::string_view json) {
  ASSIGN_OR_RETURN(Struct s, Parse(json, kEventDisclosureDeparture));
  DisclosureDepartureEvent e;
  e.month = Str(s, "month");
  e.agency = Str(s, "agency");
  e.reports = Int(s, "reports");
  return e;
}

}  // namespace samenzicht::aggregator
