// agency-node: flags and wiring only; the commands live in agency_node/commands.h.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "agency_node/commands.h"
#include "agency_node/daemon.h"
#include "agency_node/key_ceremony.h"
#include "agency_node/web/intake_page.h"
#include "common/cli.h"
#include "common/version.h"

#ifndef SAMENZICHT_DEFAULT_PROFILE
#define SAMENZICHT_DEFAULT_PROFILE "deploy/config/profile.textproto"
#endif
// Where deploy/install.sh puts the deployment's profile.
#define SAMENZICHT_INSTALLED_PROFILE "/etc/samenzicht/profile.textproto"

namespace {

using samenzicht::cli::Args;
using samenzicht::cli::Command;
namespace node = samenzicht::agency_node;

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  for (absl::string_view p : absl::StrSplit(absl::string_view(s), ',', absl::SkipWhitespace())) {
    out.emplace_back(absl::StripAsciiWhitespace(p));
  }
  return out;
}

// The default profile: the installed one; in a build tree on a host without it, the source
// tree's profile this binary was built with.
std::string DefaultProfile() {
  std::error_code ec;
  return std::filesystem::exists(SAMENZICHT_INSTALLED_PROFILE, ec) ? SAMENZICHT_INSTALLED_PROFILE
                                                                   : SAMENZICHT_DEFAULT_PROFILE;
}

std::shared_ptr<spdlog::logger> Logger() {
  auto log = spdlog::stderr_color_mt("agency-node");
  // UTC timestamps: the daemon's log is read against the aggregator's and other nodes'.
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$: %v", spdlog::pattern_time_type::utc);
  return log;
}

void Usage(std::ostream& os) {
  os << "usage: agency-node COMMAND [flags]\n\n"
               "commands:\n"
               "  keygen           create a new shared hashing key\n"
               "  signing-keygen   create this node's signing key; prints its public key\n"
               "  pseudonymise     offline: signals CSV -> the reports the node would send\n"
               "  submit           send a signals CSV to the aggregator\n"
               "  serve            daemon: import files from a folder, deliver with retries;\n"
               "                   with intake_listen_address also the intake web page\n"
               "  accounts         add|remove|list the intake page's local accounts\n"
               "  retract          retract this node's reports by record id\n"
               "  sent             show what this node sent\n"
               "  resend           queue held batches again\n"
               "  box-keygen       create this node's key for receiving the sealed shared key\n"
               "  key-seal         administrator: seal the shared key to a node\n"
               "  key-open         open a sealed shared key\n"
               "  key-fingerprint  print a hashing key's fingerprint\n\n"
               "`agency-node COMMAND --help` describes a command; `agency-node --version` prints the\n"
               "version and the commit it was built from.\n";
}

