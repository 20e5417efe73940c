#include "aggregator/linkage/offline_link.h"

#include <fstream>

#include <google/protobuf/util/json_util.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/linkage/probabilistic_linkage.h"
#include "samenzicht/v1/report.pb.h"

namespace samenzicht::aggregator {

absl::StatusOr<LinkSummary> LinkJsonlFiles(const std::vector<std::string>& inputs,
                                           uint32_t max_reports_per_token, std::ostream* out,
                                           std::ostream* warnings) {
  v1::LinkageProfile profile;
  profile.set_max_reports_per_token(max_reports_per_token);
  return LinkJsonlFiles(inputs, profile, out, warnings, nullptr);
}

absl::StatusOr<LinkSummary> LinkJsonlFiles(const std::vector<std::string>& inputs,
                                           const v1::LinkageProfile& profile, std::ostream* out,
                                           std::ostream* warnings, std::ostream* explain) {
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

  if (explain != nullptr) {
    *explain << "report_id_a,report_id_b,shared_rules";
    for (int c = 0; c < kNumComparisons; ++c) *explain << "," << ComparisonName(static_cast<Comparison>(c));
    *explain << ",match_weight,posterior,linked,estimate_posterior\n";
  }
  auto explain_pair = [&](const ExplainedPair& p) {
    std::string rules;
    for (size_t r = 0; r < rule_names.size() && r < 64; ++r) {
      if (p.shared_rules >> r & 1) absl::StrAppend(&rules, rules.empty() ? "" : " ", rule_names[r]);
    }
    *explain << report_ids[p.a] << "," << report_ids[p.b] << "," << rules;
    for (int c = 0; c < kNumComparisons; ++c) {
      if (p.level[c] < 0) *explain << ",missing";
      else *explain << "," << static_cast<int>(p.level[c]);
    }
    *explain << "," << absl::StrFormat("%.2f,%.6f", p.weight, p.posterior) << ","
             << (p.linked ? "yes" : "no") << "," << absl::StrFormat("%.6f", p.estimate_posterior) << "\n";
  };
  ProbabilisticLinkResult result =
      LinkWithProfile(static_cast<uint32_t>(report_ids.size()), tokens, profile, rule_names,
                      explain != nullptr ? std::function<void(const ExplainedPair&)>(explain_pair)
                                         : std::function<void(const ExplainedPair&)>());
  const LinkResult& link = result.link;
  summary.probabilistic = profile.method() == v1::LINKAGE_METHOD_FELLEGI_SUNTER;
  summary.candidate_pairs = result.candidate_pairs;
  summary.estimated_false_links = result.estimated_false_links;
  summary.estimated_missed_links = result.estimated_missed_links;
  if (summary.probabilistic) summary.model = DescribeModel(result.model);
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
  std::string line = absl::StrCat("reports=", s.reports, " persons=", s.persons, " unlinkable=", s.unlinkable,
                      " oversized_tokens_ignored=", oversized, per_rule,
                      " skipped_lines=", s.skipped_lines,
                      " ambiguous_probe_reports=", s.ambiguous_probe_reports);
  if (s.probabilistic) {
    absl::StrAppend(&line, " candidate_pairs=", s.candidate_pairs,
                    absl::StrFormat(" estimated_false_links=%.1f estimated_missed_links=%.1f",
                                    s.estimated_false_links, s.estimated_missed_links));
  }
  return line;
}

}  // namespace samenzicht::aggregator
