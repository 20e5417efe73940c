#include "aggregator/commands.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <optional>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/backup.h"
#include "aggregator/admin/retention.h"
#include "aggregator/admin/rotation.h"
#include "aggregator/audit_store.h"
#include "aggregator/dashboard/dashboard.h"
#include "aggregator/exact_totals.h"
#include "aggregator/present/insight_format.h"
#include "aggregator/linkage/offline_link.h"
#include "aggregator/present/report.h"
#include "aggregator/report_query.h"
#include "aggregator/server/server.h"
#include "aggregator/present/totals_format.h"
#include "audit/aggregator_events.h"
#include "audit/chain.h"
#include "common/files.h"
#include "common/month.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/signature.h"
#include "model/config.h"
#include "model/vocabulary.h"
#include "rpc/tls.h"
#include "samenzicht/v1/admin.grpc.pb.h"
#include "samenzicht/v1/query.grpc.pb.h"

#ifndef SAMENZICHT_DEFAULT_PROFILE
#define SAMENZICHT_DEFAULT_PROFILE "deploy/config/profile.textproto"
#endif

namespace samenzicht::aggregator {
namespace {

// Where deploy/install.sh puts the deployment's profile.
constexpr char kInstalledProfile[] = "/etc/samenzicht/profile.textproto";

// The request of --by, --from and --to (`totals` and `exact-totals`).
absl::StatusOr<v1::TotalsRequest> TotalsRequestFromFlags(const cli::Args& args) {
  v1::TotalsRequest request;
  for (absl::string_view name : absl::StrSplit(args.Get("by"), ',', absl::SkipWhitespace())) {
    ASSIGN_OR_RETURN(v1::Dimension d, model::ParseDimension(std::string(name)));
    request.add_by(d);
  }
  ASSIGN_OR_RETURN(uint32_t from, ParseMonthFlag("from", args.Get("from")));
  ASSIGN_OR_RETURN(uint32_t to, ParseMonthFlag("to", args.Get("to")));
  request.set_from_month(from);
  request.set_to_month(to);
  return request;
}

// The month of --now YYYY-MM, else the current month.
absl::StatusOr<uint32_t> NowFlag(const cli::Args& args) {
  if (!args.Has("now")) return CurrentMonth();
  return ParseMonthFlag("now", args.Get("now"));
}

// A channel to the aggregator named in a client configuration; says on `err` when the
// configuration names no revocation list.
absl::StatusOr<std::shared_ptr<grpc::Channel>> ConnectToAggregator(const v1::ClientConfig& config,
                                                                   std::ostream& err) {
  if (std::string w = model::MissingRevocationListWarning(config.tls()); !w.empty()) {
    err << "warning: " << w << "\n";
  }
  return rpc::Connect(config.aggregator_address(), config.tls(), config.aggregator_server_name());
}

absl::Status InsightView(const cli::Args& args, const std::string& view, std::ostream& out,
                         std::ostream& err) {
  if (view != "summary" && view != "agencies" && view != "overlap" && view != "trend") {
    return absl::InvalidArgumentError("--view must be totals, summary, agencies, overlap or trend");
  }
  if (args.Has("by")) return absl::InvalidArgumentError("--by goes with --view totals only");
  ASSIGN_OR_RETURN(v1::ClientConfig config, model::LoadClientConfig(args.Get("config")));
  v1::InsightRequest request;
  ASSIGN_OR_RETURN(uint32_t from, ParseMonthFlag("from", args.Get("from")));
  ASSIGN_OR_RETURN(uint32_t to, ParseMonthFlag("to", args.Get("to")));
  request.set_from_month(from);
  request.set_to_month(to);
  std::string per = args.Get("per", "month");
  if (per != "month" && per != "quarter")
    return absl::InvalidArgumentError("--per must be month or quarter");
  request.set_granularity(per == "quarter" ? v1::TREND_GRANULARITY_QUARTER
                                           : v1::TREND_GRANULARITY_MONTH);
  request.set_include_estimate(args.Has("estimate"));
  ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> channel,
      ConnectToAggregator(config, err));
  auto stub = v1::Query::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  v1::InsightResponse response;
  grpc::Status st = stub->Insight(&ctx, request, &response);
  if (!st.ok()) {
    absl::Status s = rpc::FromGrpcStatus(st);
    return absl::Status(
        s.code(), absl::StrCat("insight from ", config.aggregator_address(), ": ", s.message()));
  }
  ASSIGN_OR_RETURN(std::string text, FormatInsight(response, view, args.Get("format", "table")));
  out << text;
  return absl::OkStatus();
}

}  // namespace

