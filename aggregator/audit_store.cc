#include "aggregator/audit_store.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "audit/aggregator_events.h"
#include "audit/keyholder_trail.h"
#include "aggregator/store/offline.h"
#include "aggregator/store/store.h"
#include "common/month.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/signature.h"
#include "model/vocabulary.h"

namespace samenzicht::aggregator {

absl::StatusOr<Trail> ReadTrail(const std::string& data_dir) {
  ASSIGN_OR_RETURN(auto db, OpenDatabaseReadOnly(data_dir));
  ASSIGN_OR_RETURN(StoredTrail stored, ReadAuditTrail(*db));
  Trail t;
  t.entries = std::move(stored.entries);
  t.stored_public_key = std::move(stored.stored_public_key);
  return t;
}

absl::StatusOr<VerifyOutcome> VerifyTrail(const std::string& data_dir, const VerifyOptions& options) {
  std::vector<audit::Checkpoint> checkpoints;
  for (const std::string& file : options.checkpoint_files) {
    std::ifstream in(file);
    if (!in) return absl::NotFoundError(absl::StrCat(file, ": cannot read the checkpoint file"));
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      if (line.empty() || line == "\r") continue;
      auto c = audit::Checkpoint::Parse(line);
      if (!c.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(file, ": ", c.status().message()));
      }
      RETURN_IF_ERROR(audit::VerifyCheckpointSignature(*c));
      checkpoints.push_back(*std::move(c));
      ++n;
    }
    if (n == 0) return absl::InvalidArgumentError(absl::StrCat(file, ": holds no checkpoint"));
  }
  VerifyOutcome out;
  Trail trail;
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(data_dir) / kDatabaseFileName, ec) &&
      audit::IsKeyholderDataDir(data_dir)) {
    ASSIGN_OR_RETURN(audit::StoredTrail stored, audit::ReadKeyholderTrail(data_dir));
    trail.entries = std::move(stored.entries);
    trail.stored_public_key = std::move(stored.stored_public_key);
    out.key_service = true;
  } else {
    ASSIGN_OR_RETURN(trail, ReadTrail(data_dir));
  }

  std::string key;
  if (!options.public_key_b64.empty()) {
    auto k = crypto::Base64Decode(options.public_key_b64);
    if (!k.ok() || k->size() != crypto::kPublicKeyBytes) {
      return absl::InvalidArgumentError("--public-key is not a base64 Ed25519 public key");
    }
    key = *k;
    out.trust_source = "--public-key";
  } else if (!checkpoints.empty()) {
    key = checkpoints.front().public_key;
    out.trust_source = "checkpoint";
  } else if (!trail.stored_public_key.empty()) {
    key = trail.stored_public_key;
    out.trust_source = "data directory";
    out.warnings.push_back(
        "the public key was taken from the data directory itself: it is trusted only because "
        "it was found there. Someone who rewrote the database could have replaced it; give "
        "--public-key or --checkpoint with a copy kept outside the system");
  } else {
    return absl::FailedPreconditionError(
        "no key to verify with: give --public-key or --checkpoint");
  }
  for (const audit::Checkpoint& c : checkpoints) {
    if (!crypto::ConstantTimeEquals(c.public_key, key)) {
      return absl::UnauthenticatedError(absl::StrCat(
          "checkpoint for entry ", c.seq, " is signed by key ", crypto::Base64Encode(c.public_key),
          ", not by the trusted key ", crypto::Base64Encode(key)));
    }
  }
  if (!trail.stored_public_key.empty() && !crypto::ConstantTimeEquals(trail.stored_public_key, key)) {
    out.warnings.push_back(absl::StrCat("the key stored in the data directory (",
                                        crypto::Base64Encode(trail.stored_public_key),
                                        ") is not the trusted key"));
  }
  ASSIGN_OR_RETURN(crypto::Verifier verifier, crypto::Verifier::New(key));
  out.trusted_key_b64 = crypto::Base64Encode(key);
  if (checkpoints.empty()) {
    ASSIGN_OR_RETURN(audit::VerifyResult r, audit::Verify(trail.entries, verifier, std::nullopt));
    out.entries = r.entries;
    out.head_hash_hex = crypto::ToHex(r.head_hash);
    out.warnings.push_back(
        "no checkpoint given: entries removed from the end of the trail cannot be detected");
  }
  for (const audit::Checkpoint& c : checkpoints) {
    ASSIGN_OR_RETURN(audit::VerifyResult r, audit::Verify(trail.entries, verifier, c));
    out.entries = r.entries;
    out.head_hash_hex = crypto::ToHex(r.head_hash);
    ++out.checkpoints_checked;
  }
  return out;
}

