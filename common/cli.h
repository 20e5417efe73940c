// A small command-line parser for subcommands with `--flag value` / `--flag=value` and
// positional arguments. Unknown flags are errors that name the flag.
//
//   samenzicht::cli::Command cmd("keygen", "Create a new shared hashing key.");
//   cmd.Flag("out", "FILE", "where to write the key", /*required=*/true);
//   auto args = cmd.Parse(argc, argv);      // argv[0] is the subcommand name
//   if (!args.ok()) { ... }                 // InvalidArgument naming the flag
//   if (args->help) { std::cout << cmd.Usage(); }
//   std::string out = args->Get("out");
#ifndef SAMENZICHT_COMMON_CLI_H_
#define SAMENZICHT_COMMON_CLI_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace samenzicht::cli {

struct Args {
  bool help = false;
  std::map<std::string, std::string> flags;        // last value of each flag
  std::multimap<std::string, std::string> all;     // every value, for repeatable flags
  std::vector<std::string> positional;

  bool Has(const std::string& name) const { return flags.count(name) > 0; }
  // The flag's value, or `fallback` when absent.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value given for a repeatable flag, in order; comma-separated values are split.
  std::vector<std::string> GetAll(const std::string& name) const;
};

class Command {
 public:
  Command(std::string name, std::string summary);

  // A flag that takes a value. `metavar` names the value in the usage text.
  Command& Flag(std::string name, std::string metavar, std::string help, bool required = false);
  // A flag without a value (`--keep-running`).
  Command& Switch(std::string name, std::string help);
  // Positional arguments, described in the usage text; `min` of them are required.
  Command& Positional(std::string metavar, std::string help, int min = 0);

  // Parses argv[1..argc). Returns InvalidArgument naming an unknown flag, a missing value
  // or a missing required flag. `--help` / `-h` short-circuits the required checks.
  absl::StatusOr<Args> Parse(int argc, char** argv) const;
  std::string Usage() const;
  const std::string& name() const { return name_; }

 private:
  struct Spec {
    std::string name, metavar, help;
    bool required = false;
    bool is_switch = false;
  };
  std::string name_, summary_;
  std::vector<Spec> specs_;
  std::string positional_metavar_, positional_help_;
  int positional_min_ = 0;
};

// Runs `fn` and turns a failed status into one line on stderr ("error: ...") and exit
// code 1; usage errors (InvalidArgument from Parse) exit with 2.
int ExitWith(const absl::Status& status);

}  // namespace samenzicht::cli

#endif  // SAMENZICHT_COMMON_CLI_H_
