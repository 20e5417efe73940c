// The administrator's and the privacy officer's command-line clients against an in-process
// aggregator on 127.0.0.1 with real mutual TLS: each command's output, the settings it
// changed, the checkpoint `audit verify` then accepts, the trail and its verification, and
// the exact error (PERMISSION_DENIED, exit code 1) for a certificate of the wrong role. The
// last tests run the real binary for the exit codes and `--help`.
#include "aggregator/commands.h"

#include <gmock/gmock.h>
#include <sys/stat.h>

#include <sstream>

#include "absl/strings/str_split.h"
#include "common/files.h"
#include "tests/aggregator/audit_fixture.h"
#include "tests/testing/subprocess.h"

namespace samenzicht::aggregator::testing {
namespace {

using ::samenzicht::testing::RunCommand;
using ::samenzicht::testing::RunResult;
using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class CommandsTest : public AuditServerTest {
 protected:
  using CommandFn = absl::Status(const cli::Args&, std::ostream&, std::ostream&);

  // A client configuration with `who`'s certificate (pki.sh: beheer = admin, fg = privacy
  // officer, gemeente = analyst, police = agency) and the deployment's revocation list
  // (unless `with_crl` is false).
  std::string ClientConfig(const std::string& who, bool with_crl = true) {
    v1::ClientConfig c;
    c.set_aggregator_address(address_);
    *c.mutable_tls() = samenzicht::testing::TlsFor(pki_, who);
    if (with_crl) c.mutable_tls()->set_crl_directory(pki_ + "/crl");
    c.set_aggregator_server_name("localhost");
    const std::string path =
        dir_ + "/client_" + who + (with_crl ? "" : "_without_crl") + ".textproto";
    EXPECT_OK(files::WriteFileAtomic(path, c.DebugString(), 0600));
    return path;
  }

  // Runs `fn` with --config for `who` and the other flags; stdout in out_, stderr in err_.
  absl::Status Call(CommandFn* fn, const std::string& who,
                    std::map<std::string, std::string> flags = {}) {
    cli::Args args;
    args.flags = std::move(flags);
    args.flags["config"] = ClientConfig(who);
    for (const auto& [k, v] : args.flags) args.all.emplace(k, v);
    std::ostringstream out, err;
    absl::Status s = fn(args, out, err);
    out_ = out.str();
    err_ = err.str();
    return s;
  }

  std::string out_, err_;
};

TEST_F(CommandsTest, AdminReadsAndChangesTheSettings) {
  ASSERT_OK(Call(AdminSettingsCommand, "beheer"));
  EXPECT_EQ(out_, "key_epoch:         1\nretention_months:  0 (no limit)\n");

  ASSERT_OK(Call(AdminSetRetentionCommand, "beheer", {{"months", "24"}}));
  EXPECT_EQ(out_, "key_epoch:         1\nretention_months:  24\n");
  EXPECT_THAT(err_, HasSubstr("retention set to 24 month(s) and recorded in the audit trail"));

  ASSERT_OK(Call(AdminSetKeyEpochCommand, "beheer", {{"epoch", "2"}}));
  EXPECT_EQ(out_, "key_epoch:         2\nretention_months:  24\n");

  // The running aggregator holds them (and another client sees them).
  ASSERT_OK(Call(AdminSettingsCommand, "beheer", {{"format", "json"}}));
  EXPECT_EQ(out_, "{\"key_epoch\":2,\"retention_months\":24}\n");

  // Each change is in the audit trail, by the administrator's certificate.
  ASSERT_OK(Call(AuditTrailCommand, "fg", {{"format", "jsonl"}}));
  EXPECT_THAT(out_, HasSubstr("\"event\":\"retention_change\",\"actor\":\"beheer\",\"details\":"
                              "{\"role\":\"admin\",\"asked\":\"Admin.SetRetention\",\"outcome\":\"OK\","
                              "\"from\":0,\"to\":24,\"source\":\"administrator\"}"));
  EXPECT_THAT(out_, HasSubstr("\"event\":\"key_epoch_change\",\"actor\":\"beheer\",\"details\":"
                              "{\"role\":\"admin\",\"asked\":\"Admin.SetKeyEpoch\",\"outcome\":\"OK\","
                              "\"from\":1,\"to\":2,\"source\":\"administrator\"}"));
}

TEST_F(CommandsTest, AdminFlagsOutOfRangeAreRefusedBeforeAnyCall) {
  EXPECT_THAT(Call(AdminSetRetentionCommand, "beheer", {{"months", "1201"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--months must be a whole number from 0 to 1200"));
  EXPECT_THAT(Call(AdminSetRetentionCommand, "beheer", {{"months", "-1"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Call(AdminSetKeyEpochCommand, "beheer", {{"epoch", "0"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "--epoch must be a whole number from 1 to 4294967295"));
  EXPECT_THAT(Call(AdminSettingsCommand, "beheer", {{"format", "xml"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, "--format must be table or json"));
  ASSERT_OK(Call(AdminSettingsCommand, "beheer"));
  EXPECT_EQ(out_, "key_epoch:         1\nretention_months:  0 (no limit)\n");  // unchanged
}

// Every other role is refused by the aggregator, with the exact reason, and nothing changes.
TEST_F(CommandsTest, EveryOtherRoleIsRefusedWithPermissionDenied) {
  const std::string at = "from " + address_ + ": PERMISSION_DENIED: ";
  for (const std::string who : {"gemeente", "fg", "police"}) {
    SCOPED_TRACE(who);
    const std::string role = who == "gemeente" ? "analyst"
                             : who == "fg"     ? "privacy_officer"
                                               : "agency";
    EXPECT_THAT(Call(AdminSettingsCommand, who),
                StatusIs(absl::StatusCode::kPermissionDenied,
                         "settings " + at +
                             "only the administrator may read or change settings; caller has "
                             "role " +
                             role));
    EXPECT_THAT(Call(AdminSetRetentionCommand, who, {{"months", "1"}}),
                StatusIs(absl::StatusCode::kPermissionDenied, "set-retention " + at));
    EXPECT_THAT(Call(AdminSetKeyEpochCommand, who, {{"epoch", "7"}}),
                StatusIs(absl::StatusCode::kPermissionDenied, "set-key-epoch " + at));
    EXPECT_EQ(out_, "");
  }
  for (const std::string who : {"gemeente", "beheer", "police"}) {
    SCOPED_TRACE(who);
    const std::string role = who == "gemeente" ? "analyst" : who == "beheer" ? "admin" : "agency";
    const std::string reason =
        at + "only the privacy officer may read the audit trail; caller has role " + role;
    EXPECT_THAT(Call(AuditTrailCommand, who),
                StatusIs(absl::StatusCode::kPermissionDenied, "audit trail " + reason));
    EXPECT_THAT(Call(AuditCheckpointCommand, who),
                StatusIs(absl::StatusCode::kPermissionDenied, "checkpoint " + reason));
  }
  ASSERT_OK(Call(AdminSettingsCommand, "beheer"));
  EXPECT_EQ(out_, "key_epoch:         1\nretention_months:  0 (no limit)\n");
}

TEST_F(CommandsTest, ACheckpointFromTheServiceVerifiesTheTrailOffline) {
  const std::string file = dir_ + "/kept.checkpoint";
  ASSERT_OK(Call(AuditCheckpointCommand, "fg", {{"out", file}}));
  EXPECT_THAT(out_, StartsWith("samenzicht-audit-checkpoint v1 "));
  ASSERT_OK_AND_ASSIGN(std::string kept, files::ReadFile(file));
  EXPECT_EQ(kept, out_);
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A second one never overwrites the kept file.
  EXPECT_THAT(Call(AuditCheckpointCommand, "fg", {{"out", file}}),
              StatusIs(absl::StatusCode::kAlreadyExists, file + " exists; name a new file"));

  // `audit verify` accepts it against the data folder, with the key the officer holds.
  StopServer();
  cli::Args verify;
  verify.flags = {{"data-dir", data_dir_}, {"public-key", audit_public_key_}};
  verify.all = {{"checkpoint", file}};
  std::ostringstream out, err;
  ASSERT_OK(AuditVerifyCommand(verify, out, err));
  EXPECT_THAT(out.str(), HasSubstr("checkpoints checked: 1"));
}

TEST_F(CommandsTest, TheTrailIsShownAndVerified) {
  ASSERT_OK(Call(AuditTrailCommand, "fg"));
  std::vector<std::string> lines = absl::StrSplit(out_, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 2u);
  EXPECT_THAT(lines[0], StartsWith("   seq  time (UTC)            event"));
  EXPECT_THAT(lines[1], StartsWith("     1  20"));
  // The first entry: the configuration the aggregator started with, by the aggregator.
  EXPECT_THAT(lines[1],
              HasSubstr("  configuration_change      aggregator        {\"role\":\"aggregator\","
                        "\"asked\":\"start\",\"outcome\":\"OK\""));
  EXPECT_THAT(out_, HasSubstr("  start                     aggregator        {"));
  const size_t entries = lines.size() - 1;
  EXPECT_THAT(err_, HasSubstr(absl::StrCat(entries, " entr")));
  EXPECT_THAT(err_, HasSubstr("signed by " + audit_public_key_));
  EXPECT_THAT(err_, HasSubstr(absl::StrCat("chain and signatures verified for entries 1..", entries,
                                           " with the key the aggregator names")));

  // With the key the officer holds; another key is refused.
  ASSERT_OK(Call(AuditTrailCommand, "fg", {{"public-key", audit_public_key_}}));
  EXPECT_THAT(err_, HasSubstr("verified for entries 1.."));
  ASSERT_OK_AND_ASSIGN(auto other, crypto::Signer::Generate());
  EXPECT_THAT(
      Call(AuditTrailCommand, "fg", {{"public-key", crypto::Base64Encode(other->public_key())}}),
      StatusIs(absl::StatusCode::kUnauthenticated,
               "the aggregator signs its trail with another key than --public-key"));

  // A window: exactly --limit entries from --from-seq, not verified as a whole.
  ASSERT_OK(
      Call(AuditTrailCommand, "fg", {{"from-seq", "2"}, {"limit", "1"}, {"format", "jsonl"}}));
  lines = absl::StrSplit(out_, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(lines[0], StartsWith("{\"seq\":2,\"time\":\"20"));
  EXPECT_THAT(lines[0], HasSubstr("\"signature\":\""));
  EXPECT_THAT(err_, HasSubstr("1 entry shown"));
  EXPECT_THAT(err_, ::testing::Not(HasSubstr("verified")));
  EXPECT_THAT(Call(AuditTrailCommand, "fg", {{"limit", "0"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// An entry changed in the database after it was written: the whole trail read through the
// service no longer verifies, and the first wrong entry is named.
TEST_F(CommandsTest, ATamperedEntryIsDetectedByTheTrailCommand) {
  ASSERT_OK(Call(AuditTrailCommand, "fg", {{"public-key", audit_public_key_}}));
  Sql("UPDATE audit SET details = replace(details, '\"min_cell_size\":2', "
      "'\"min_cell_size\":1') WHERE seq = 1");
  EXPECT_THAT(Call(AuditTrailCommand, "fg", {{"public-key", audit_public_key_}}),
              StatusIs(absl::StatusCode::kDataLoss, "audit trail NOT verified: entry 1: "));
  EXPECT_THAT(out_, HasSubstr("\"min_cell_size\":1"));  // shown, but not passed as verified
}

// Commands moved out of main.cc keep their output and messages.
TEST_F(CommandsTest, MovedCommandsKeepTheirOutput) {
  cli::Args keygen;
  keygen.flags = {{"out", dir_ + "/new-store.key"}};
  std::ostringstream out, err;
  ASSERT_OK(StoreKeygenCommand(keygen, out, err));
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), "wrote store key " + dir_ +
                           "/new-store.key (mode 0600); keep it outside data_dir and out of "
                           "database backups\n");
  EXPECT_THAT(StoreKeygenCommand(keygen, out, err), StatusIs(absl::StatusCode::kAlreadyExists));

  // The analyst's totals over mutual TLS (answered by the query layer: no month is
  // released in a fresh deployment); the administrator's certificate is refused. Both with
  // the message `totals` always gave.
  EXPECT_THAT(Call(TotalsCommand, "gemeente", {{"format", "csv"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       "totals from " + address_ + ": no month is released yet"));
  EXPECT_THAT(Call(TotalsCommand, "beheer"),
              StatusIs(absl::StatusCode::kPermissionDenied, "totals from " + address_ + ": "));

  cli::Args report;
  report.flags = {{"data-dir", data_dir_}, {"format", "csv"}};
  std::ostringstream rout, rerr;
  ASSERT_OK(AuditReportCommand(report, rout, rerr));
  EXPECT_THAT(rout.str(), HasSubstr("month,"));
}

// The binary: exit codes and messages as the operator sees them.
TEST_F(CommandsTest, TheBinaryExitsOneWithTheReasonForAWrongRole) {
  RunResult r =
      RunCommand({AGGREGATOR_BIN, "admin", "settings", "--config", ClientConfig("gemeente")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "error: settings from " + address_ +
                       ": PERMISSION_DENIED: only the administrator may read or change "
                       "settings; caller has role analyst\n");

  r = RunCommand({AGGREGATOR_BIN, "audit", "trail", "--config", ClientConfig("gemeente")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: audit trail from " + address_ +
                       ": PERMISSION_DENIED: only the privacy officer may read the audit trail; "
                       "caller has role analyst\n");

  r = RunCommand({AGGREGATOR_BIN, "admin", "set-retention", "--config", ClientConfig("beheer"),
                  "--months", "12"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "key_epoch:         1\nretention_months:  12\n");

  r = RunCommand({AGGREGATOR_BIN, "audit", "checkpoint", "--config", ClientConfig("fg")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("samenzicht-audit-checkpoint v1 "));

  r = RunCommand({AGGREGATOR_BIN, "admin", "set-retention", "--config", ClientConfig("beheer"),
                  "--months", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "error: --months must be a whole number from 0 to 1200\n");
}

// A client configuration without the revocation list still works, and says once that a
// revoked aggregator certificate would go unnoticed.
TEST_F(CommandsTest, AClientWithoutARevocationListIsWarned) {
  RunResult r = RunCommand(
      {AGGREGATOR_BIN, "admin", "settings", "--config", ClientConfig("beheer", /*with_crl=*/false)});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "warning: tls names no crl_directory: a revoked aggregator certificate would not be "
            "noticed; copy the deployment's CRL folder here and name it (docs/operations.md, "
            "revocation)\n");
  r = RunCommand({AGGREGATOR_BIN, "admin", "settings", "--config", ClientConfig("beheer")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(CommandsTest, EveryNewCommandHasHelp) {
  for (std::vector<std::string> cmd : {std::vector<std::string>{"admin", "settings"},
                                       {"admin", "set-retention"},
                                       {"admin", "set-key-epoch"},
                                       {"audit", "checkpoint"},
                                       {"audit", "trail"}}) {
    std::vector<std::string> argv = {AGGREGATOR_BIN};
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    argv.push_back("--help");
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << cmd[0] << " " << cmd[1];
    EXPECT_THAT(r.out, StartsWith(cmd[0] + " " + cmd[1] + ": "));
    EXPECT_THAT(r.out, HasSubstr("--config CLIENT.textproto"));
  }
  for (const char* group : {"admin", "audit"}) {
    RunResult help = RunCommand({AGGREGATOR_BIN, group, "--help"});
    EXPECT_EQ(help.exit_code, 0) << group;
    EXPECT_EQ(help.err, "") << group;
    EXPECT_THAT(help.out, StartsWith(std::string("usage: aggregator ") + group + " ")) << group;
  }
  RunResult r = RunCommand({AGGREGATOR_BIN, "admin"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("usage: aggregator admin settings|set-retention|set-key-epoch"));
  r = RunCommand({AGGREGATOR_BIN, "--help"});
  EXPECT_THAT(r.out, HasSubstr("  admin         show or change the running aggregator's settings"));
}

}  // namespace
}  // namespace samenzicht::aggregator::testing