namespace {

struct Row {
  int64_t batches = 0, reports = 0, accepted = 0, duplicates = 0, refused_reports = 0;
  int64_t batches_refused = 0, retractions = 0, retracted = 0;
  int64_t queries = 0, suppressed_cells = 0, purges = 0, purged_reports = 0;
  int64_t evaluations = 0, evaluation_refusals = 0;  // at the key service
  // Reports of released months taken out of the places they were frozen in (retracted or
  // corrected), from the aggregator's `disclosure_departure` entries, by their agency.
  int64_t left_released = 0;
};

const char* kColumns[] = {"month", "party", "batches", "reports", "accepted", "duplicates",
                          "refused_reports", "batches_refused", "retractions", "retracted",
                          "queries", "suppressed_cells", "purges", "purged_reports",
                          "left_released"};

// The key service's columns, after kColumns, when its trail is given.
const char* kKeyServiceColumns[] = {"evaluations", "evaluation_refusals"};

std::vector<int64_t> Values(const Row& r, bool key_service) {
  std::vector<int64_t> v = {r.batches,       r.reports,         r.accepted,    r.duplicates,
                            r.refused_reports, r.batches_refused, r.retractions, r.retracted,
                            r.queries,       r.suppressed_cells, r.purges,      r.purged_reports,
                            r.left_released};
  if (key_service) {
    v.push_back(r.evaluations);
    v.push_back(r.evaluation_refusals);
  }
  return v;
}

}  // namespace

