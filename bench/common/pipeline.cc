#include "bench/common/pipeline.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "common/status_macros.h"

namespace samenzicht::bench {

absl::Status RunCommand(const std::vector<std::string>& argv, const std::string& log,
                        int also_ok) {
  std::cout.flush();  // or the child's freopen would write our buffered output again
  std::fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    FILE* f = std::freopen(log.c_str(), "w", stdout);
    (void)f;
    dup2(fileno(stdout), 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == also_ok)) {
    return absl::OkStatus();
  }
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string tail = ss.str();
  if (tail.size() > 600) tail = "..." + tail.substr(tail.size() - 600);
  return absl::InternalError(absl::StrCat("command failed (", absl::StrJoin(argv, " "),
                                          "), exit ", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                          ": ", tail));
}

absl::StatusOr<std::string> MakeTempDir(const std::string& name) {
  const char* t = std::getenv("TMPDIR");
  std::string tmpl = std::string(t && *t ? t : "/tmp") + "/" + name + ".XXXXXX";
  if (!mkdtemp(tmpl.data())) return absl::InternalError("cannot create a working folder");
  return tmpl;
}

absl::Status MakeKey(const Tools& tools, const std::string& key) {
  return RunCommand({tools.agency_node, "keygen", "--out", key}, key + ".log");
}

namespace {

// Lines of a CSV file with a header and `fields` plain (unquoted) fields per line.
absl::StatusOr<std::vector<std::vector<std::string>>> ReadPlainCsv(const std::string& path,
                                                                   size_t fields) {
  ASSIGN_OR_RETURN(std::string text, files::ReadFile(path));
  std::vector<std::vector<std::string>> rows;
  bool header = true;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++line_no;
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> f = absl::StrSplit(line, ',');
    if (f.size() != fields) {
      return absl::DataLossError(absl::StrCat(path, ": line ", line_no, " has ", f.size(),
                                              " fields, expected ", fields));
    }
    rows.push_back(std::move(f));
  }
  return rows;
}

}  // namespace

absl::StatusOr<LinkedSimulation> PseudonymiseAndLink(const Tools& tools,
                                                     const simulator::Simulation& simulation,
                                                     const std::string& sim_dir,
                                                     const std::string& key,
                                                     const std::string& profile,
                                                     const std::string& out_dir) {
  RETURN_IF_ERROR(files::MakeDirs(out_dir));
  std::unordered_map<std::string, int> index_of;
  for (size_t i = 0; i < simulation.records.size(); ++i) {
    index_of[simulation.records[i].record_id] = static_cast<int>(i);
  }
  LinkedSimulation out;
  for (const simulator::Agency& a : simulation.agencies) {
    const std::string jsonl = out_dir + "/" + a.name + ".jsonl";
    const std::string map = out_dir + "/" + a.name + ".map.csv";
    RETURN_IF_ERROR(RunCommand({tools.agency_node, "pseudonymise", "--key", key, "--in",
                                sim_dir + "/" + a.name + ".csv", "--out", jsonl, "--map", map,
                                "--profile", profile},
                               out_dir + "/" + a.name + ".log", kExitFieldsNotUsed));
    out.jsonl.push_back(jsonl);
    ASSIGN_OR_RETURN(auto rows, ReadPlainCsv(map, 2));  // record_id,report_id
    for (const auto& f : rows) {
      auto it = index_of.find(f[0]);
      if (it == index_of.end()) {
        return absl::DataLossError(absl::StrCat(map, ": unknown record ", f[0]));
      }
      out.record_of_report[f[1]] = it->second;
    }
  }
  std::vector<std::string> link = {tools.aggregator, "link",   "--out",
                                   out_dir + "/persons.csv", "--profile", profile};
  link.insert(link.end(), out.jsonl.begin(), out.jsonl.end());
  RETURN_IF_ERROR(RunCommand(link, out_dir + "/link.log"));

  out.person_of_record.assign(simulation.records.size(), -1);
  ASSIGN_OR_RETURN(auto persons, ReadPlainCsv(out_dir + "/persons.csv", 2));  // report,person
  std::unordered_map<int, int> dense;  // person id -> 0, 1, ... by first appearance
  for (const auto& f : persons) {
    auto it = out.record_of_report.find(f[0]);
    int person = 0;
    if (it == out.record_of_report.end() || !absl::SimpleAtoi(f[1], &person) || person < 1) {
      return absl::DataLossError("persons.csv: a row names an unknown report or a bad person id");
    }
    if (out.person_of_record[it->second] >= 0) {
      return absl::DataLossError("persons.csv: a report appears twice");
    }
    auto [label, added] = dense.emplace(person, out.persons);
    if (added) ++out.persons;
    out.person_of_record[it->second] = label->second;
    ++out.linked_records;
  }
  return out;
}

}  // namespace samenzicht::bench
