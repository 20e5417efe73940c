#include "agency_node/commands.h"

#include <sys/stat.h>

#include <cstdlib>
#include <ctime>
#include <map>
#include <set>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "agency_node/batch.h"
#include "agency_node/csv.h"
#include "agency_node/daemon.h"
#include "agency_node/intake_client.h"
#include "agency_node/keyholder_client.h"
#include "agency_node/store/outbox.h"
#include "agency_node/pipeline.h"
#include "agency_node/store/state_store.h"
#include "common/files.h"
#include "common/json.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/signature.h"
#include "google/protobuf/util/json_util.h"
#include "model/config.h"
#include "model/tokens.h"

namespace samenzicht::agency_node {
namespace {

std::string CsvQuote(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  out += "\"";
  return out;
}

using json::JsonEscape;

bool FileExists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// record_id -> report_id from an existing map file written by `pseudonymise --map`.
absl::StatusOr<std::map<std::string, std::string>> ReadMapFile(const std::string& path) {
  ASSIGN_OR_RETURN(CsvFile csv, ReadCsvFile(path));
  if (csv.header != std::vector<std::string>{"record_id", "report_id"}) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a map file (header must be record_id,report_id)"));
  }
  if (!csv.errors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": line ", csv.errors[0].line, ": ", csv.errors[0].message));
  }
  std::map<std::string, std::string> m;
  for (const auto& r : csv.records) {
    const std::string& id = r.fields[1];
    bool hex = id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string::npos;
    if (!hex) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", r.line, ": report_id is not 32 lower-case hex"));
    }
    m[r.fields[0]] = id;
  }
  return m;
}

std::string SkippedLines(const PreparedReports& p) {
  std::vector<std::string> lines;
  for (const auto& s : p.skipped) lines.push_back(absl::StrCat(s.line));
  return lines.empty() ? "" : absl::StrCat(" (line", lines.size() > 1 ? "s " : " ",
                                           absl::StrJoin(lines, ", "), ")");
}

void PrintReadSummary(const PreparedReports& p, std::ostream& os) {
  for (const auto& n : p.notices) os << "notice:          " << n << "\n";
  os << "records read:    " << p.records_read << "\n"
     << "skipped:         " << p.skipped.size() << SkippedLines(p) << "\n"
     << "field warnings:  " << p.warnings.size() << "\n";
}

