#include "common/cli.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace samenzicht::cli {

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = flags.find(name);
  return it == flags.end() ? fallback : it->second;
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto [begin, end] = all.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    for (absl::string_view v : absl::StrSplit(it->second, ',', absl::SkipEmpty())) {
      out.emplace_back(v);
    }
  }
  return out;
}

Command::Command(std::string name, std::string summary)
    : name_(std::move(name)), summary_(std::move(summary)) {}

Command& Command::Flag(std::string name, std::string metavar, std::string help,
                       bool required) {
  specs_.push_back({std::move(name), std::move(metavar), std::move(help), required, false});
  return *this;
}

Command& Command::Switch(std::string name, std::string help) {
  specs_.push_back({std::move(name), "", std::move(help), false, true});
  return *this;
}

Command& Command::Positional(std::string metavar, std::string help, int min) {
  positional_metavar_ = std::move(metavar);
  positional_help_ = std::move(help);
  positional_min_ = min;
  return *this;
}

absl::StatusOr<Args> Command::Parse(int argc, char** argv) const {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      args.help = true;
      return args;
    }
    if (!absl::StartsWith(a, "--")) {
      if (positional_metavar_.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ": unexpected argument '", a, "' (see --help)"));
      }
      args.positional.push_back(a);
      continue;
    }
    std::string key = a.substr(2), value;
    bool has_value = false;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
      has_value = true;
    }
    const Spec* spec = nullptr;
    for (const Spec& s : specs_) {
      if (s.name == key) spec = &s;
    }
    if (spec == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": unknown flag --", key, " (see --help)"));
    }
    if (spec->is_switch) {
      if (has_value) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ": flag --", key, " takes no value"));
      }
      args.flags[key] = "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ": flag --", key, " needs a value ", spec->metavar));
      }
      value = argv[++i];
    }
    args.flags[key] = value;
    args.all.emplace(key, value);
  }
  for (const Spec& s : specs_) {
    if (s.required && !args.Has(s.name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ": missing required flag --", s.name, " ", s.metavar));
    }
  }
  if (static_cast<int>(args.positional.size()) < positional_min_) {
    return absl::InvalidArgumentError(
        absl::StrCat(name_, ": expected at least ", positional_min_, " ",
                     positional_metavar_, " argument(s)"));
  }
  return args;
}

std::string Command::Usage() const {
  std::string out = absl::StrCat(name_, ": ", summary_, "\n\nflags:\n");
  for (const Spec& s : specs_) {
    std::string lhs = absl::StrCat("  --", s.name, s.metavar.empty() ? "" : " ", s.metavar);
    if (lhs.size() < 28) lhs.resize(28, ' ');
    absl::StrAppend(&out, lhs, " ", s.help, s.required ? " (required)" : "", "\n");
  }
  if (!positional_metavar_.empty()) {
    absl::StrAppend(&out, "  ", positional_metavar_, "  ", positional_help_, "\n");
  }
  absl::StrAppend(&out, "  --help                       this text\n");
  return out;
}

int ExitWith(const absl::Status& status) {
  if (status.ok()) return 0;
  std::cerr << "error: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace samenzicht::cli
