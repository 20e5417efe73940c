#include "aggregator/offline_link.h"

#include <fstream>

#include <google/protobuf/util/json_util.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "aggregator/linkage.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::aggregator {

absl::StatusOr<LinkSummary> LinkJsonlFiles(const std::vector<std::string>& inputs,
                                           uint32_t max_reports_per_token, std::ostream* out,
                                           std::ostream* warnings) {
  LinkSummary summary;
  std::vector<std::string> report_ids;
  std::vector<std::string> rule_names;
  absl::flat_hash_map<std::string, uint16_t> rule_index;
  TokenTable tokens;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;

  for (const std::string& path : inputs) {
    std::ifstream in(path);
    if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
    std::string line;
    uint64_t line_no = 0;
    v1::Report report;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      report.Clear();
      auto st = google::protobuf::util::JsonStringToMessage(line, &report, options);
      if (!st.ok()) {
        ++summary.skipped_lines;
        *warnings << "warning: " << path << ":" << line_no
                  << ": not a report (JSON does not parse as samenzicht.v1.Report); skipped\n";
        continue;
      }
      uint32_t index = static_cast<uint32_t>(report_ids.size());
      report_ids.push_back(report.report_id());
      if (!report.packed_tokens().empty()) {
        // Packed entries name their rule by its position in a profile this command does not
        // have; `agency-node pseudonymise` writes the named form.
        *warnings << "warning: " << path << ":" << line_no
                  << ": packed_tokens cannot be read without the linkage profile; left out of "
                     "the linkage\n";
      }
      for (int i = 0; i < report.tokens_size(); ++i) {
        const v1::Token& t = report.tokens(i);
        if (t.value().size() != kTokenSize || t.rule().empty() ||
            !v1::TokenRole_IsValid(t.role())) {
          *warnings << "warning: " << path << ":" << line_no << ": tokens[" << i
                    << "] is not a rule with a 32-byte value and a known role; left out of "
                       "the linkage\n";
          continue;
        }
        auto it = rule_index.find(t.rule());
        if (it == rule_index.end()) {
          if (rule_names.size() >= kMaxRules) {
            return absl::InvalidArgumentError(
                absl::StrCat(path, ":", line_no, ": more than ", kMaxRules, " distinct rules"));
          }
          it = rule_index.emplace(t.rule(), static_cast<uint16_t>(rule_names.size())).first;
          rule_names.push_back(t.rule());
        }
        tokens.Add(index, it->second, t.value(), static_cast<TokenRole>(t.role()));
      }
    }
    if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read error"));
  }

  LinkResult link = Link(static_cast<uint32_t>(report_ids.size()), tokens, max_reports_per_token,
                         rule_names.size());
  *out << "report_id,person_id\n";
  for (size_t i = 0; i < report_ids.size(); ++i) {
    *out << report_ids[i] << "," << (link.person[i] + 1) << "\n";
  }
  summary.reports = report_ids.size();
  summary.persons = link.persons;
  summary.unlinkable = link.unlinkable_reports;
  summary.ambiguous_probe_reports = link.ambiguous_probe_reports;
  for (size_t r = 0; r < rule_names.size(); ++r) {
    if (link.oversized_tokens[r] > 0) summary.oversized_tokens[rule_names[r]] = link.oversized_tokens[r];
  }
  return summary;
}

std::string FormatSummary(const LinkSummary& s) {
  uint64_t oversized = 0;
  std::string per_rule;
  for (const auto& [rule, n] : s.oversized_tokens) {
    oversized += n;
    absl::StrAppend(&per_rule, per_rule.empty() ? " (" : ", ", rule, "=", n);
  }
  if (!per_rule.empty()) per_rule += ")";
  return absl::StrCat("reports=", s.reports, " persons=", s.persons, " unlinkable=", s.unlinkable,
                      " oversized_tokens_ignored=", oversized, per_rule,
                      " skipped_lines=", s.skipped_lines,
                      " ambiguous_probe_reports=", s.ambiguous_probe_reports);
}

}  // namespace samenzicht::aggregator
