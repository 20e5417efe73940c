// `aggregator`: flags and wiring only; the logic lives in samenzicht_aggregator.
#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aggregator/audit_events.h"
#include "aggregator/audit_store.h"
#include "aggregator/backup.h"
#include "aggregator/rotation.h"
#include "aggregator/offline_link.h"
#include "aggregator/dashboard/dashboard.h"
#include "aggregator/exact_totals.h"
#include "aggregator/insight_format.h"
#include "aggregator/report.h"
#include "aggregator/retention.h"
#include "aggregator/server.h"
#include "aggregator/totals_format.h"
#include "common/version.h"
#include "common/cli.h"
#include "common/files.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"
#include "model/vocabulary.h"
#include "rpc/tls.h"
#include "samenzicht/v1/query.grpc.pb.h"
#ifdef SAMENZICHT_HAVE_ESTIMATE
#include "aggregator/estimate/estimate_command.h"
#endif

#ifndef SAMENZICHT_DEFAULT_PROFILE
#define SAMENZICHT_DEFAULT_PROFILE "deploy/config/profile.textproto"
#endif

namespace samenzicht::aggregator {
namespace {

int Run(const cli::Command& cmd, int argc, char** argv,
        const std::function<absl::Status(const cli::Args&)>& fn) {
  absl::StatusOr<cli::Args> args = cmd.Parse(argc, argv);
  if (!args.ok()) return cli::ExitWith(args.status());
  if (args->help) {
    std::cout << cmd.Usage();
    return 0;
  }
  return cli::ExitWith(fn(*args));
}

absl::Status Serve(const cli::Args& args) {
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
    RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("port-file"),
                                           absl::StrCat(server->port(), "\n"), 0644));
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

absl::Status StoreKeygen(const cli::Args& args) {
  process::DisableCoreDumps();
  RETURN_IF_ERROR(crypto::GenerateKeyFile(args.Get("out"), crypto::KeyKind::kStore).status());
  std::cerr << "wrote store key " << args.Get("out")
            << " (mode 0600); keep it outside data_dir and out of database backups\n";
  return absl::OkStatus();
}

absl::Status LinkCommand(const cli::Args& args) {
  // The profile decides how reports are linked: --profile, else $SAMENZICHT_PROFILE, else
  // the profile this binary was built with.
  std::string profile_path = args.Get("profile");
  if (profile_path.empty()) {
    const char* env = std::getenv("SAMENZICHT_PROFILE");
    profile_path = env != nullptr && *env != '\0' ? env : SAMENZICHT_DEFAULT_PROFILE;
  }
  ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(profile_path));
  std::ostringstream csv, explain;
  ASSIGN_OR_RETURN(LinkSummary s, LinkJsonlFiles(args.positional, profile, &csv, &std::cerr,
                                                 args.Has("explain") ? &explain : nullptr));
  RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("out"), csv.str(), 0600));
  if (args.Has("explain")) RETURN_IF_ERROR(files::WriteFileAtomic(args.Get("explain"), explain.str(), 0600));
  std::cerr << "linked " << FormatSummary(s) << "; wrote " << args.Get("out") << "\n";
  if (args.Has("explain") && !s.model.empty()) std::cerr << "fitted model: " << s.model;
  return absl::OkStatus();
}

absl::Status InsightView(const cli::Args& args, const std::string& view);

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

absl::Status Totals(const cli::Args& args) {
  std::string view = args.Get("view", "totals");
  if (view != "totals") return InsightView(args, view);
  ASSIGN_OR_RETURN(v1::ClientConfig config, model::LoadClientConfig(args.Get("config")));
  ASSIGN_OR_RETURN(v1::TotalsRequest request, TotalsRequestFromFlags(args));
  std::string format = args.Get("format", "table");
  if (format != "table" && format != "csv" && format != "json") {
    return absl::InvalidArgumentError("--format must be table, csv or json");
  }
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   rpc::Connect(config.aggregator_address(), config.tls(),
                                config.aggregator_server_name()));
  auto stub = v1::Query::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::TotalsResponse response;
  grpc::Status st = stub->Totals(&ctx, request, &response);
  if (!st.ok()) {
    absl::Status s = rpc::FromGrpcStatus(st);
    return absl::Status(s.code(), absl::StrCat("totals from ", config.aggregator_address(), ": ",
                                               s.message()));
  }
  ASSIGN_OR_RETURN(std::string text, FormatTotals(response, format));
  std::cout << text;
  return absl::OkStatus();
}