absl::StatusOr<std::string> AuditReport(const std::vector<audit::Entry>& entries,
                                        const ReportOptions& options) {
  if (options.format != "table" && options.format != "csv" && options.format != "json") {
    return absl::InvalidArgumentError("--format must be table, csv or json");
  }
  std::map<std::pair<uint32_t, std::string>, Row> rows;
  for (const audit::Entry& e : entries) {
    uint32_t month = MonthOfMs(e.time_ms);
    if (options.from_month != 0 && month < options.from_month) continue;
    if (options.to_month != 0 && month > options.to_month) continue;
    // An entry whose details do not parse is left out (the verification reports it).
    const std::pair<uint32_t, std::string> key{month, e.actor};
    if (e.event == kEventBatchReceived) {
      absl::StatusOr<BatchReceivedEvent> d = BatchReceivedEvent::FromJson(e.details);
      if (!d.ok()) continue;
      Row& r = rows[key];
      ++r.batches;
      r.reports += d->reports;
      r.accepted += d->accepted;
      r.duplicates += d->duplicates;
      r.refused_reports += d->refused;
    } else if (e.event == kEventBatchRefused) {
      if (!BatchRefusedEvent::FromJson(e.details).ok()) continue;
      ++rows[key].batches_refused;
    } else if (e.event == kEventRetraction) {
      absl::StatusOr<RetractionEvent> d = RetractionEvent::FromJson(e.details);
      if (!d.ok()) continue;
      Row& r = rows[key];
      ++r.retractions;
      r.retracted += d->retracted;
    } else if (e.event == kEventQuery) {
      absl::StatusOr<QueryEvent> d = QueryEvent::FromJson(e.details);
      if (!d.ok()) continue;
      Row& r = rows[key];
      ++r.queries;
      r.suppressed_cells += d->suppressed.value_or(0);
    } else if (e.event == kEventDisclosureDeparture) {
      absl::StatusOr<DisclosureDepartureEvent> d = DisclosureDepartureEvent::FromJson(e.details);
      if (!d.ok()) continue;
      rows[{month, d->agency}].left_released += d->reports;
    } else if (e.event == kEventPurge) {
      absl::StatusOr<PurgeEvent> d = PurgeEvent::FromJson(e.details);
      if (!d.ok()) continue;
      Row& r = rows[key];
      ++r.purges;
      r.purged_reports += d->reports;
    }
  }
  const bool ks = options.key_service != nullptr;
  if (ks) {
    for (const audit::KeyholderCount& c : *options.key_service) {
      const uint32_t month = MonthOfMs(c.time_ms);
      if (options.from_month != 0 && month < options.from_month) continue;
      if (options.to_month != 0 && month > options.to_month) continue;
      Row& r = rows[{month, c.node}];
      r.evaluations += static_cast<int64_t>(c.evaluations);
      r.evaluation_refusals += static_cast<int64_t>(c.refused_calls);
    }
  }
  // Parties with nothing to report in a month (start/stop only) are left out.
  for (auto it = rows.begin(); it != rows.end();) {
    std::vector<int64_t> v = Values(it->second, ks);
    bool any = false;
    for (int64_t x : v) any |= x != 0;
    it = any ? std::next(it) : rows.erase(it);
  }
  std::ostringstream os;
  if (options.format == "csv") {
    for (size_t i = 0; i < std::size(kColumns); ++i) os << (i ? "," : "") << kColumns[i];
    if (ks) for (const char* c : kKeyServiceColumns) os << "," << c;
    os << "\n";
    for (const auto& [k, r] : rows) {
      os << MonthText(k.first) << "," << k.second;
      for (int64_t v : Values(r, ks)) os << "," << v;
      os << "\n";
    }
  } else if (options.format == "json") {
    os << "[";
    bool first = true;
    for (const auto& [k, r] : rows) {
      JsonObject o;
      o.Add("month", MonthText(k.first)).Add("party", k.second);
      std::vector<int64_t> v = Values(r, ks);
      for (size_t i = 0; i < v.size(); ++i) {
        o.Add(i + 2 < std::size(kColumns) ? kColumns[i + 2] : kKeyServiceColumns[i + 2 - std::size(kColumns)], v[i]);
      }
      os << (first ? "\n " : ",\n ") << o.str();
      first = false;
    }
    os << (rows.empty() ? "]\n" : "\n]\n");
  } else {
    os << absl::StrFormat(
        "%-7s  %-20s  %7s  %7s  %8s  %10s  %7s  %15s  %9s  %7s  %10s  %7s  %6s  %13s", "month",
        "party", "batches", "reports", "accepted", "duplicates", "refused", "batches_refused",
        "retracted", "queries", "suppressed", "purges", "purged", "left_released");
    if (ks) os << absl::StrFormat("  %11s  %19s", "evaluations", "evaluation_refusals");
    os << "\n";
    for (const auto& [k, r] : rows) {
      os << absl::StrFormat(
          "%-7s  %-20s  %7d  %7d  %8d  %10d  %7d  %15d  %9d  %7d  %10d  %7d  %6d  %13d",
          MonthText(k.first), k.second.substr(0, 20), r.batches, r.reports, r.accepted,
          r.duplicates, r.refused_reports, r.batches_refused, r.retracted, r.queries,
          r.suppressed_cells, r.purges, r.purged_reports, r.left_released);
      if (ks) os << absl::StrFormat("  %11d  %19d", r.evaluations, r.evaluation_refusals);
      os << "\n";
    }
    os << rows.size() << " row(s) from " << entries.size() << " audit entries\n";
    for (const auto& [k, r] : rows) {
      if (r.left_released < kLeftReleasedSeries) continue;
      os << absl::StrFormat(
          "check: %s took %d report(s) of released months out of their published places in %s "
          "(retracted or corrected); such a series is how an analyst who runs an agency node "
          "would try to work out a small count (the figures keep their noise: "
          "docs/disclosure.md, section 5). Ask the agency why.\n",
          k.second, r.left_released, MonthText(k.first));
    }
  }
  return os.str();
}