absl::Status ServeCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  // Block the stop signals before gRPC starts its threads, then wait for one here.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(config));
  std::unique_ptr<Dashboard> dashboard;
  if (!config.dashboard_listen_address().empty()) {
    ASSIGN_OR_RETURN(dashboard, Dashboard::Start(config.dashboard_listen_address(), config.tls(),
                                                 server->query()));
    if (args.Has("dashboard-port-file")) {
      RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("dashboard-port-file"),
                                             absl::StrCat(dashboard->port(), "\n"), 0644));
    }
  }
  if (args.Has("port-file")) {
    RETURN_IF_ERROR(
        files::WriteFileAtomic(args.Get("port-file"), absl::StrCat(server->port(), "\n"), 0644));
  }
  spdlog::info("state lives in {} (database aggregator.db); stop with Ctrl-C or SIGTERM",
               std::filesystem::absolute(config.data_dir()).string());
  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("received {}; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  if (dashboard) dashboard->Stop();
  server->Shutdown();
  server->Wait();
  spdlog::info("stopped");
  return absl::OkStatus();
}

absl::Status StoreKeygenCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();
  RETURN_IF_ERROR(crypto::GenerateKeyFile(args.Get("out"), crypto::KeyKind::kStore).status());
  err << "wrote store key " << args.Get("out")
      << " (mode 0600); keep it outside data_dir and out of database backups\n";
  return absl::OkStatus();
}

absl::Status LinkCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  // The profile decides how reports are linked: --profile, else $SAMENZICHT_PROFILE, else
  // the installed one (where deploy/install.sh puts it), else, in a build tree on a host
  // without it, the source tree's profile this binary was built with.
  std::string profile_path = args.Get("profile");
  if (profile_path.empty()) {
    const char* env = std::getenv("SAMENZICHT_PROFILE");
    std::error_code ec;
    profile_path = env != nullptr && *env != '\0'                ? env
                   : std::filesystem::exists(kInstalledProfile, ec) ? kInstalledProfile
                                                                    : SAMENZICHT_DEFAULT_PROFILE;
  }
  ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(profile_path));
  std::ostringstream csv, explain;
  ASSIGN_OR_RETURN(LinkSummary s, LinkJsonlFiles(args.positional, profile, &csv, &err,
                                                 args.Has("explain") ? &explain : nullptr));
  RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("out"), csv.str(), 0600));
  if (args.Has("explain"))
    RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("explain"), explain.str(), 0600));
  err << "linked " << FormatSummary(s) << "; wrote " << args.Get("out") << "\n";
  if (args.Has("explain") && !s.model.empty()) err << "fitted model: " << s.model;
  return absl::OkStatus();
}

absl::Status TotalsCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  std::string view = args.Get("view", "totals");
  if (view != "totals") return InsightView(args, view, out, err);
  ASSIGN_OR_RETURN(v1::ClientConfig config, model::LoadClientConfig(args.Get("config")));
  ASSIGN_OR_RETURN(v1::TotalsRequest request, TotalsRequestFromFlags(args));
  std::string format = args.Get("format", "table");
  if (format != "table" && format != "csv" && format != "json") {
    return absl::InvalidArgumentError("--format must be table, csv or json");
  }
  ASSIGN_OR_RETURN(
      std::shared_ptr<grpc::Channel> channel,
      ConnectToAggregator(config, err));
  auto stub = v1::Query::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::TotalsResponse response;
  grpc::Status st = stub->Totals(&ctx, request, &response);
  if (!st.ok()) {
    absl::Status s = rpc::FromGrpcStatus(st);
    return absl::Status(
        s.code(), absl::StrCat("totals from ", config.aggregator_address(), ": ", s.message()));
  }
  ASSIGN_OR_RETURN(std::string text, FormatTotals(response, format));
  out << text;
  return absl::OkStatus();
}