std::string Time(int64_t t) {
  if (t == 0) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string CodeName(int code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

// "  refused report <report id>: INVALID_ARGUMENT area: <reason>", one line per report the
// acknowledgement of `batch_id` refused. Like the rest of `sent`, no record id and never a
// value (`submit` names the record ids; the privacy officer reads `sent`).
// The agency's record id of one of its report ids ("?" when the map does not hold it), so
// the operator can find a refused signal in the case system.
std::string RecordIdOf(StateStore& store, const std::string& report_id) {
  absl::StatusOr<std::string> record = store.FindRecordId(report_id);
  return record.ok() ? *record : "?";
}

absl::Status PrintRefusedReports(StateStore& store, const std::string& batch_id,
                                 std::ostream& os) {
  ASSIGN_OR_RETURN(std::vector<SentReport> reports, store.ListReports(batch_id));
  for (const SentReport& r : reports) {
    if (!r.error_code) continue;
    os << "  refused report " << (r.report_id.empty() ? "?" : r.report_id) << ": "
       << CodeName(*r.error_code) << (r.error_field.empty() ? "" : " ") << r.error_field << ": "
       << r.error_message << " (record " << RecordIdOf(store, r.report_id) << ")\n";
  }
  return absl::OkStatus();
}

std::string AckCode(const SentBatch& b) {
  return b.ack_code ? CodeName(*b.ack_code) : "NOT_ACKNOWLEDGED";
}

}  // namespace

namespace {

constexpr char kRecordsSkippedPayload[] = "type.samenzicht.nl/records-skipped";
constexpr char kFieldsNotUsedPayload[] = "type.samenzicht.nl/fields-not-used";

// FailedPrecondition with `message`, marked with `payload` (main.cc picks the exit status by
// the mark).
absl::Status Marked(const std::string& message, const char* payload) {
  absl::Status s = absl::FailedPreconditionError(message);
  s.SetPayload(payload, absl::Cord("1"));
  return s;
}

bool HasMark(const absl::Status& status, const char* payload) {
  return !status.ok() && status.GetPayload(payload).has_value();
}

}  // namespace

absl::Status RecordsSkippedError(int skipped, int warnings) {
  return Marked(absl::StrCat("the export did not arrive whole: ", skipped,
                             " record(s) not sent, ", warnings,
                             " field(s) not used (each named above by line, record id and "
                             "field); correct the export and import it again: records already "
                             "sent are not counted twice"),
                kRecordsSkippedPayload);
}

bool IsRecordsSkipped(const absl::Status& status) {
  return HasMark(status, kRecordsSkippedPayload);
}

absl::Status FieldsNotUsedError(int records, int warnings) {
  return Marked(absl::StrCat("every record was sent, but ", records, " record(s) without ",
                             warnings,
                             " identifier field(s) that did not parse (each named above by "
                             "line, record id and field); they count in every figure, but link "
                             "less well: correct the identifiers in the case system and import "
                             "the export again (the records correct their reports)"),
                kFieldsNotUsedPayload);
}

bool IsFieldsNotUsed(const absl::Status& status) {
  return HasMark(status, kFieldsNotUsedPayload);
}

namespace {

// What a run that sent its records reports: skipped records first, then degraded ones.
absl::Status Outcome(const PreparedReports& p) {
  if (p.incomplete()) {
    return RecordsSkippedError(static_cast<int>(p.skipped.size()),
                               static_cast<int>(p.warnings.size()));
  }
  if (p.degraded()) {
    return FieldsNotUsedError(p.degraded_records(), static_cast<int>(p.warnings.size()));
  }
  return absl::OkStatus();
}

}  // namespace

std::string ResolveProfilePath(const std::string& flag, const std::string& compiled_in) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("SAMENZICHT_PROFILE");
  if (env != nullptr && *env != '\0') return env;
  return compiled_in;
}

absl::Status KeygenCommand(const std::string& out, uint32_t epoch, std::ostream& os) {
  process::DisableCoreDumps();  // the new key passes through this process's memory
  if (epoch == 0) return absl::InvalidArgumentError("--epoch must be at least 1");
  RETURN_IF_ERROR(crypto::GenerateKeyFile(out, crypto::KeyKind::kHashing, epoch).status());
  os << "wrote a new shared hashing key (epoch " << epoch << ") to " << out
     << " (mode 0600); give it to every agency node over a secure channel, never to the "
        "aggregator\n";
  return absl::OkStatus();
}

absl::Status SigningKeygenCommand(const std::string& out, std::ostream& os) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string pub, crypto::GenerateKeyFile(out, crypto::KeyKind::kSigning));
  os << pub << "\n";
  return absl::OkStatus();
}