absl::StatusOr<std::map<std::string, TokenShare>> ReadTokenShares(
    const std::string& data_dir, const crypto::SecretBytes& store_key) {
  ASSIGN_OR_RETURN(auto db, OpenDatabaseReadOnly(data_dir));
  std::vector<std::string> agencies;
  absl::flat_hash_map<std::string, uint16_t> agency_index;
  // A token by a 64-bit fingerprint of its stored entry (rule and value).
  absl::flat_hash_map<uint64_t, uint32_t> total;
  absl::flat_hash_map<std::pair<uint64_t, uint16_t>, uint32_t> by_agency;
  RETURN_IF_ERROR(ForEachReportTokens(
      *db, store_key, [&](const std::string& agency, std::string_view blob) {
        auto [it, fresh] = agency_index.emplace(agency, static_cast<uint16_t>(agencies.size()));
        if (fresh) agencies.push_back(agency);
        for (size_t off = 0; off + kStoredTokenBytes <= blob.size(); off += kStoredTokenBytes) {
          uint64_t fp = 0;
          std::memcpy(&fp, blob.data() + off + 2, sizeof fp);
          const uint16_t rule = static_cast<uint16_t>(
              (static_cast<uint8_t>(blob[off]) | static_cast<uint8_t>(blob[off + 1]) << 8) &
              kStoredTokenRuleMask);
          fp ^= static_cast<uint64_t>(rule) << 48;
          ++total[fp];
          ++by_agency[{fp, it->second}];
        }
      }));
  std::map<std::string, TokenShare> out;
  for (const auto& [key, count] : by_agency) {
    TokenShare& s = out[agencies[key.second]];
    const double share = static_cast<double>(count) / total[key.first];
    if (count > s.largest_token_reports ||
        (count == s.largest_token_reports && share > s.largest_token_share)) {
      s.largest_token_reports = count;
      s.largest_token_share = share;
    }
  }
  return out;
}