// `aggregator exact-totals`: the unpublished exact counts, read in-process from the store
// (exact_totals.h): the aggregator's configuration and store key, on the aggregator host.
absl::Status ExactTotalsCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(v1::TotalsRequest request, TotalsRequestFromFlags(args));
  ASSIGN_OR_RETURN(v1::TotalsResponse response, ExactTotals(config, request));
  ASSIGN_OR_RETURN(std::string text, FormatTotals(response, args.Get("format", "table")));
  err << "exact, unpublished counts of every stored report (no disclosure control): "
         "for checking ingestion only, do not publish\n";
  out << text;
  return absl::OkStatus();
}

absl::Status AuditKeygenCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string pub,
                   crypto::GenerateKeyFile(args.Get("out"), crypto::KeyKind::kSigning));
  err << "wrote audit signing key " << args.Get("out")
      << " (mode 0600); set audit_key_file to it, keep it outside data_dir, and give the "
         "public key below to the privacy officer:\n";
  out << pub << "\n";
  return absl::OkStatus();
}

absl::Status AuditVerifyCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  VerifyOptions o;
  o.checkpoint_files = args.GetAll("checkpoint");
  o.public_key_b64 = args.Get("public-key");
  absl::StatusOr<VerifyOutcome> v = VerifyTrail(args.Get("data-dir"), o);
  if (!v.ok()) {
    return absl::Status(v.status().code(),
                        absl::StrCat("audit trail NOT verified: ", v.status().message()));
  }
  for (const std::string& w : v->warnings) err << "warning: " << w << "\n";
  out << (v->key_service ? "key service audit trail verified: " : "audit trail verified: ") << v->entries << " entries, head " << v->head_hash_hex
      << "\n  signed by " << v->trusted_key_b64 << " (trusted from " << v->trust_source
      << ")\n  checkpoints checked: " << v->checkpoints_checked << "\n";
  return absl::OkStatus();
}

absl::Status AuditReportCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();  // --view anomalies loads the store key and opens every token
  ReportOptions o;
  ASSIGN_OR_RETURN(o.from_month, ParseMonthFlag("from", args.Get("from")));
  ASSIGN_OR_RETURN(o.to_month, ParseMonthFlag("to", args.Get("to")));
  o.format = args.Get("format", "table");
  ASSIGN_OR_RETURN(Trail trail, ReadTrail(args.Get("data-dir")));
  const std::string view = args.Get("view", "summary");
  if (view != "summary" && view != "anomalies") {
    return absl::InvalidArgumentError("--view must be summary or anomalies");
  }
  if (view == "anomalies") {
    if (args.Has("keyholder-data-dir")) {
      return absl::InvalidArgumentError("--keyholder-data-dir is for the summary view");
    }
    // The stored tokens are encrypted at rest: the token shares need the store key.
    if (!args.Has("store-key")) {
      return absl::InvalidArgumentError(
          "--view anomalies needs --store-key (the aggregator's store_key_file): the stored "
          "tokens are encrypted with it");
    }
    ASSIGN_OR_RETURN(crypto::LoadedKey store_key,
                     crypto::LoadKeyFile(args.Get("store-key"), crypto::KeyKind::kStore));
    ASSIGN_OR_RETURN(auto shares, ReadTokenShares(args.Get("data-dir"), store_key.bytes));
    ASSIGN_OR_RETURN(std::string text, AnomalyReport(trail.entries, shares, o));
    out << text;
    return absl::OkStatus();
  }
  // The key service's trail, verified with the key its operator gave the officer, joined
  // on the agencies' names.
  std::vector<audit::KeyholderCount> key_service;
  if (args.Has("keyholder-data-dir")) {
    if (!args.Has("keyholder-public-key")) {
      return absl::InvalidArgumentError(
          "--keyholder-data-dir needs --keyholder-public-key (the key service's trail key, "
          "as its operator gave it to you)");
    }
    VerifyOptions vo;
    vo.public_key_b64 = args.Get("keyholder-public-key");
    absl::StatusOr<VerifyOutcome> v = VerifyTrail(args.Get("keyholder-data-dir"), vo);
    if (!v.ok()) {
      return absl::Status(v.status().code(),
                          absl::StrCat("key service audit trail NOT verified: ", v.status().message()));
    }
    if (!v->key_service) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--keyholder-data-dir ", args.Get("keyholder-data-dir"), " holds no key service's trail (keyholder.db)"));
    }
    err << "key service audit trail verified: " << v->entries << " entries, signed by " << v->trusted_key_b64 << "\n";
    ASSIGN_OR_RETURN(audit::StoredTrail ks, audit::ReadKeyholderTrail(args.Get("keyholder-data-dir")));
    key_service = audit::KeyholderCounts(ks.entries);
    o.key_service = &key_service;
  } else if (args.Has("keyholder-public-key")) {
    return absl::InvalidArgumentError("--keyholder-public-key needs --keyholder-data-dir");
  }
  ASSIGN_OR_RETURN(std::string text, AuditReport(trail.entries, o));
  out << text;
  return absl::OkStatus();
}