int Run(const Command& cmd, int argc, char** argv,
        const std::function<absl::Status(const Args&)>& fn) {
  auto args = cmd.Parse(argc, argv);
  if (!args.ok()) return samenzicht::cli::ExitWith(args.status());
  if (args->help) {
    std::cout << cmd.Usage();
    return 0;
  }
  const absl::Status s = fn(*args);
  if (node::IsRecordsSkipped(s)) {  // finished, but not every record went whole
    std::cerr << "error: " << s.message() << "\n";
    return node::kExitRecordsSkipped;
  }
  if (node::IsFieldsNotUsed(s)) {  // every record sent, some without an identifier
    std::cerr << "warning: " << s.message() << "\n";
    return node::kExitFieldsNotUsed;
  }
  return samenzicht::cli::ExitWith(s);
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "agency-node")) return 0;
  if (argc < 2) {
    Usage(std::cerr);
    return 2;
  }
  const std::string sub = argv[1];
  int sargc = argc - 1;
  char** sargv = argv + 1;
  if (sub == "--help" || sub == "-h" || sub == "help") {
    Usage(std::cout);
    return 0;
  }
  if (sub == "keygen") {
    Command cmd("keygen", "Create a new shared hashing key (mode 0600).");
    cmd.Flag("out", "FILE", "where to write the key; an existing file is never overwritten", true);
    cmd.Flag("epoch", "N", "key epoch (default 1); bump it when rotating the key");
    return Run(cmd, sargc, sargv, [](const Args& a) {
      uint32_t epoch = 1;
      if (a.Has("epoch") && !absl::SimpleAtoi(a.Get("epoch"), &epoch)) {
        return absl::InvalidArgumentError("--epoch must be a number");
      }
      return node::KeygenCommand(a.Get("out"), epoch, std::cout);
    });
  }
  if (sub == "signing-keygen") {
    Command cmd("signing-keygen",
                "Create this node's Ed25519 signing key (mode 0600); prints the base64 public "
                "key for the aggregator's configuration.");
    cmd.Flag("out", "FILE", "where to write the key", true);
    return Run(cmd, sargc, sargv,
               [](const Args& a) { return node::SigningKeygenCommand(a.Get("out"), std::cout); });
  }
  if (sub == "pseudonymise") {
    Command cmd("pseudonymise",
                "Offline: write exactly what the node would send, one JSON report per line. "
                "Report ids are random per run unless --map names an existing map file, whose "
                "ids are then reused.");
    cmd.Flag("key", "FILE", "shared hashing key (a deployment without a key service)");
    cmd.Flag("keyholder", "FILE",
             "key service client configuration: tokens from the key service, no key on this node");
    cmd.Flag("in", "SIGNALS.csv", "the agency's signals export", true);
    cmd.Flag("out", "REPORTS.jsonl", "where to write the reports", true);
    cmd.Flag("map", "MAP.csv", "record_id,report_id correspondence (stays inside the agency)");
    cmd.Flag("profile", "PROFILE.textproto",
             "linkage profile (default: $SAMENZICHT_PROFILE, else " SAMENZICHT_INSTALLED_PROFILE ")");
    cmd.Flag("areas", "a,b,c", "accepted area codes (default: any code of [a-z0-9_-])");
    return Run(cmd, sargc, sargv, [](const Args& a) {
      node::PseudonymiseOptions o;
      o.key_file = a.Get("key");
      o.keyholder = a.Get("keyholder");
      o.in = a.Get("in");
      o.out = a.Get("out");
      o.map = a.Get("map");
      o.profile = node::ResolveProfilePath(a.Get("profile"), DefaultProfile());
      o.areas = SplitList(a.Get("areas"));
      return node::PseudonymiseCommand(o, *Logger(), std::cout);
    });
  }
  if (sub == "submit") {
    Command cmd("submit", "Pseudonymise a signals CSV and send it to the aggregator.");
    cmd.Flag("config", "NODE.textproto", "node configuration", true);
    cmd.Flag("in", "SIGNALS.csv", "the agency's signals export", true);
    cmd.Switch("resend-retracted",
               "send records retracted earlier again, as new reports (the agency's decision)");
    cmd.Flag("keyholder", "FILE",
             "key service client configuration: tokens from the key service instead of "
             "hashing_key_file");
    return Run(cmd, sargc, sargv, [](const Args& a) {
      return node::SubmitCommand(a.Get("config"), a.Get("in"), *Logger(), std::cout, node::Today(),
                                 a.Has("resend-retracted"), a.Get("keyholder"));
    });
  }
  if (sub == "retract") {
    Command cmd("retract", "Retract this node's reports by the agency's record id.");
    cmd.Flag("config", "NODE.textproto", "node configuration", true);
    cmd.Flag("record-id", "ID", "record id(s) to retract; repeatable or comma-separated", true);
    return Run(cmd, sargc, sargv, [&](const Args& a) {
      return node::RetractCommand(a.Get("config"), a.GetAll("record-id"), std::cout);
    });
  }
  if (sub == "sent") {
    Command cmd("sent", "Show what this node sent: batches, digests, counts, acknowledgements.");
    cmd.Flag("config", "NODE.textproto", "node configuration", true);
    cmd.Flag("format", "table|csv|json", "output format (default table)");
    return Run(cmd, sargc, sargv, [](const Args& a) {
      return node::SentCommand(a.Get("config"), a.Get("format", "table"), std::cout);
    });
  }
  if (sub == "resend") {
    Command cmd("resend",
                "Queue again the batches held in the outbox after a refusal outside their "
                "content (another key epoch or profile, a permission); `sent` lists them.");
    cmd.Flag("config", "NODE.textproto", "node configuration", true);
    return Run(cmd, sargc, sargv, [](const Args& a) {
      return node::ResendCommand(a.Get("config"), std::cout);
    });
  }
  if (sub == "box-keygen") {
    Command cmd("box-keygen", "Create this node's X25519 key for receiving the sealed shared key.");
    cmd.Flag("out", "FILE", "where to write the box key", true);
    return Run(cmd, sargc, sargv, [](const Args& a) { return node::BoxKeygenCommand(a.Get("out"), std::cout); });
  }
  if (sub == "key-seal") {
    Command cmd("key-seal", "Administrator: seal the shared hashing key to one node's public box key.");
    cmd.Flag("key", "FILE", "the shared hashing key", true);
    cmd.Flag("recipient", "BASE64", "the node's public box key (agency-node box-keygen)", true);
    cmd.Flag("out", "FILE", "where to write the sealed key (safe to send)", true);
    return Run(cmd, sargc, sargv, [](const Args& a) {
      return node::KeySealCommand(a.Get("key"), a.Get("recipient"), a.Get("out"), std::cout);
    });
  }
  if (sub == "key-open") {
    Command cmd("key-open", "Node: open a sealed shared key with this node's box key.");
    cmd.Flag("sealed", "FILE", "the sealed key from the administrator", true);
    cmd.Flag("box-key", "FILE", "this node's box key", true);
    cmd.Flag("out", "FILE", "where to write the hashing key", true);
    return Run(cmd, sargc, sargv, [](const Args& a) {
      return node::KeyOpenCommand(a.Get("sealed"), a.Get("box-key"), a.Get("out"), std::cout);
    });
  }
  if (sub == "key-fingerprint") {
    Command cmd("key-fingerprint", "Print a hashing key's epoch and fingerprint, to compare out of band.");
    cmd.Flag("key", "FILE", "a hashing key", true);
    return Run(cmd, sargc, sargv, [](const Args& a) { return node::KeyFingerprintCommand(a.Get("key"), std::cout); });
  }
  if (sub == "serve") {
    Command cmd("serve",
                "Run as a daemon: import every complete *.csv in import_dir once (then move it "
                "to import_dir/done/), deliver the outbox with retries, stop on SIGTERM.");
    cmd.Flag("config", "NODE.textproto",
             "node configuration (with import_dir; with intake_listen_address and intake_tls "
             "the intake web page is served too)", true);
    return Run(cmd, sargc, sargv, [](const Args& a) {
      return node::web::ServeWithIntakeCommand(a.Get("config"), *Logger());
    });
  }
  if (sub == "accounts") {
    const std::string action = argc > 2 ? argv[2] : "";
    if (action != "add" && action != "remove" && action != "list") {
      const bool help = action == "--help" || action == "-h";
      (help ? std::cout : std::cerr)
          << "usage: agency-node accounts add|remove|list --config NODE.textproto [flags]\n"
             "  add     --name NAME --role professional|operator; the password (at least "
             "12 characters) is read from the first line of standard input\n"
             "  remove  --name NAME\n"
             "  list\n";
      return help ? 0 : 2;
    }
    Command cmd("accounts " + action,
                action == "add"      ? "Add a local account of the intake page. The password is "
                                       "read from the first line of standard input."
                : action == "remove" ? "Remove a local account of the intake page."
                                     : "List the intake page's local accounts (never a password).");
    cmd.Flag("config", "NODE.textproto", "node configuration (its state_dir holds intake.db)", true);
    if (action != "list") cmd.Flag("name", "NAME", "account name (letters, digits, . _ - @)", true);
    if (action == "add") cmd.Flag("role", "professional|operator", "the account's role", true);
    return Run(cmd, sargc - 1, sargv + 1, [&action](const Args& a) {
      if (action == "add") {
        return node::web::AccountsAddCommand(a.Get("config"), a.Get("name"), a.Get("role"),
                                             std::cin, std::cout);
      }
      if (action == "remove") {
        return node::web::AccountsRemoveCommand(a.Get("config"), a.Get("name"), std::cout);
      }
      return node::web::AccountsListCommand(a.Get("config"), std::cout);
    });
  }
  std::cerr << "error: unknown command '" << sub << "'\n";
  Usage(std::cerr);
  return 2;
}
