#include "aggregator/present/insight_format.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "aggregator/present/totals_format.h"
#include "aggregator/query/disclosure.h"
#include "common/json.h"

namespace samenzicht::aggregator {
namespace {

// A number rounded to a whole one, as a JSON literal (null when it is not finite).
std::string Num(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.0f", v);
}

// The overlap cells and trend points of the JSON: each on a line of its own under the member
// that holds them; the closing bracket follows the last.
constexpr json::Layout kCellsOnLines{"\n    ", ",", ": ", ""};

// Strings as a JSON array on one line.
template <typename Container>
json::JsonArray Strings(const Container& values) {
  json::JsonArray a(json::kSpaced);
  for (const std::string& v : values) a.Add(v);
  return a;
}

using Table = std::vector<std::vector<std::string>>;

std::string Render(const Table& t, const std::string& format) {
  std::string out;
  if (format == "csv") {
    for (const auto& row : t) {
      for (size_t i = 0; i < row.size(); ++i) absl::StrAppend(&out, i ? "," : "", row[i]);
      out += "\n";
    }
    return out;
  }
  std::vector<size_t> w;
  for (const auto& row : t) {
    if (w.size() < row.size()) w.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
  }
  for (size_t r = 0; r < t.size(); ++r) {
    for (size_t i = 0; i < t[r].size(); ++i) {
      std::string pad(w[i] - t[r][i].size(), ' ');
      absl::StrAppend(&out, i ? "  " : "", i == 0 ? t[r][i] + pad : pad + t[r][i]);
    }
    out += "\n";
    if (r == 0) {
      size_t len = 0;
      for (size_t x : w) len += x + 2;
      out += std::string(len - 2, '-') + "\n";
    }
  }
  return out;
}

// Parts of the estimator's wording and the labels they stand for (insight_format.h).
struct EstimateNote {
  const char* english;  // a part of the estimator's sentence
  const char* key;      // its label (presentation/labels.tsv)
};
constexpr EstimateNote kEstimateReasons[] = {
    {"reporting domains with signals in the period", "estimateTooFewLists"},
    {"more reporting domains than the estimator supports", "estimateTooManyLists"},
    {"holds no person", "estimateEmptyList"},
    {"hold exactly the same", "estimateDuplicatedList"},
    {"no person with any other list, so", "estimateIsolatedList"},
    {"fits the table badly", "estimateBadFit"},
    {"persons seem to differ in how visible they are", "estimateHeterogeneityRefused"},
    {"is too wide to be informative", "estimateTooWide"},
    {"has no finite upper limit", "estimateNoUpperLimit"},
    {"beyond the middle of the bootstrap estimates", "estimateIntervalUntrusted"},
    {"too sparse", "estimateTooSparse"},
};
constexpr EstimateNote kEstimateWarnings[] = {
    {"The lower limit of the interval is the smallest of the", "estimateLowerAtSmallest"},
    {"The upper limit of the interval is the largest of the", "estimateUpperAtLargest"},
    {"WARNING: persons seem to differ in how visible they are", "estimateHeterogeneity"},
    {"no person with any other list: ", "estimateIsolatedListWarning"},
};

// The label of the first note whose wording `sentence` contains; empty if none.
template <size_t N>
std::string NoteKey(const EstimateNote (&notes)[N], const std::string& sentence) {
  for (const EstimateNote& n : notes) {
    if (absl::StrContains(sentence, n.english)) return n.key;
  }
  return "";
}

}  // namespace

std::string EstimateReasonLabel(const std::string& reason) {
  return NoteKey(kEstimateReasons, reason);
}

std::vector<std::string> EstimateWarningLabels(const v1::HiddenNumberEstimate& e) {
  std::vector<std::string> keys;
  for (const std::string& c : e.caveats()) {
    std::string key = NoteKey(kEstimateWarnings, c);
    if (!key.empty() && std::find(keys.begin(), keys.end(), key) == keys.end()) {
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

std::string FormatInsightJson(const v1::InsightResponse& r) {
  const uint32_t k = r.min_cell_size();
  json::JsonObject out(json::kMembersOnLines);
  out.Add("from_month", r.from_month())
      .Add("to_month", r.to_month())
      .Add("period", PeriodText(r.from_month(), r.to_month()))
      .Add("min_cell_size", k)
      .AddRaw("total_persons", JsonCount(r.total_persons(), k))
      .AddRaw("total_signals", JsonCount(r.total_signals(), k))
      .AddRaw("unlinkable_signals", JsonCount(r.unlinkable_signals(), k))
      .AddRaw("persons_lower_bound", JsonCount(r.persons_lower_bound(), k))
      .Add("signals_per_person", r.signals_per_person());
  if (const v1::LinkageError& l = r.linkage_error(); l.available()) {
    out.Add("linkage_error",
            json::JsonObject(json::kSpaced)
                .Add("available", true)
                .Add("persons_maybe_counted_twice", l.persons_maybe_counted_twice())
                .Add("links_maybe_wrong", l.links_maybe_wrong())
                .Add("sentence", l.sentence()));
  }
  json::JsonArray agency_counts(json::kSpaced);
  for (const v1::AgencyCountRow& a : r.agency_counts()) {
    agency_counts.Add(json::JsonObject(json::kSpaced)
                          .Add("agencies", a.agencies())
                          .AddRaw("persons", JsonCount(a.persons(), k)));
  }
  json::JsonArray overlap(kCellsOnLines);
  for (const v1::OverlapCell& c : r.overlap()) {
    overlap.Add(json::JsonObject(json::kSpaced)
                    .Add("row", c.row())
                    .Add("column", c.column())
                    .AddRaw("persons", JsonCount(c.persons(), k)));
  }
  json::JsonArray trend(kCellsOnLines);
  for (const v1::TrendPoint& t : r.trend()) {
    trend.Add(json::JsonObject(json::kSpaced)
                  .Add("period", t.period())
                  .AddRaw("persons", JsonCount(t.persons(), k))
                  .AddRaw("signals", JsonCount(t.signals(), k)));
  }
  const v1::HiddenNumberEstimate& e = r.estimate();
  json::JsonObject estimate(json::kSpaced);
  estimate.Add("available", e.available())
      .Add("reason", e.reason())
      .Add("lists", Strings(e.lists()))
      .Add("observed", e.observed())
      .AddRaw("estimate", e.available() ? Num(e.estimate()) : "null")
      .AddRaw("lower", e.available() ? Num(e.lower()) : "null")
      .AddRaw("upper", e.available() ? Num(e.upper()) : "null")
      .Add("interval_method", e.interval_method())
      .Add("model", e.model())
      .Add("caveats", Strings(e.caveats()))
      .Add("reason_label", EstimateReasonLabel(e.reason()))
      .Add("warning_labels", Strings(EstimateWarningLabels(e)));
  out.Add("agency_counts", agency_counts)
      .Add("overlap_domains", Strings(r.overlap_domains()))
      .Add("overlap", overlap)
      .Add("granularity", r.granularity() == v1::TREND_GRANULARITY_QUARTER ? "quarter" : "month")
      .Add("trend", trend)
      .Add("estimate", estimate)
      .Add("counting_rules", r.counting_rules())
      .Add("disclosure_rules", r.disclosure_rules());
  // The Cell Key Method's parameters the server applied, read back from its rules, so that
  // a legend states them rather than assuming the defaults.
  if (absl::StatusOr<CellKeyParams> p = ParseCellKeyRules(r.disclosure_rules()); p.ok()) {
    out.Add("cell_key", json::JsonObject(json::kSpaced)
                            .Add("k", p->k)
                            .Add("max_noise", p->max_noise)
                            .Add("tail_noise", p->tail_noise)
                            .Add("tail_one_in", p->tail_one_in));
  }
  return out.str() + "\n";
}

absl::StatusOr<std::string> FormatInsight(const v1::InsightResponse& r, const std::string& view,
                                          const std::string& format) {
  if (format != "table" && format != "csv" && format != "json") {
    return absl::InvalidArgumentError("--format must be table, csv or json");
  }
  if (format == "json") return FormatInsightJson(r);
  const uint32_t k = r.min_cell_size();
  Table t;
  if (view == "summary") {
    t.push_back({"measure", "value"});
    t.push_back({"persons", FormatCount(r.total_persons(), k)});
    t.push_back({"signals", FormatCount(r.total_signals(), k)});
    t.push_back({"unlinkable_signals", FormatCount(r.unlinkable_signals(), k)});
    t.push_back({"persons_lower_bound", FormatCount(r.persons_lower_bound(), k)});
    t.push_back({"persons_upper_bound", FormatCount(r.total_persons(), k)});
    t.push_back({"signals_per_person", FormatRatio(r.signals_per_person())});
    if (r.linkage_error().available()) {
      t.push_back({"persons_maybe_counted_twice",
                   absl::StrCat(r.linkage_error().persons_maybe_counted_twice())});
      t.push_back({"links_maybe_wrong", absl::StrCat(r.linkage_error().links_maybe_wrong())});
    }
    const auto& e = r.estimate();
    if (e.available()) {
      t.push_back({"estimated_persons", Num(e.estimate())});
      t.push_back({"estimate_lower_95", Num(e.lower())});
      t.push_back({"estimate_upper_95", Num(e.upper())});
    } else if (e.reason() != "not requested") {
      t.push_back({"estimated_persons", format == "csv" ? "" : e.reason()});
    }
  } else if (view == "agencies") {
    t.push_back({"agencies", "persons"});
    for (const auto& a : r.agency_counts())
      t.push_back({a.agencies(), FormatCount(a.persons(), k)});
    t.push_back({"total", FormatCount(r.total_persons(), k)});
  } else if (view == "overlap") {
    std::vector<std::string> head = {"domain"};
    for (const auto& d : r.overlap_domains()) head.push_back(d);
    t.push_back(head);
    size_t n = static_cast<size_t>(r.overlap_domains_size());
    for (size_t i = 0; i < n; ++i) {
      std::vector<std::string> row = {r.overlap_domains(static_cast<int>(i))};
      for (size_t j = 0; j < n; ++j) {
        row.push_back(FormatCount(r.overlap(static_cast<int>(i * n + j)).persons(), k));
      }
      t.push_back(row);
    }
  } else if (view == "trend") {
    t.push_back({r.granularity() == v1::TREND_GRANULARITY_QUARTER ? "quarter" : "month", "persons",
                 "signals"});
    for (const auto& p : r.trend()) {
      t.push_back({p.period(), FormatCount(p.persons(), k), FormatCount(p.signals(), k)});
    }
    t.push_back({"total", FormatCount(r.total_persons(), k), FormatCount(r.total_signals(), k)});
  } else {
    return absl::InvalidArgumentError("--view must be totals, summary, agencies, overlap or trend");
  }
  std::string out = Render(t, format);
  if (format == "table") {
    out += "\n" + PeriodFooter(r.from_month(), r.to_month()) +
           ProtectionFooter(r.disclosure_rules(), k);
  }
  if (format == "table" && view == "overlap") {
    out += "diagonal: persons signalled by the domain; elsewhere: by both domains\n";
  }
  return out;
}

}  // namespace samenzicht::aggregator