absl::Status PurgeCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(uint32_t now, NowFlag(args));
  ASSIGN_OR_RETURN(PurgeResult r, PurgeOffline(config, now));
  out << "purged " << r.reports << " report(s) and " << r.tokens
      << " token(s) of signal months before " << Month(r.cutoff_month).Text() << "\n";
  return absl::OkStatus();
}

// Backup, restore and key rotation.
absl::Status BackupCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();  // the audit signing key (and the store key) pass through it
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  absl::StatusOr<BackupInfo> made = BackupDatabase(config.data_dir(), args.Get("out"));
  // Recorded in the live trail, made or not (the server may be running: store.h).
  BackupEvent d{.request = OperatorRequest("backup", made.status()), .file = args.Get("out")};
  if (made.ok()) {
    d.reports = made->reports;
    d.audit_entries = made->audit_entries;
  }
  absl::Status recorded = RecordOperatorEvent(config, kEventBackup, d.ToJson());
  RETURN_IF_ERROR(made.status());
  if (!recorded.ok()) {
    return absl::Status(recorded.code(), absl::StrCat("the backup ", made->path,
                                                      " was written but not recorded in the "
                                                      "audit trail: ",
                                                      recorded.message()));
  }
  const BackupInfo& b = *made;
  out << "wrote backup " << b.path << " (mode 0600): schema " << b.schema_version << ", "
      << b.batches << " batch(es), " << b.reports << " report(s), " << b.audit_entries
      << " audit entries. It holds no store key; back up the audit checkpoints "
         "separately.\n";
  return absl::OkStatus();
}

absl::Status RestoreCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  const std::string backup = args.Get("backup");
  const std::string data_dir = args.Get("data-dir");
  // With --config, the restore (made or failed) is recorded in the trail of the
  // configuration's data folder when that holds a database before the restore: a failed
  // restore writes no database, so the trail it would have restored cannot hold it.
  std::optional<v1::AggregatorConfig> config;
  std::string not_recorded;  // why the restore is in no trail of a configuration
  if (args.Has("config")) {
    process::DisableCoreDumps();  // the audit signing key and the store key pass through it
    ASSIGN_OR_RETURN(config, model::LoadAggregatorConfig(args.Get("config")));
    std::error_code ec;
    if (!std::filesystem::exists(
            std::filesystem::path(config->data_dir()) / kDatabaseFileName, ec)) {
      not_recorded = absl::StrCat("the data folder ", config->data_dir(), " of --config ",
                                  args.Get("config"), " holds no database to record it in");
      config.reset();
    }
  } else {
    not_recorded = "no --config names a data folder whose trail could record it";
  }
  absl::StatusOr<BackupInfo> restored = RestoreDatabase(backup, data_dir);
  if (config.has_value()) {
    RestoreEvent d{.request = OperatorRequest("restore", restored.status()),
                   .backup_file = backup};
    d.data_dir = data_dir;
    if (restored.ok()) {
      d.reports = restored->reports;
      d.audit_entries = restored->audit_entries;
    }
    absl::Status recorded = RecordOperatorEvent(*config, kEventRestore, d.ToJson());
    if (!recorded.ok()) not_recorded = std::string(recorded.message());
  }
  if (!restored.ok()) {
    if (!not_recorded.empty()) {
      err << "note: this failed restore is in no audit trail (" << not_recorded
          << "); note it in the incident log\n";
    }
    return restored.status();
  }
  if (config.has_value() && !not_recorded.empty()) {
    err << "warning: the restore is not recorded in the trail of " << config->data_dir() << ": "
        << not_recorded << "\n";
  }
  const BackupInfo& b = *restored;
  out << "restored " << b.path << ": schema " << b.schema_version << ", " << b.batches
      << " batch(es), " << b.reports << " report(s), " << b.audit_entries
      << " audit entries; verify with `aggregator audit verify --data-dir " << args.Get("data-dir")
      << "`\n";
  return absl::OkStatus();
}

