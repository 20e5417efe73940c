// `aggregator`: flags and wiring only; the commands live in aggregator/commands.h.
#include <functional>
#include <iostream>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "absl/status/status.h"
#include "aggregator/commands.h"
#include "common/cli.h"
#include "common/version.h"
#include "estimate/estimate_command.h"

namespace samenzicht::aggregator {
namespace {

using CommandFn = absl::Status(const cli::Args&, std::ostream& out, std::ostream& err);

int Run(const cli::Command& cmd, int argc, char** argv, CommandFn* fn) {
  absl::StatusOr<cli::Args> args = cmd.Parse(argc, argv);
  if (!args.ok()) return cli::ExitWith(args.status());
  if (args->help) {
    std::cout << cmd.Usage();
    return 0;
  }
  return cli::ExitWith(fn(*args, std::cout, std::cerr));
}

int AuditMain(int argc, char** argv) {
  const std::string sub = argc >= 2 ? argv[1] : "";
  if (sub == "verify") {
    cli::Command cmd("audit verify",
                     "Verify the aggregator's audit trail, or the key service's, offline "
                     "(database opened read-only): sequence, hash chain and Ed25519 signature "
                     "of every entry, and the kept checkpoints. Names the first wrong entry; "
                     "exits 1 when anything is wrong.");
    cmd.Flag("data-dir", "DIR", "the aggregator's data folder, or a key service's (keyholder.db)", true)
        .Flag("checkpoint", "FILE", "a checkpoint kept outside the system (repeatable)")
        .Flag("public-key", "BASE64", "the audit public key (from `aggregator audit-keygen`)");
    return Run(cmd, argc - 1, argv + 1, AuditVerifyCommand);
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
              "the largest share it holds of one token")
        .Flag("store-key", "FILE", "the store key file (store_key_file); needed by anomalies")
        .Flag("keyholder-data-dir", "DIR",
              "a key service's data folder (or a copy): adds each agency's evaluations and "
              "refused calls there, from its verified trail (summary view)")
        .Flag("keyholder-public-key", "BASE64", "the key service's trail key (`keyholder audit-keygen`)");
    return Run(cmd, argc - 1, argv + 1, AuditReportCommand);
  }
  if (sub == "checkpoint") {
    cli::Command cmd("audit checkpoint",
                     "Ask the running aggregator for a fresh signed checkpoint of its audit "
                     "trail's head (privacy officer certificate); prints it as one line. Keep it "
                     "outside the aggregator: `audit verify --checkpoint FILE` then proves the "
                     "trail up to it was not rewritten.");
    cmd.Flag("config", "CLIENT.textproto",
             "client configuration with the privacy officer's certificate", true)
        .Flag("out", "FILE", "also write it to this new file (mode 0600)");
    return Run(cmd, argc - 1, argv + 1, AuditCheckpointCommand);
  }
  if (sub == "trail") {
    cli::Command cmd("audit trail",
                     "Read the audit trail from the running aggregator (privacy officer "
                     "certificate): sequence, time, event, actor and details of each entry. "
                     "Read whole (no --from-seq, no --limit), its hash chain and signatures are "
                     "verified as well.");
    cmd.Flag("config", "CLIENT.textproto",
             "client configuration with the privacy officer's certificate", true)
        .Flag("from-seq", "N", "first entry to show (default 1)")
        .Flag("limit", "N", "at most this many entries (default all)")
        .Flag("format", "table|jsonl",
              "output format (default table; jsonl adds hashes and signatures in hex)")
        .Flag("public-key", "BASE64",
              "the audit public key you hold (from `aggregator audit-keygen`): the whole trail "
              "must be signed with it");
    return Run(cmd, argc - 1, argv + 1, AuditTrailCommand);
  }
  const bool help = sub == "--help" || sub == "-h";
  (help ? std::cout : std::cerr)
      << "usage: aggregator audit verify|report|checkpoint|trail [flags]  (--help for each)\n";
  return help ? 0 : 2;
}

int AdminMain(int argc, char** argv) {
  const std::string sub = argc >= 2 ? argv[1] : "";
  if (sub == "settings") {
    cli::Command cmd("admin settings",
                     "Show the settings the running aggregator uses (administrator "
                     "certificate): the hashing-key epoch batches must be made with, and the "
                     "retention period in months (0 = no limit).");
    cmd.Flag("config", "CLIENT.textproto",
             "client configuration with the administrator's certificate", true)
        .Flag("format", "table|json", "output format (default table)");
    return Run(cmd, argc - 1, argv + 1, AdminSettingsCommand);
  }
  if (sub == "set-retention") {
    cli::Command cmd("admin set-retention",
                     "Change the retention period at once (administrator certificate); it "
                     "overrides the configuration file and is recorded in the audit trail. "
                     "Reports past it are deleted by the aggregator's hourly purge.");
    cmd.Flag("config", "CLIENT.textproto",
             "client configuration with the administrator's certificate", true)
        .Flag("months", "N", "retention in months, 0 (no limit) to 1200", true);
    return Run(cmd, argc - 1, argv + 1, AdminSetRetentionCommand);
  }
  if (sub == "set-key-epoch") {
    cli::Command cmd("admin set-key-epoch",
                     "Change the hashing-key epoch batches must be made with (administrator "
                     "certificate), at the switch-over of a key rotation; recorded in the audit "
                     "trail. Batches of another epoch are refused from then on.");
    cmd.Flag("config", "CLIENT.textproto",
             "client configuration with the administrator's certificate", true)
        .Flag("epoch", "N", "the new epoch, at least 1", true);
    return Run(cmd, argc - 1, argv + 1, AdminSetKeyEpochCommand);
  }
  const bool help = sub == "--help" || sub == "-h";
  (help ? std::cout : std::cerr)
      << "usage: aggregator admin settings|set-retention|set-key-epoch [flags]  "
         "(--help for each)\n";
  return help ? 0 : 2;
}

constexpr char kUsage[] =
    "usage: aggregator COMMAND [flags]\n\n"
    "commands:\n"
    "  serve         run the aggregator (intake and query services, mutual TLS)\n"
    "  store-keygen  create the aggregator's store key\n"
    "  audit-keygen  create the key that signs the audit trail\n"
    "  audit         verify the audit trail, or report on it (offline); read it, or take a\n"
    "                checkpoint, from the running aggregator (privacy officer)\n"
    "  admin         show or change the running aggregator's settings (administrator)\n"
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
  // Every command but `serve` writes its result on stdout (CSV, JSON, tables); the log lines
  // of what it opens (the store, the audit trail) go to stderr, so they never mix into it.
  if (sub != "serve") spdlog::set_default_logger(spdlog::stderr_color_mt("aggregator"));
  if (sub == "serve") {
    cli::Command cmd("serve", "Run the aggregator until SIGINT or SIGTERM, then shut down "
                              "gracefully.");
    cmd.Flag("config", "AGGREGATOR.textproto", "aggregator configuration", true)
        .Flag("port-file", "FILE", "write the bound port here (useful with port 0)")
        .Flag("dashboard-port-file", "FILE", "write the dashboard's bound port here");
    return Run(cmd, sub_argc, sub_argv, ServeCommand);
  }
  if (sub == "store-keygen") {
    cli::Command cmd("store-keygen",
                     "Create the aggregator's store key (tokens are keyed again with it before "
                     "they are stored).");
    cmd.Flag("out", "FILE", "where to write the key (mode 0600; never inside data_dir)", true);
    return Run(cmd, sub_argc, sub_argv, StoreKeygenCommand);
  }
  if (sub == "audit-keygen") {
    cli::Command cmd("audit-keygen",
                     "Create the Ed25519 key that signs the audit trail; prints its public key.");
    cmd.Flag("out", "FILE", "where to write the key (mode 0600; outside data_dir)", true);
    return Run(cmd, sub_argc, sub_argv, AuditKeygenCommand);
  }
  if (sub == "audit") return AuditMain(sub_argc, sub_argv);
  if (sub == "admin") return AdminMain(sub_argc, sub_argv);
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
        .Flag("data-dir", "DIR", "the new data folder (must be empty or absent)", true)
        .Flag("config", "AGGREGATOR.textproto",
              "record the restore, made or failed, in the audit trail of this configuration's "
              "data folder when it holds a database (the restored trail records a restore "
              "at its first start; a failed restore has no trail of its own)");
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
              "else /etc/samenzicht/profile.textproto)")
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
    return Run(cmd, sub_argc, sub_argv, TotalsCommand);
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
                     "estimate), disclosure-controlled, in Dutch or English. Every query is "
                     "written to the audit trail.");
    cmd.Flag("config", "AGGREGATOR.textproto|CLIENT.textproto",
             "aggregator configuration (reads the store in-process) or client configuration "
             "(asks the running aggregator with the analyst certificate)", true)
        .Flag("period", "YYYY-MM..YYYY-MM", "period, inclusive (a side may be empty)", true)
        .Flag("out", "REPORT.html", "output file", true)
        .Flag("per", "month|quarter", "trend granularity (default month)")
        .Flag("lang", "nl|en", "language of the report (default nl, Dutch)")
        .Switch("no-estimate", "leave out the hidden-number estimate");
    return Run(cmd, sub_argc, sub_argv, ReportCommand);
  }
  if (sub == "estimate") return estimate::RunEstimateCommand(sub_argc, sub_argv);
  std::cerr << "error: unknown command '" << sub.substr(0, 40) << "'\n" << kUsage;
  return 2;
}

}  // namespace
}  // namespace samenzicht::aggregator

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "aggregator")) return 0;
  return samenzicht::aggregator::Main(argc, argv);
}
