#include "agency_node/pipeline.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agency_node/csv.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"

namespace samenzicht::agency_node {

int PreparedReports::degraded_records() const {
  std::set<std::pair<int, std::string>> records;
  for (const RecordIssue& w : warnings) records.emplace(w.line, w.record_id);
  return static_cast<int>(records.size());
}

absl::StatusOr<PreparedReports> PrepareReports(const std::string& csv_path,
                                               const Normaliser& normaliser,
                                               const Tokeniser& tokeniser,
                                               const SignalOptions& options) {
  ASSIGN_OR_RETURN(CsvFile csv, ReadCsvFile(csv_path));
  auto parsed = ParseSignals(csv, normaliser, options);
  if (!parsed.ok()) {
    return absl::Status(parsed.status().code(),
                        absl::StrCat(csv_path, ": ", parsed.status().message()));
  }
  PreparedReports out;
  out.notices = std::move(csv.notices);
  csv = CsvFile();  // the raw fields hold identifiers: drop them now
  out.records_read = parsed->records_read;
  out.skipped = std::move(parsed->skipped);
  out.warnings = std::move(parsed->warnings);
  out.reports.reserve(parsed->signals.size());
  out.record_ids.reserve(parsed->signals.size());
  if (tokeniser.oprf_mode()) {
    // One key service call per run of records (Tokeniser::TokeniseBatch).
    std::vector<const Person*> persons;
    std::vector<std::string*> packed;
    persons.reserve(parsed->signals.size());
    packed.reserve(parsed->signals.size());
    for (Signal& s : parsed->signals) {
      persons.push_back(&s.person);
      packed.push_back(s.report.mutable_packed_tokens());
    }
    absl::Status st = tokeniser.TokeniseBatch(persons, packed);
    if (!st.ok()) {
      for (Signal& s : parsed->signals) s.person = Person();
      return st;
    }
  }
  for (Signal& s : parsed->signals) {
    if (!tokeniser.oprf_mode()) tokeniser.Tokenise(s.person, s.report.mutable_packed_tokens());
    s.person = Person();
    out.record_ids.push_back(std::move(s.record_id));
    out.reports.push_back(std::move(s.report));
  }
  return out;
}

void LogIssues(const PreparedReports& prepared, spdlog::logger& log, const std::string& file) {
  const std::string prefix = file.empty() ? "" : file + ": ";
  for (const auto& n : prepared.notices) log.warn("{}{}", prefix, n);
  for (const auto& s : prepared.skipped) log.error("{}skipped: {}", prefix, FormatIssue(s));
  for (const auto& w : prepared.warnings) log.warn("{}{}", prefix, FormatIssue(w));
}

absl::StatusOr<std::unique_ptr<Tokeniser>> TokeniserFromKeyFile(const v1::LinkageProfile& profile,
                                                                const std::string& key_file) {
  ASSIGN_OR_RETURN(crypto::LoadedKey key, crypto::LoadKeyFile(key_file, crypto::KeyKind::kHashing));
  ASSIGN_OR_RETURN(auto hasher,
                   crypto::KeyedHasher::New(key.bytes, kTokenPurpose, key.epoch, RuleNames(profile)));
  return Tokeniser::New(profile, std::move(hasher));
}

}  // namespace samenzicht::agency_node
