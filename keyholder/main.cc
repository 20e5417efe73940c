// `keyholder`: flags and wiring only; the commands live in keyholder/commands.h.
#include <iostream>
#include <string>

#include "absl/strings/numbers.h"
#include "common/cli.h"
#include "common/version.h"
#include "keyholder/commands.h"

namespace samenzicht::keyholder {
namespace {

void Usage(std::ostream& out) {
  out << "usage: keyholder COMMAND [flags]\n\n"
         "The key service: holds the only key that turns a token input into a token, and\n"
         "evaluates blinded inputs for agency nodes (an oblivious pseudorandom function).\n\n"
         "commands:\n"
         "  keygen        create the key service's key for one epoch\n"
         "  audit-keygen  create the key that signs the service's trail\n"
         "  serve         run the key service\n"
         "  audit verify  verify the service's signed trail offline\n"
         "  audit report  evaluations per day, node and epoch, from the verified trail\n\n"
         "`keyholder COMMAND --help` describes a command; `keyholder --version` prints the\n"
         "version and the commit it was built from.\n";
}

int Usage() {
  Usage(std::cerr);
  return 2;
}

template <typename Fn>
int Run(const cli::Command& cmd, int argc, char** argv, Fn fn) {
  absl::StatusOr<cli::Args> args = cmd.Parse(argc, argv);
  if (!args.ok()) return cli::ExitWith(args.status());
  if (args->help) {
    std::cout << cmd.Usage();
    return 0;
  }
  return cli::ExitWith(fn(*args));
}

int Main(int argc, char** argv) {
  if (cli::PrintVersionIfAsked(argc, argv, "keyholder")) return 0;
  if (argc < 2) return Usage();
  const std::string sub = argv[1];
  if (sub == "--help" || sub == "-h" || sub == "help") {
    Usage(std::cout);
    return 0;
  }
  if (sub == "keygen") {
    cli::Command cmd("keygen", "Create the key service's OPRF key for one epoch (mode 0600).");
    cmd.Flag("out", "FILE", "where to write the key", true);
    cmd.Flag("epoch", "N", "the token epoch the key serves (>= 1)", true);
    return Run(cmd, argc - 1, argv + 1, [](const cli::Args& a) {
      uint32_t epoch = 0;
      if (!absl::SimpleAtoi(a.Get("epoch"), &epoch) || epoch == 0) {
        return absl::InvalidArgumentError("--epoch must be a number >= 1");
      }
      return KeygenCommand(a.Get("out"), epoch, std::cout);
    });
  }
  if (sub == "audit-keygen") {
    cli::Command cmd("audit-keygen",
                     "Create the Ed25519 key that signs the trail (mode 0600); prints its public "
                     "key for the privacy officer.");
    cmd.Flag("out", "FILE", "where to write the key (outside data_dir)", true);
    return Run(cmd, argc - 1, argv + 1, [](const cli::Args& a) {
      return AuditKeygenCommand(a.Get("out"), std::cout, std::cerr);
    });
  }
  if (sub == "serve") {
    cli::Command cmd("serve", "Run the key service (mutual TLS; only agency certificates may evaluate).");
    cmd.Flag("config", "FILE", "KeyholderConfig in Protobuf text format", true);
    cmd.Flag("port-file", "FILE", "write the bound port here once listening");
    return Run(cmd, argc - 1, argv + 1, [](const cli::Args& a) {
      return ServeCommand(a.Get("config"), a.Get("port-file"));
    });
  }
  if (sub == "audit") {
    const std::string what = argc >= 3 ? argv[2] : "";
    if (what == "--help" || what == "-h" || what.empty()) {
      (what.empty() ? std::cerr : std::cout)
          << "usage: keyholder audit verify|report [flags]  (--help for each)\n";
      return what.empty() ? 2 : 0;
    }
    cli::Command cmd("audit " + what, what == "verify"
                                          ? "Verify the key service's signed, hash-chained trail offline."
                                          : "Evaluations per node and day, from the verified trail.");
    cmd.Flag("data-dir", "DIR", "the key service's data_dir (keyholder.db)", true);
    cmd.Flag("public-key", "B64", "the trail signing key's public half, as the officer keeps it");
    if (what == "verify") cmd.Flag("checkpoint", "FILE", "a signed checkpoint (repeatable)");
    if (what != "verify" && what != "report") return Usage();
    return Run(cmd, argc - 2, argv + 2, [&](const cli::Args& a) {
      if (what == "verify") {
        return AuditVerifyCommand(a.Get("data-dir"), a.Get("public-key"), a.GetAll("checkpoint"), std::cout);
      }
      return AuditReportCommand(a.Get("data-dir"), a.Get("public-key"), std::cout);
    });
  }
  return Usage();
}

}  // namespace
}  // namespace samenzicht::keyholder

int main(int argc, char** argv) { return samenzicht::keyholder::Main(argc, argv); }