// `aggregator exact-totals`: the unpublished exact counts, read in-process from the store
// (exact_totals.h): the aggregator's configuration and store key, on the aggregator host.
absl::Status ExactTotalsCommand(const cli::Args& args) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(v1::TotalsRequest request, TotalsRequestFromFlags(args));
  ASSIGN_OR_RETURN(v1::TotalsResponse response, ExactTotals(config, request));
  ASSIGN_OR_RETURN(std::string text, FormatTotals(response, args.Get("format", "table")));
  std::cerr << "exact, unpublished counts of every stored report (no disclosure control): "
               "for checking ingestion only, do not publish\n";
  std::cout << text;
  return absl::OkStatus();
}

absl::Status AuditKeygen(const cli::Args& args) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string pub,
                   crypto::GenerateKeyFile(args.Get("out"), crypto::KeyKind::kSigning));
  std::cerr << "wrote audit signing key " << args.Get("out")
            << " (mode 0600); set audit_key_file to it, keep it outside data_dir, and give the "
               "public key below to the privacy officer:\n";
  std::cout << pub << "\n";
  return absl::OkStatus();
}

absl::Status AuditVerify(const cli::Args& args) {
  VerifyOptions o;
  o.checkpoint_files = args.GetAll("checkpoint");
  o.public_key_b64 = args.Get("public-key");
  absl::StatusOr<VerifyOutcome> v = VerifyTrail(args.Get("data-dir"), o);
  if (!v.ok()) {
    return absl::Status(v.status().code(),
                        absl::StrCat("audit trail NOT verified: ", v.status().message()));
  }
  for (const std::string& w : v->warnings) std::cerr << "warning: " << w << "\n";
  std::cout << "audit trail verified: " << v->entries << " entries, head " << v->head_hash_hex
            << "\n  signed by " << v->trusted_key_b64 << " (trusted from " << v->trust_source
            << ")\n  checkpoints checked: " << v->checkpoints_checked << "\n";
  return absl::OkStatus();
}

absl::Status AuditReportCommand(const cli::Args& args) {
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
    ASSIGN_OR_RETURN(auto shares, ReadTokenShares(args.Get("data-dir")));
    ASSIGN_OR_RETURN(std::string text, AnomalyReport(trail.entries, shares, o));
    std::cout << text;
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string text, AuditReport(trail.entries, o));
  std::cout << text;
  return absl::OkStatus();
}

// The month of --now YYYY-MM, else the current month.
absl::StatusOr<uint32_t> NowFlag(const cli::Args& args) {
  if (!args.Has("now")) return CurrentMonth();
  return ParseMonthFlag("now", args.Get("now"));
}

absl::Status PurgeCommand(const cli::Args& args) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(uint32_t now, NowFlag(args));
  ASSIGN_OR_RETURN(PurgeResult r, PurgeOffline(config, now));
  std::cout << "purged " << r.reports << " report(s) and " << r.tokens
            << " token(s) of signal months before " << r.cutoff_month / 100 << "-"
            << (r.cutoff_month % 100 < 10 ? "0" : "") << r.cutoff_month % 100 << "\n";
  return absl::OkStatus();
}

// Backup, restore and key rotation (issue 9).
absl::Status BackupCommand(const cli::Args& args) {
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  absl::StatusOr<BackupInfo> made = BackupDatabase(config.data_dir(), args.Get("out"));
  // Recorded in the live trail, made or not (the server may be running: store.h).
  JsonObject d;
  d.Add("file", args.Get("out"));
  if (made.ok()) d.Add("reports", made->reports).Add("audit_entries", made->audit_entries);
  absl::Status recorded =
      RecordOperatorEvent(config, kEventBackup, "backup", made.status(), d.str());
  RETURN_IF_ERROR(made.status());
  if (!recorded.ok()) {
    return absl::Status(recorded.code(), absl::StrCat("the backup ", made->path,
                                                      " was written but not recorded in the "
                                                      "audit trail: ", recorded.message()));
  }
  const BackupInfo& b = *made;
  std::cout << "wrote backup " << b.path << " (mode 0600): schema " << b.schema_version << ", "
            << b.batches << " batch(es), " << b.reports << " report(s), " << b.audit_entries
            << " audit entries. It holds no store key; back up the audit checkpoints "
               "separately.\n";
  return absl::OkStatus();
}

absl::Status RestoreCommand(const cli::Args& args) {
  ASSIGN_OR_RETURN(BackupInfo b, RestoreDatabase(args.Get("backup"), args.Get("data-dir")));
  std::cout << "restored " << b.path << ": schema " << b.schema_version << ", " << b.batches
            << " batch(es), " << b.reports << " report(s), " << b.audit_entries
            << " audit entries; verify with `aggregator audit verify --data-dir "
            << args.Get("data-dir") << "`\n";
  return absl::OkStatus();
}