absl::Status KeyStatusCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(KeyStatus s, ReadKeyStatus(config));
  out << FormatKeyStatus(s);
  return absl::OkStatus();
}

absl::Status KeyRetireCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(uint32_t now, NowFlag(args));
  ASSIGN_OR_RETURN(RetireResult r, RetireOldEpochsOffline(config, now));
  out << "retired key epochs below " << r.before_epoch << ": deleted " << r.tokens
      << " token(s) of " << r.reports
      << " report(s); they stay counted as unlinkable "
         "signals\n";
  return absl::OkStatus();
}

// `aggregator report`: with an aggregator configuration the store is read in-process
// through the query layer, audited under the local operator's name; with a client configuration the running aggregator is asked
// over gRPC with the analyst certificate.
absl::Status ReportCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  process::DisableCoreDumps();  // it may load the store key
  ASSIGN_OR_RETURN(auto period, ParsePeriod(args.Get("period")));
  ReportInput in;
  ASSIGN_OR_RETURN(in.language, presentation::ParseLanguage(args.Get("lang", "nl")));
  in.period = args.Get("period");
  in.generated = absl::FormatTime("%Y-%m-%d", absl::Now(), absl::LocalTimeZone());
  v1::InsightRequest ireq;
  ireq.set_from_month(period.first);
  ireq.set_to_month(period.second);
  ireq.set_granularity(args.Get("per", "month") == "quarter" ? v1::TREND_GRANULARITY_QUARTER
                                                             : v1::TREND_GRANULARITY_MONTH);
  ireq.set_include_estimate(!args.Has("no-estimate"));
  absl::StatusOr<v1::AggregatorConfig> agg = model::LoadAggregatorConfig(args.Get("config"));
  if (agg.ok()) {
    // In-process, audited, under the local operator's name (report_query.h).
    ASSIGN_OR_RETURN(ReportInput queried, QueryReportInProcess(*agg, ireq));
    in.insight = std::move(queried.insight);
    in.tables = std::move(queried.tables);
  } else {
    ASSIGN_OR_RETURN(v1::ClientConfig config, model::LoadClientConfig(args.Get("config")));
    ASSIGN_OR_RETURN(
        std::shared_ptr<grpc::Channel> channel,
        ConnectToAggregator(config, err));
    auto stub = v1::Query::NewStub(channel);
    {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(600));
      grpc::Status st = stub->Insight(&ctx, ireq, &in.insight);
      if (!st.ok()) return rpc::FromGrpcStatus(st);
    }
    for (const auto& req : ReportTableRequests(period.first, period.second)) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      v1::TotalsResponse t;
      grpc::Status st = stub->Totals(&ctx, req, &t);
      if (!st.ok()) return rpc::FromGrpcStatus(st);
      in.tables.push_back(std::move(t));
    }
  }
  RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("out"), RenderReportHtml(in), 0644));
  err << "wrote " << args.Get("out") << "\n";
  return absl::OkStatus();
}

// ---- Clients of the administrator's and the privacy officer's services ----

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(60);

struct ServiceClient {
  v1::ClientConfig config;
  std::shared_ptr<grpc::Channel> channel;
};

// The channel of --config CLIENT.textproto, with its certificate.
absl::StatusOr<ServiceClient> ConnectClient(const cli::Args& args, std::ostream& err) {
  ServiceClient c;
  ASSIGN_OR_RETURN(c.config, model::LoadClientConfig(args.Get("config")));
  ASSIGN_OR_RETURN(c.channel, ConnectToAggregator(c.config, err));
  return c;
}

std::unique_ptr<grpc::ClientContext> CallContext() {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  return ctx;
}

// A failed call, with its code: "<what> from <address>: PERMISSION_DENIED: <reason>".
absl::Status CallError(const grpc::Status& st, const std::string& what, const ServiceClient& c) {
  absl::Status s = rpc::FromGrpcStatus(st);
  return absl::Status(s.code(),
                      absl::StrCat(what, " from ", c.config.aggregator_address(), ": ",
                                   absl::StatusCodeToString(s.code()), ": ", s.message()));
}