absl::Status PseudonymiseCommand(const PseudonymiseOptions& o, spdlog::logger& log,
                                 std::ostream& os) {
  process::DisableCoreDumps();
  if (o.key_file.empty() == o.keyholder.empty()) {
    return absl::InvalidArgumentError(
        o.key_file.empty()
            ? "no key source: give --keyholder FILE (the key service; the node holds no key) "
              "or --key FILE (the shared hashing key, for a deployment without a key service)"
            : "give one key source, --keyholder FILE or --key FILE, not both");
  }
  ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(o.profile));
  std::unique_ptr<Tokeniser> tokeniser;
  if (!o.keyholder.empty()) {
    ASSIGN_OR_RETURN(tokeniser, TokeniserFromKeyholder(profile, o.keyholder));
  } else {
    ASSIGN_OR_RETURN(tokeniser, TokeniserFromKeyFile(profile, o.key_file));
  }
  ASSIGN_OR_RETURN(auto normaliser, Normaliser::New());
  std::map<std::string, std::string> ids;
  if (!o.map.empty() && FileExists(o.map)) {
    ASSIGN_OR_RETURN(ids, ReadMapFile(o.map));
  }
  SignalOptions so;
  so.areas = o.areas;
  so.today = o.today;
  ASSIGN_OR_RETURN(so.national_ids, NationalIds::FromProfile(profile));
  ASSIGN_OR_RETURN(PreparedReports prepared, PrepareReports(o.in, *normaliser, *tokeniser, so));
  LogIssues(prepared, log);

  google::protobuf::util::JsonPrintOptions jo;
  jo.preserve_proto_field_names = true;
  std::string jsonl;
  for (size_t i = 0; i < prepared.reports.size(); ++i) {
    auto [it, fresh] = ids.emplace(prepared.record_ids[i], "");
    if (fresh) it->second = crypto::RandomId();
    v1::Report& r = prepared.reports[i];
    r.set_report_id(it->second);
    // The file is read without the profile (`aggregator link`): rules by name.
    RETURN_IF_ERROR(model::UnpackTokens(tokeniser->rule_names(), &r));
    std::string line;
    auto st = google::protobuf::util::MessageToJsonString(r, &line, jo);
    if (!st.ok()) return absl::InternalError("cannot print a report as JSON");
    jsonl += line;
    jsonl += "\n";
  }
  RETURN_IF_ERROR(files::WriteFileAtomic(o.out, jsonl, 0600));
  if (!o.map.empty()) {
    std::string csv = "record_id,report_id\n";
    for (const auto& [record, report] : ids) absl::StrAppend(&csv, CsvQuote(record), ",", report, "\n");
    RETURN_IF_ERROR(files::WriteFileAtomic(o.map, csv, 0600));
  }
  PrintReadSummary(prepared, os);
  os << "reports written: " << prepared.reports.size() << " to " << o.out << "\n";
  if (!o.map.empty()) os << "map:             " << o.map << " (keep it inside the agency)\n";
  return Outcome(prepared);
}

absl::Status SubmitCommand(const std::string& config_path, const std::string& in,
                           spdlog::logger& log, std::ostream& os, const Date& today,
                           bool resend_retracted, const std::string& keyholder) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  ASSIGN_OR_RETURN(auto node, Delivery::New(config, today, keyholder));
  if (std::string w = model::MissingRevocationListWarning(config.tls()); !w.empty()) {
    log.warn("{}", w);
  }
  // Durable in the outbox first; then one delivery attempt (which also sends batches an
  // earlier submit left queued).
  ASSIGN_OR_RETURN(ImportResult imported, node->Import(in, /*once=*/false, resend_retracted));
  LogIssues(imported.prepared, log);
  PrintReadSummary(imported.prepared, os);
  if (imported.retracted_dropped > 0) {
    os << "retracted:       " << imported.retracted_dropped
       << " record(s) retracted earlier, not sent again (--resend-retracted sends them "
          "as new reports)\n";
  }
  if (imported.retracted_resent > 0) {
    os << "resent:          " << imported.retracted_resent
       << " record(s) retracted earlier, sent again as new reports (--resend-retracted)\n";
  }
  const absl::Status whole = Outcome(imported.prepared);
  ASSIGN_OR_RETURN(auto queued, node->outbox().Size());
  if (queued.first == 0) {
    os << "nothing to send\n";
    return whole;
  }
  std::vector<std::string> problems;  // named as they arrive, also if the attempt fails
  node->set_on_problem([&problems](const std::string& line) { problems.push_back(line); });
  auto sum = node->DrainOnce();
  if (!sum.ok()) {
    auto left = node->outbox().Size();
    os << "reports sent:    0 of " << queued.second << " acknowledged in full (see the sent log)\n"
       << "queued:          " << (left.ok() ? left->second : queued.second)
       << " report(s) stay in the outbox; the next submit or `agency-node serve` sends them\n";
    for (const auto& p : problems) os << "  " << p << "\n";
    return sum.status();
  }
  os << "reports sent:    " << sum->reports_sent << " in " << sum->batches_sent << " batch"
     << (sum->batches_sent == 1 ? "" : "es") << "\n"
     << "accepted:        " << sum->accepted << "\n"
     << "duplicates:      " << sum->duplicates << " (already stored: not counted twice)\n";
  if (sum->rekeyed > 0) {
    os << "new key epoch:   " << sum->rekeyed
       << " report(s) already stored under an older key epoch now carry this epoch's tokens "
          "(counted once)\n";
  }
  os << "corrected:       " << sum->corrected
     << " report(s) sent again with changed content: the aggregator holds the new version\n";
  os << "refused:         " << sum->reports_refused << " report(s), " << sum->batches_refused
     << " batch(es)";
  if (sum->batches_partial > 0) {
    os << "; " << sum->batches_partial << " batch(es) stored except the refused reports";
  }
  os << "\n";
  if (sum->batches_held > 0) {
    os << "held:            " << sum->batches_held
       << " batch(es) stay in the outbox (refused for a reason outside their content); "
          "`agency-node resend` queues them again\n";
  }
  for (const auto& p : problems) os << "  " << p << "\n";
  if (sum->batches_refused > 0 || sum->reports_refused > 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        sum->batches_refused, " of ", sum->batches_sent, " batch(es) and ", sum->reports_refused,
        " report(s) were refused by the aggregator at ", config.aggregator_address()));
  }
  return whole;
}