absl::Status KeyStatusCommand(const cli::Args& args) {
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(KeyStatus s, ReadKeyStatus(config));
  std::cout << FormatKeyStatus(s);
  return absl::OkStatus();
}

absl::Status KeyRetireCommand(const cli::Args& args) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::AggregatorConfig config, model::LoadAggregatorConfig(args.Get("config")));
  ASSIGN_OR_RETURN(uint32_t now, NowFlag(args));
  ASSIGN_OR_RETURN(RetireResult r, RetireOldEpochsOffline(config, now));
  std::cout << "retired key epochs below " << r.before_epoch << ": deleted " << r.tokens
            << " token(s) of " << r.reports << " report(s); they stay counted as unlinkable "
               "signals\n";
  return absl::OkStatus();
}

int AuditMain(int argc, char** argv) {
  const std::string sub = argc >= 2 ? argv[1] : "";
  if (sub == "verify") {
    cli::Command cmd("audit verify",
                     "Verify the aggregator's audit trail offline (database opened read-only): "
                     "sequence, hash chain and Ed25519 signature of every entry, and the kept "
                     "checkpoints. Names the first wrong entry; exits 1 when anything is wrong.");
    cmd.Flag("data-dir", "DIR", "the aggregator's data folder", true)
        .Flag("checkpoint", "FILE", "a checkpoint kept outside the system (repeatable)")
        .Flag("public-key", "BASE64", "the audit public key (from `aggregator audit-keygen`)");
    return Run(cmd, argc - 1, argv + 1, AuditVerify);
  }
  if (sub == "report") {
    cli::Command cmd("audit report",
                     "Summarise the audit trail per month and party: batches and reports "
                     "received, refused and retracted; queries per analyst; purges.");
    cmd.Flag("data-dir", "DIR", "the aggregator's data folder", true)
        .Flag("from", "YYYY-MM", "first month (inclusive)")
        .Flag("to", "YYYY-MM", "last month (inclusive)")
        .Flag("format", "table|csv|json", "output format (default table)")
        .Flag("view", "summary|anomalies",
              "summary (default), or per agency the figures a malicious agency would show: "
              "tokens per report beyond the profile, its busiest month against its history, "
              "the largest share it holds of one token");
    return Run(cmd, argc - 1, argv + 1, AuditReportCommand);
  }
  const bool help = sub == "--help" || sub == "-h";
  (help ? std::cout : std::cerr) << "usage: aggregator audit verify|report [flags]  (--help for each)\n";
  return help ? 0 : 2;
}

absl::Status InsightView(const cli::Args& args, const std::string& view) {
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
  if (per != "month" && per != "quarter") return absl::InvalidArgumentError("--per must be month or quarter");
  request.set_granularity(per == "quarter" ? v1::TREND_GRANULARITY_QUARTER
                                           : v1::TREND_GRANULARITY_MONTH);
  request.set_include_estimate(args.Has("estimate"));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   rpc::Connect(config.aggregator_address(), config.tls(),
                                config.aggregator_server_name()));
  auto stub = v1::Query::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(300));
  v1::InsightResponse response;
  grpc::Status st = stub->Insight(&ctx, request, &response);
  if (!st.ok()) {
    absl::Status s = rpc::FromGrpcStatus(st);
    return absl::Status(s.code(), absl::StrCat("insight from ", config.aggregator_address(), ": ",
                                               s.message()));
  }
  ASSIGN_OR_RETURN(std::string text, FormatInsight(response, view, args.Get("format", "table")));
  std::cout << text;
  return absl::OkStatus();
}

// `aggregator report`: with an aggregator configuration the store is read in-process (as
// the local analyst "report"); with a client configuration the running aggregator is asked
// over gRPC with the analyst certificate.
absl::Status Report(const cli::Args& args) {
  process::DisableCoreDumps();  // it may load the store key
  ASSIGN_OR_RETURN(auto period, ParsePeriod(args.Get("period")));
  ReportInput in;
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
    ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(agg->profile_file()));
    std::vector<std::string> rules;
    for (const auto& r : profile.rules()) rules.push_back(r.name());
    std::unique_ptr<Store> store;
    {
      ASSIGN_OR_RETURN(crypto::LoadedKey key,
                       crypto::LoadKeyFile(agg->store_key_file(), crypto::KeyKind::kStore));
      ASSIGN_OR_RETURN(store, Store::Open(agg->data_dir(), key.bytes, rules));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<Query> query, Query::New(*agg, profile, store.get()));
    rpc::Peer peer{"report", rpc::Role::kAnalyst};
    ASSIGN_OR_RETURN(in.insight, query->Insight(peer, ireq));
    for (const auto& req : ReportTableRequests(period.first, period.second)) {
      ASSIGN_OR_RETURN(v1::TotalsResponse t, query->Totals(peer, req));
      in.tables.push_back(std::move(t));
    }
  } else {
    ASSIGN_OR_RETURN(v1::ClientConfig config, model::LoadClientConfig(args.Get("config")));
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                     rpc::Connect(config.aggregator_address(), config.tls(),
                                  config.aggregator_server_name()));
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
  std::cerr << "wrote " << args.Get("out") << "\n";
  return absl::OkStatus();
}