// --`name` as a whole number in [min, max]; `fallback` when absent.
absl::StatusOr<uint64_t> NumberFlag(const cli::Args& args, const std::string& name, uint64_t min,
                                    uint64_t max, uint64_t fallback) {
  if (!args.Has(name)) return fallback;
  uint64_t v = 0;
  if (!absl::SimpleAtoi(args.Get(name), &v) || v < min || v > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a whole number from ", min, " to ", max));
  }
  return v;
}

absl::Status PrintSettings(const v1::Settings& s, const std::string& format, std::ostream& out) {
  if (format == "json") {
    out << JsonObject()
               .Add("key_epoch", s.key_epoch())
               .Add("retention_months", s.retention_months())
               .str()
        << "\n";
    return absl::OkStatus();
  }
  if (format != "table") return absl::InvalidArgumentError("--format must be table or json");
  out << "key_epoch:         " << s.key_epoch() << "\n"
      << "retention_months:  " << s.retention_months()
      << (s.retention_months() == 0 ? " (no limit)" : "") << "\n";
  return absl::OkStatus();
}

std::string TimeText(int64_t time_ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(time_ms), absl::UTCTimeZone());
}

}  // namespace

absl::Status AdminSettingsCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  const std::string format = args.Get("format", "table");
  if (format != "table" && format != "json") {
    return absl::InvalidArgumentError("--format must be table or json");
  }
  ASSIGN_OR_RETURN(ServiceClient c, ConnectClient(args, err));
  v1::Settings settings;
  grpc::Status st = v1::Admin::NewStub(c.channel)->GetSettings(CallContext().get(), {}, &settings);
  if (!st.ok()) return CallError(st, "settings", c);
  return PrintSettings(settings, format, out);
}

absl::Status AdminSetRetentionCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  if (!args.Has("months")) return absl::InvalidArgumentError("--months is required");
  ASSIGN_OR_RETURN(uint64_t months, NumberFlag(args, "months", 0, 1200, 0));
  ASSIGN_OR_RETURN(ServiceClient c, ConnectClient(args, err));
  v1::SetRetentionRequest request;
  request.set_retention_months(static_cast<uint32_t>(months));
  v1::Settings settings;
  grpc::Status st =
      v1::Admin::NewStub(c.channel)->SetRetention(CallContext().get(), request, &settings);
  if (!st.ok()) return CallError(st, "set-retention", c);
  err << "retention set to " << settings.retention_months() << " month(s)"
      << (settings.retention_months() == 0 ? " (no limit)" : "")
      << " and recorded in the audit trail; the aggregator's hourly purge deletes what expired\n";
  return PrintSettings(settings, "table", out);
}

absl::Status AdminSetKeyEpochCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  if (!args.Has("epoch")) return absl::InvalidArgumentError("--epoch is required");
  ASSIGN_OR_RETURN(uint64_t epoch,
                   NumberFlag(args, "epoch", 1, std::numeric_limits<uint32_t>::max(), 1));
  ASSIGN_OR_RETURN(ServiceClient c, ConnectClient(args, err));
  v1::SetKeyEpochRequest request;
  request.set_key_epoch(static_cast<uint32_t>(epoch));
  v1::Settings settings;
  grpc::Status st =
      v1::Admin::NewStub(c.channel)->SetKeyEpoch(CallContext().get(), request, &settings);
  if (!st.ok()) return CallError(st, "set-key-epoch", c);
  err << "key epoch set to " << settings.key_epoch()
      << " and recorded in the audit trail; from now on batches must be made with it\n";
  return PrintSettings(settings, "table", out);
}

absl::Status AuditCheckpointCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  const std::string file = args.Get("out");
  if (!file.empty() && std::filesystem::exists(std::filesystem::symlink_status(file))) {
    return absl::AlreadyExistsError(absl::StrCat(file, " exists; name a new file"));
  }
  ASSIGN_OR_RETURN(ServiceClient c, ConnectClient(args, err));
  v1::GetCheckpointResponse response;
  grpc::Status st =
      v1::Audit::NewStub(c.channel)->GetCheckpoint(CallContext().get(), {}, &response);
  if (!st.ok()) return CallError(st, "checkpoint", c);
  if (!file.empty()) {
    RETURN_IF_ERROR(files::WriteFileAtomic(file, response.checkpoint() + "\n", 0600));
    err << "wrote " << file << " (mode 0600); keep it outside the aggregator, for "
        << "`aggregator audit verify --checkpoint " << file << "`\n";
  }
  out << response.checkpoint() << "\n";
  return absl::OkStatus();
}