absl::Status RetractCommand(const std::string& config_path,
                            const std::vector<std::string>& record_ids, std::ostream& os) {
  process::DisableCoreDumps();
  if (record_ids.empty()) return absl::InvalidArgumentError("no --record-id given");
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  ASSIGN_OR_RETURN(auto store, StateStore::Open(config.state_dir()));
  ASSIGN_OR_RETURN(auto outbox, Outbox::Open(config.state_dir()));
  ASSIGN_OR_RETURN(std::vector<std::string> in_outbox, outbox->QueuedReportIds());
  const std::set<std::string> queued(in_outbox.begin(), in_outbox.end());
  std::vector<std::string> report_ids;
  std::map<std::string, std::string> record_of;
  const int64_t now = time(nullptr);
  for (const auto& rec : record_ids) {
    auto rep = store->FindReportId(rec);
    if (absl::IsNotFound(rep.status())) {
      return absl::NotFoundError(absl::StrCat("record ", rec, " was never sent by this node"));
    }
    if (!rep.ok()) return rep.status();
    if (queued.count(*rep)) {
      // Its batch has not left the outbox: retracting now would find nothing and the batch
      // would be counted later. The retraction is sent right after the batch is delivered.
      RETURN_IF_ERROR(store->RecordRetraction(*rep, "queued", now));
      os << "queued: record " << rec << " is still in the outbox; it is retracted right after "
         << "its batch is delivered\n";
      continue;
    }
    report_ids.push_back(*rep);
    record_of[*rep] = rec;
  }
  if (report_ids.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto client, IntakeClient::Connect(config));
  ASSIGN_OR_RETURN(v1::RetractResponse resp, client->Retract(report_ids));
  std::set<std::string> not_found(resp.not_found().begin(), resp.not_found().end());
  for (const auto& rep : report_ids) {
    RETURN_IF_ERROR(store->RecordRetraction(rep, not_found.count(rep) ? "not_found" : "retracted", now));
  }
  os << "retracted: " << resp.retracted() << "\n";
  for (const auto& rep : resp.not_found()) {
    os << "  not found at the aggregator: record " << record_of[rep] << " (report " << rep << ")\n";
  }
  return absl::OkStatus();
}