constexpr char kUsage[] =
    "usage: aggregator COMMAND [flags]\n\n"
    "commands:\n"
    "  serve         run the aggregator (intake and query services, mutual TLS)\n"
    "  store-keygen  create the aggregator's store key\n"
    "  audit-keygen  create the key that signs the audit trail\n"
    "  audit         verify the audit trail, or report on it (offline)\n"
    "  purge         delete reports past the retention period (offline)\n"
    "  backup        consistent copy of the database while the aggregator runs\n"
    "  restore       write a backup into a new, empty data folder\n"
    "  key-status    reports per agency and key epoch (rotation progress)\n"
    "  key-retire    delete the tokens still at an old key epoch (offline)\n"
    "  link          offline linkage of pseudonymised reports (JSON lines)\n"
    "  totals        deduplicated totals from a running aggregator (protected)\n"
    "  exact-totals  exact, unpublished totals on the aggregator host (ingestion checks)\n"
    "  report        self-contained HTML report for the council\n"
    "  estimate      multiple systems estimation of the hidden number\n\n"
    "`aggregator COMMAND --help` describes a command; `aggregator --version` prints the\n"
    "version and the commit it was built from.\n";

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string sub = argv[1];
  int sub_argc = argc - 1;
  char** sub_argv = argv + 1;
  if (sub == "--help" || sub == "-h" || sub == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (sub == "serve") {
    cli::Command cmd("serve", "Run the aggregator until SIGINT or SIGTERM, then shut down "
                              "gracefully.");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration", true)
        .Flag("port-file", "FILE", "write the bound port here (useful with port 0)")
        .Flag("dashboard-port-file", "FILE", "write the dashboard's bound port here");
    return Run(cmd, sub_argc, sub_argv, Serve);
  }
  if (sub == "store-keygen") {
    cli::Command cmd("store-keygen",
                     "Create the aggregator's store key (tokens are keyed again with it before "
                     "they are stored).");
    cmd.Flag("out", "FILE", "where to write the key (mode 0600; never inside data_dir)", true);
    return Run(cmd, sub_argc, sub_argv, StoreKeygen);
  }
  if (sub == "audit-keygen") {
    cli::Command cmd("audit-keygen",
                     "Create the Ed25519 key that signs the audit trail; prints its public key.");
    cmd.Flag("out", "FILE", "where to write the key (mode 0600; outside data_dir)", true);
    return Run(cmd, sub_argc, sub_argv, AuditKeygen);
  }
  if (sub == "audit") return AuditMain(sub_argc, sub_argv);
  if (sub == "purge") {
    cli::Command cmd("purge",
                     "Delete, for real, the reports (and their tokens) past the retention "
                     "period, record it in the audit trail and reclaim the space.");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration", true)
        .Flag("now", "YYYY-MM", "the month to compute expiry from (default: this month)");
    return Run(cmd, sub_argc, sub_argv, PurgeCommand);
  }
  if (sub == "backup") {
    cli::Command cmd("backup",
                     "Copy the aggregator's database with SQLite's online backup API; safe while "
                     "the aggregator runs. The copy is one consistent snapshot, mode 0600, and "
                     "never holds the store key.");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration (for data_dir)", true)
        .Flag("out", "FILE", "the backup file to write (must not exist)", true);
    return Run(cmd, sub_argc, sub_argv, BackupCommand);
  }
  if (sub == "restore") {
    cli::Command cmd("restore",
                     "Check a backup (integrity, schema) and write it as aggregator.db (0600) "
                     "into a new or empty data folder (0700).");
    cmd.Flag("backup", "FILE", "a file written by `aggregator backup`", true)
        .Flag("data-dir", "DIR", "the new data folder (must be empty or absent)", true);
    return Run(cmd, sub_argc, sub_argv, RestoreCommand);
  }
  if (sub == "key-status") {
    cli::Command cmd("key-status",
                     "Reports per agency and hashing-key epoch, and how many are still below the "
                     "epoch in force (read-only; may run while the aggregator runs).");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration", true);
    return Run(cmd, sub_argc, sub_argv, KeyStatusCommand);
  }
  if (sub == "key-retire") {
    cli::Command cmd("key-retire",
                     "After the switch-over month: delete, for real, the tokens of reports still "
                     "below the key epoch in force (they stay counted as unlinkable signals); "
                     "recorded in the audit trail. Run with the aggregator stopped.");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration", true)
        .Flag("now", "YYYY-MM", "the current month (default: this month)");
    return Run(cmd, sub_argc, sub_argv, KeyRetireCommand);
  }
  if (sub == "link") {
    cli::Command cmd("link",
                     "Link pseudonymised reports offline; writes report_id,person_id for every "
                     "input report, in input order (person ids 1, 2, ... by first appearance).");
    cmd.Flag("out", "PERSONS.csv", "output CSV", true)
        .Flag("profile", "PROFILE.textproto",
              "linkage profile: its method, rules and thresholds (default: $SAMENZICHT_PROFILE, "
              "else " SAMENZICHT_DEFAULT_PROFILE ")")
        .Flag("explain", "PAIRS.csv",
              "write, per candidate pair, the rules whose tokens agree, the level per "
              "comparison, the match weight and posterior, and whether it was linked")
        .Positional("REPORTS.jsonl...", "output of `agency-node pseudonymise`", 1);
    return Run(cmd, sub_argc, sub_argv, LinkCommand);
  }
  if (sub == "totals") {
    cli::Command cmd("totals", "Deduplicated totals from the aggregator (analyst certificate).");
    cmd.Flag("config", "CLIENT.textproto", "client configuration", true)
        .Flag("by", "CATEGORY[,CATEGORY]",
              "zero, one or two of: form, contact, age_band, gender, background, "
              "living_situation, recruitment_location, coercion, forced_crime, area, domain, "
              "signal_month")
        .Flag("from", "YYYY-MM", "first month of the period (inclusive)")
        .Flag("to", "YYYY-MM", "last month of the period (inclusive)")
        .Flag("format", "table|csv|json", "output format (default table)")
        .Flag("view", "totals|summary|agencies|overlap|trend",
              "what to show (default totals): persons and signals by category; the summary "
              "with bounds and signals per person; persons by number of agencies; overlap "
              "between domains; the trend")
        .Flag("per", "month|quarter", "trend granularity (default month)")
        .Switch("estimate", "summary: add the hidden-number estimate (slow)");
    return Run(cmd, sub_argc, sub_argv, Totals);
  }
  if (sub == "exact-totals") {
    cli::Command cmd("exact-totals",
                     "Exact, unpublished totals of every stored report, read from the store on "
                     "the aggregator host (needs the aggregator's configuration and store key): "
                     "for checking that ingestion lost or double-counted nothing. No disclosure "
                     "control: never publish its output; publish what `totals` shows.");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration", true)
        .Flag("by", "CATEGORY[,CATEGORY]", "zero, one or two categories, as for `totals`")
        .Flag("from", "YYYY-MM", "first month of the period (inclusive; any month)")
        .Flag("to", "YYYY-MM", "last month of the period (inclusive; any month)")
        .Flag("format", "table|csv|json", "output format (default table)");
    return Run(cmd, sub_argc, sub_argv, ExactTotalsCommand);
  }
  if (sub == "report") {
    cli::Command cmd("report",
                     "Write a self-contained HTML report (tables, charts, methods, hidden-number "
                     "estimate), disclosure-controlled.");
    cmd.Flag("config", "AGGREGATOR.textproto|CLIENT.textproto",
             "aggregator configuration (reads the store in-process) or client configuration "
             "(asks the running aggregator with the analyst certificate)", true)
        .Flag("period", "YYYY-MM..YYYY-MM", "period, inclusive (a side may be empty)", true)
        .Flag("out", "REPORT.html", "output file", true)
        .Flag("per", "month|quarter", "trend granularity (default month)")
        .Switch("no-estimate", "leave out the hidden-number estimate");
    return Run(cmd, sub_argc, sub_argv, Report);
  }
  if (sub == "estimate") {
#ifdef SAMENZICHT_HAVE_ESTIMATE
    return estimate::RunEstimateCommand(sub_argc, sub_argv);
#else
    std::cerr << "error: this build has no estimate command\n";
    return 1;
#endif
  }
  std::cerr << "error: unknown command '" << sub.substr(0, 40) << "'\n" << kUsage;
  return 2;
}

}  // namespace
}  // namespace samenzicht::aggregator

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "aggregator")) return 0;
  return samenzicht::aggregator::Main(argc, argv);
}