absl::StatusOr<std::string> AnomalyReport(const std::vector<audit::Entry>& entries,
                                          const std::map<std::string, TokenShare>& shares,
                                          const ReportOptions& options) {
  if (options.format != "table" && options.format != "csv" && options.format != "json") {
    return absl::InvalidArgumentError("--format must be table, csv or json");
  }
  struct Figures {
    int64_t reports = 0, tokens = 0, max_tokens = 0, beyond = 0;
    std::map<uint32_t, int64_t> by_month;  // accepted reports, whole trail
  };
  std::map<std::string, Figures> agencies;
  auto in_period = [&](uint32_t month) {
    return (options.from_month == 0 || month >= options.from_month) &&
           (options.to_month == 0 || month <= options.to_month);
  };
  for (const audit::Entry& e : entries) {
    if (e.event != kEventBatchReceived) continue;
    absl::StatusOr<BatchReceivedEvent> d = BatchReceivedEvent::FromJson(e.details);
    if (!d.ok()) continue;
    const uint32_t month = MonthOfMs(e.time_ms);
    Figures& f = agencies[e.actor];
    f.by_month[month] += d->accepted;
    if (!in_period(month)) continue;
    f.reports += d->accepted;
    f.tokens += d->tokens;
    f.max_tokens = std::max(f.max_tokens, d->max_tokens_per_report);
    f.beyond += d->reports_beyond_profile;
  }
  for (const auto& [agency, s] : shares) agencies[agency];  // agencies with tokens only
  struct Row {
    std::string agency;
    int64_t reports, max_tokens, beyond, busiest_reports, token_reports;
    double tokens_per_report, history_median, ratio, token_share;
    std::string busiest_month;
  };
  std::vector<Row> rows;
  for (const auto& [agency, f] : agencies) {
    Row r{agency, f.reports, f.max_tokens, f.beyond, 0, 0, 0, 0, 0, 0, ""};
    r.tokens_per_report = f.reports > 0 ? static_cast<double>(f.tokens) / f.reports : 0;
    // The month of the period with the most reports, against the median of the months
    // before it (months without a batch count as 0 from the agency's first month on).
    for (const auto& [month, n] : f.by_month) {
      if (!in_period(month) || n <= r.busiest_reports) continue;
      std::vector<int64_t> before;
      uint32_t m = f.by_month.begin()->first;
      while (m < month) {
        auto it = f.by_month.find(m);
        before.push_back(it == f.by_month.end() ? 0 : it->second);
        m = Month(m).Plus(1).yyyymm();
      }
      r.busiest_reports = n;
      r.busiest_month = MonthText(month);
      r.history_median = 0;
      if (!before.empty()) {
        std::sort(before.begin(), before.end());
        const size_t h = before.size();
        r.history_median = h % 2 == 1 ? static_cast<double>(before[h / 2])
                                      : (before[h / 2 - 1] + before[h / 2]) / 2.0;
      }
      r.ratio = r.history_median > 0 ? n / r.history_median : 0;
    }
    if (auto s = shares.find(agency); s != shares.end()) {
      r.token_reports = s->second.largest_token_reports;
      r.token_share = s->second.largest_token_share;
    }
    rows.push_back(r);
  }
  const char* columns[] = {"agency", "reports", "tokens_per_report", "max_tokens_per_report",
                           "reports_beyond_profile", "busiest_month", "busiest_month_reports",
                           "history_median", "vs_history", "largest_token_reports",
                           "largest_token_share"};
  std::ostringstream os;
  auto fixed = [](double v) { return absl::StrFormat("%.2f", v); };
  if (options.format == "csv") {
    for (size_t i = 0; i < std::size(columns); ++i) os << (i ? "," : "") << columns[i];
    os << "\n";
    for (const Row& r : rows) {
      os << r.agency << "," << r.reports << "," << fixed(r.tokens_per_report) << ","
         << r.max_tokens << "," << r.beyond << "," << r.busiest_month << "," << r.busiest_reports
         << "," << fixed(r.history_median) << "," << fixed(r.ratio) << "," << r.token_reports
         << "," << fixed(r.token_share) << "\n";
    }
  } else if (options.format == "json") {
    os << "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      JsonObject o;
      o.Add("agency", r.agency)
          .Add("reports", r.reports)
          .AddRaw("tokens_per_report", fixed(r.tokens_per_report))
          .Add("max_tokens_per_report", r.max_tokens)
          .Add("reports_beyond_profile", r.beyond)
          .Add("busiest_month", r.busiest_month)
          .Add("busiest_month_reports", r.busiest_reports)
          .AddRaw("history_median", fixed(r.history_median))
          .AddRaw("vs_history", fixed(r.ratio))
          .Add("largest_token_reports", r.token_reports)
          .AddRaw("largest_token_share", fixed(r.token_share));
      os << (i ? ",\n " : "\n ") << o.str();
    }
    os << (rows.empty() ? "]\n" : "\n]\n");
  } else {
    os << absl::StrFormat("%-20s  %7s  %10s  %10s  %7s  %7s  %7s  %7s  %10s  %12s  %11s\n", "agency",
                          "reports", "tokens/rep", "max tokens", "beyond", "busiest", "reports",
                          "median", "vs history", "token shared", "token share");
    for (const Row& r : rows) {
      os << absl::StrFormat("%-20s  %7d  %10.2f  %10d  %7d  %7s  %7d  %7.1f  %10.2f  %12d  %11.2f\n",
                            r.agency.substr(0, 20), r.reports, r.tokens_per_report, r.max_tokens,
                            r.beyond, r.busiest_month, r.busiest_reports, r.history_median, r.ratio,
                            r.token_reports, r.token_share);
    }
    os << "beyond: reports with more tokens than one person's report can carry under the "
          "profile; vs history: the busiest month against the median month before it; token "
          "shared/share: the most of the agency's reports sharing one token, and the share of "
          "that token's reports that are the agency's. See docs/security.md.\n";
  }
  return os.str();
}

}  // namespace samenzicht::aggregator