absl::Status SentCommand(const std::string& config_path, const std::string& format,
                         std::ostream& os) {
  if (format != "table" && format != "csv" && format != "json") {
    return absl::InvalidArgumentError("--format must be table, csv or json");
  }
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  ASSIGN_OR_RETURN(auto store, StateStore::Open(config.state_dir()));
  ASSIGN_OR_RETURN(std::vector<SentBatch> batches, store->ListSent());
  if (format == "csv") {
    os << "batch_id,digest,reports,created,sent,ack,accepted,duplicates,refused_reports,"
          "acknowledged,message,corrected,rekeyed\n";
    for (const auto& b : batches) {
      os << b.batch_id << "," << b.digest_hex << "," << b.report_count << ","
         << Time(b.created_unix) << "," << Time(b.sent_unix) << "," << AckCode(b) << ","
         << b.accepted << "," << b.duplicates << "," << b.refused_reports << ","
         << Time(b.ack_unix) << "," << CsvQuote(b.ack_message) << "," << b.corrected << ","
         << b.rekeyed << "\n";
    }
  } else if (format == "json") {
    os << "[";
    for (size_t i = 0; i < batches.size(); ++i) {
      const auto& b = batches[i];
      ASSIGN_OR_RETURN(std::vector<SentReport> reports, store->ListReports(b.batch_id));
      os << (i ? ",\n " : "\n ") << "{\"batch_id\":\"" << b.batch_id << "\",\"digest\":\""
         << b.digest_hex << "\",\"reports\":" << b.report_count << ",\"created\":\""
         << Time(b.created_unix) << "\",\"sent\":\"" << Time(b.sent_unix) << "\",\"ack\":\""
         << AckCode(b) << "\",\"accepted\":" << b.accepted << ",\"duplicates\":" << b.duplicates
         << ",\"refused_reports\":" << b.refused_reports << ",\"acknowledged\":\""
         << Time(b.ack_unix) << "\",\"message\":\"" << JsonEscape(b.ack_message)
         << "\",\"corrected\":" << b.corrected << ",\"rekeyed\":" << b.rekeyed
         << ",\"report_list\":[";
      for (size_t k = 0; k < reports.size(); ++k) {
        const SentReport& r = reports[k];
        os << (k ? "," : "") << "{\"report_id\":\"" << r.report_id << "\",\"categories\":\""
           << JsonEscape(r.categories) << "\",\"tokens\":" << r.token_count;
        if (r.error_code) {
          os << ",\"refused\":{\"code\":\"" << CodeName(*r.error_code) << "\",\"field\":\""
             << JsonEscape(r.error_field) << "\",\"reason\":\"" << JsonEscape(r.error_message)
             << "\",\"record_id\":\"" << JsonEscape(RecordIdOf(*store, r.report_id)) << "\"}";
        }
        os << "}";
      }
      os << "]}";
    }
    os << (batches.empty() ? "]\n" : "\n]\n");
  } else {
    os << absl::StrFormat("%-32s  %-16s  %7s  %-20s  %-18s  %8s  %10s  %7s  %9s  %7s\n", "batch",
                          "digest", "reports", "sent", "ack", "accepted", "duplicates", "refused",
                          "corrected", "rekeyed");
    for (const auto& b : batches) {
      os << absl::StrFormat("%-32s  %-16s  %7d  %-20s  %-18s  %8d  %10d  %7d  %9d  %7d\n",
                            b.batch_id, b.digest_hex.substr(0, 16), b.report_count,
                            Time(b.sent_unix), AckCode(b), b.accepted, b.duplicates,
                            b.refused_reports, b.corrected, b.rekeyed);
      if (b.refused_reports > 0) RETURN_IF_ERROR(PrintRefusedReports(*store, b.batch_id, os));
    }
    os << batches.size() << " batch(es) in " << store->path() << "\n";
    ASSIGN_OR_RETURN(auto outbox, Outbox::Open(config.state_dir()));
    ASSIGN_OR_RETURN(auto queued, outbox->Size());
    if (queued.first > 0) {
      os << "queued: " << queued.first << " batch(es), " << queued.second
         << " report(s) not yet acknowledged; `agency-node serve` or the next submit sends them\n";
    }
    ASSIGN_OR_RETURN(std::vector<Outbox::HeldBatch> held, outbox->Held());
    for (const auto& h : held) {
      os << "held: batch " << h.batch_id << " (" << h.reports << " report(s)) refused: "
         << h.reason << "\n";
    }
    if (!held.empty()) {
      os << held.size() << " batch(es) held in the outbox; fix the cause, then `agency-node "
         << "resend --config " << config_path << "` queues them again\n";
    }
  }
  return absl::OkStatus();
}

absl::Status ResendCommand(const std::string& config_path, std::ostream& os) {
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  ASSIGN_OR_RETURN(auto store, StateStore::Open(config.state_dir()));  // makes the folder
  ASSIGN_OR_RETURN(auto outbox, Outbox::Open(config.state_dir()));
  ASSIGN_OR_RETURN(int64_t released, outbox->Release());
  os << "queued again: " << released << " held batch(es); `agency-node serve` or the next "
     << "submit sends them\n";
  return absl::OkStatus();
}

}  // namespace samenzicht::agency_node