absl::Status AuditTrailCommand(const cli::Args& args, std::ostream& out, std::ostream& err) {
  const std::string format = args.Get("format", "table");
  if (format != "table" && format != "jsonl") {
    return absl::InvalidArgumentError("--format must be table or jsonl");
  }
  constexpr uint64_t kMax = std::numeric_limits<int64_t>::max();
  ASSIGN_OR_RETURN(uint64_t from, NumberFlag(args, "from-seq", 1, kMax, 1));
  ASSIGN_OR_RETURN(uint64_t limit, NumberFlag(args, "limit", 1, kMax, 0));  // 0: all
  ASSIGN_OR_RETURN(ServiceClient c, ConnectClient(args, err));
  auto stub = v1::Audit::NewStub(c.channel);
  if (format == "table") {
    out << absl::StrFormat("%6s  %-20s  %-24s  %-16s  %s\n", "seq", "time (UTC)", "event", "actor",
                           "details");
  }
  const bool whole = from == 1 && limit == 0;
  std::vector<audit::Entry> fetched;  // kept only to verify the whole trail
  uint64_t printed = 0, last_seq = 0;
  std::string public_key;
  while (limit == 0 || printed < limit) {
    v1::GetTrailRequest request;
    request.set_from_seq(from);
    request.set_limit(
        static_cast<uint32_t>(limit == 0 ? 1000 : std::min<uint64_t>(1000, limit - printed)));
    v1::GetTrailResponse response;
    grpc::Status st = stub->GetTrail(CallContext().get(), request, &response);
    if (!st.ok()) return CallError(st, "audit trail", c);
    last_seq = response.last_seq();
    public_key = response.public_key();
    if (response.entries().empty()) break;
    for (const v1::AuditEntry& e : response.entries()) {
      if (format == "table") {
        out << absl::StrFormat("%6d  %-20s  %-24s  %-16s  %s\n", e.seq(), TimeText(e.time_ms()),
                               e.event(), e.actor(), e.details_json());
      } else {
        out << JsonObject()
                   .Add("seq", e.seq())
                   .Add("time", TimeText(e.time_ms()))
                   .Add("time_ms", static_cast<int64_t>(e.time_ms()))
                   .Add("event", e.event())
                   .Add("actor", e.actor())
                   .AddRaw("details", e.details_json().empty() ? "{}" : e.details_json())
                   .Add("prev_hash", crypto::ToHex(e.prev_hash()))
                   .Add("hash", crypto::ToHex(e.hash()))
                   .Add("signature", crypto::ToHex(e.signature()))
                   .str()
            << "\n";
      }
      if (whole) {
        fetched.push_back(audit::Entry{e.seq(), e.time_ms(), e.event(), e.actor(), e.details_json(),
                                       e.prev_hash(), e.hash(), e.signature()});
      }
      ++printed;
      from = e.seq() + 1;
    }
    if (from > last_seq) break;
  }
  err << printed << " entr" << (printed == 1 ? "y" : "ies") << " shown; the trail's newest is "
      << last_seq << "; signed by " << crypto::Base64Encode(public_key) << "\n";
  if (whole && !fetched.empty()) {
    // The whole trail: its sequence, chain and signatures checked against the key the
    // aggregator names (or --public-key, the privacy officer's own copy).
    std::string key_b64 = args.Get("public-key", crypto::Base64Encode(public_key));
    if (args.Has("public-key") && key_b64 != crypto::Base64Encode(public_key)) {
      return absl::UnauthenticatedError(
          "the aggregator signs its trail with another key than --public-key");
    }
    ASSIGN_OR_RETURN(crypto::Verifier verifier, crypto::Verifier::FromBase64(key_b64));
    absl::StatusOr<audit::VerifyResult> v = audit::Verify(fetched, verifier, std::nullopt);
    if (!v.ok()) {
      return absl::Status(v.status().code(),
                          absl::StrCat("audit trail NOT verified: ", v.status().message()));
    }
    err << "chain and signatures verified for entries 1.." << fetched.back().seq
        << (args.Has("public-key") ? " with --public-key" : " with the key the aggregator names")
        << "\n";
  }
  return absl::OkStatus();
}
}  // namespace samenzicht::aggregator
