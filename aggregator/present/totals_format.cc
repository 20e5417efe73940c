#include "aggregator/present/totals_format.h"

#include <algorithm>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/query/totals.h"
#include "common/json.h"
#include "common/month.h"
#include "model/vocabulary.h"

namespace samenzicht::aggregator {
namespace {

// The rows of the JSON: each on a line of its own under the member that holds them, the
// closing bracket on a line of its own.
constexpr json::Layout kRowsOnLines{"\n    ", ",", ": ", "\n  "};

std::string Cell(const v1::Count& c, uint32_t k) { return FormatCount(c, k); }

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

std::vector<std::string> Header(const v1::TotalsResponse& r) {
  std::vector<std::string> h;
  for (int d : r.by()) h.push_back(model::DimensionName(static_cast<v1::Dimension>(d)));
  h.push_back("persons");
  h.push_back("signals");
  return h;
}

}  // namespace

std::string FormatCount(const v1::Count& c, uint32_t k) {
  if (c.secondary()) return kSecondarySymbol;
  return c.suppressed() ? absl::StrCat("<", k) : absl::StrCat(c.value());
}

std::string FormatRatio(const std::string& ratio) {
  return ratio.empty() ? kSecondarySymbol : ratio;
}

std::string JsonCount(const v1::Count& c, uint32_t k) {
  json::JsonObject o(json::kSpaced);
  if (!c.suppressed() && !c.secondary()) {
    return o.Add("value", c.value()).Add("suppressed", false).str();
  }
  o.AddNull("value").Add("suppressed", true);
  if (c.secondary()) o.Add("secondary", true);
  return o.Add("shown", FormatCount(c, k)).str();
}

std::string FormatTotalsTable(const v1::TotalsResponse& r) {
  const uint32_t k = r.min_cell_size();
  std::vector<std::vector<std::string>> lines;
  lines.push_back(Header(r));
  for (const auto& row : r.rows()) {
    std::vector<std::string> l(row.keys().begin(), row.keys().end());
    l.push_back(Cell(row.persons(), k));
    l.push_back(Cell(row.signals(), k));
    lines.push_back(std::move(l));
  }
  std::vector<std::string> total;
  for (int i = 0; i < r.by_size(); ++i) total.push_back(i == 0 ? "total" : "");
  if (r.by_size() == 0) {
    total.clear();
  }
  total.push_back(Cell(r.total_persons(), k));
  total.push_back(Cell(r.total_signals(), k));
  lines.push_back(total);
  std::vector<size_t> width(lines[0].size(), 0);
  for (const auto& l : lines) {
    for (size_t i = 0; i < l.size(); ++i) width[i] = std::max(width[i], l[i].size());
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& l) {
    for (size_t i = 0; i < l.size(); ++i) {
      bool numeric = i + 2 >= l.size();
      std::string pad(width[i] - l[i].size(), ' ');
      absl::StrAppend(&out, i ? "  " : "", numeric ? pad + l[i] : l[i] + pad);
    }
    out += "\n";
  };
  emit(lines[0]);
  size_t rule_len = 0;
  for (size_t w : width) rule_len += w + 2;
  out += std::string(rule_len - 2, '-') + "\n";
  for (size_t i = 1; i + 1 < lines.size(); ++i) emit(lines[i]);
  if (r.rows_size() > 0) out += std::string(rule_len - 2, '-') + "\n";
  emit(lines.back());
  absl::StrAppend(&out, "\nunlinkable signals (no token): ", Cell(r.unlinkable_signals(), k), "\n",
                  PeriodFooter(r.from_month(), r.to_month()),
                  ProtectionFooter(r.counting_rules(), k));
  return out;
}

std::string PeriodFooter(uint32_t from, uint32_t to) {
  if (from == 0 && to == 0) return "period: every month\n";
  if (from == 0 || to == 0) {
    return absl::StrCat("period: ", from == 0 ? "" : Month(from).Text(), "..",
                        to == 0 ? "" : Month(to).Text(), "\n");
  }
  return absl::StrCat("period: ", PeriodText(from, to), "\n");
}

std::string ProtectionFooter(const std::string& rules, uint32_t k) {
  if (rules.rfind("EXACT, UNPUBLISHED", 0) == 0) {
    return "exact, unpublished counts of every stored report (no disclosure control): do not "
           "publish\n";
  }
  if (rules.find("Cell Key Method") != std::string::npos) {
    const uint32_t s = CellKeyParams{k}.tail();
    return absl::StrCat("figures protected by the Cell Key Method: each is 0 or at least ", k,
                        ", may be off by a few (at most ", s, "; a 0 may hide up to ", k + s - 1,
                        "); the same persons always give the same figure\n");
  }
  return absl::StrCat("cells from 1 to ", k - 1, " are shown as <", k, "; x: withheld so that a <",
                      k, " cell cannot be worked out from the others\n");
}

std::string FormatTotalsCsv(const v1::TotalsResponse& r) {
  const uint32_t k = r.min_cell_size();
  std::string out;
  std::vector<std::string> h = Header(r);
  for (size_t i = 0; i < h.size(); ++i) absl::StrAppend(&out, i ? "," : "", h[i]);
  out += "\n";
  for (const auto& row : r.rows()) {
    for (const auto& key : row.keys()) absl::StrAppend(&out, CsvField(key), ",");
    absl::StrAppend(&out, Cell(row.persons(), k), ",", Cell(row.signals(), k), "\n");
  }
  for (int i = 0; i < r.by_size(); ++i) absl::StrAppend(&out, i == 0 ? "total" : "", ",");
  absl::StrAppend(&out, Cell(r.total_persons(), k), ",", Cell(r.total_signals(), k), "\n");
  return out;
}

std::string FormatTotalsJson(const v1::TotalsResponse& r) {
  const uint32_t k = r.min_cell_size();
  json::JsonArray by(json::kSpaced);
  for (int d : r.by()) by.Add(model::DimensionName(static_cast<v1::Dimension>(d)));
  json::JsonArray rows(kRowsOnLines);
  for (const auto& row : r.rows()) {
    json::JsonArray keys(json::kSpaced);
    for (const std::string& key : row.keys()) keys.Add(key);
    rows.Add(json::JsonObject(json::kSpaced)
                 .Add("keys", keys)
                 .AddRaw("persons", JsonCount(row.persons(), k))
                 .AddRaw("signals", JsonCount(row.signals(), k)));
  }
  return json::JsonObject(json::kMembersOnLines)
             .Add("by", by)
             .Add("rows", rows)
             .AddRaw("total_persons", JsonCount(r.total_persons(), k))
             .AddRaw("total_signals", JsonCount(r.total_signals(), k))
             .AddRaw("unlinkable_signals", JsonCount(r.unlinkable_signals(), k))
             .Add("min_cell_size", k)
             .Add("from_month", r.from_month())
             .Add("to_month", r.to_month())
             .Add("period", PeriodText(r.from_month(), r.to_month()))
             .Add("counting_rules", r.counting_rules())
             .str() +
         "\n";
}

absl::StatusOr<std::string> FormatTotals(const v1::TotalsResponse& r, const std::string& format) {
  if (format == "table" || format.empty()) return FormatTotalsTable(r);
  if (format == "csv") return FormatTotalsCsv(r);
  if (format == "json") return FormatTotalsJson(r);
  return absl::InvalidArgumentError(
      absl::StrCat("--format must be table, csv or json, not '", format.substr(0, 20), "'"));
}

absl::StatusOr<uint32_t> ParseMonthFlag(const std::string& flag, const std::string& text) {
  std::optional<Month> m = Month::Parse(text);
  if (!m.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", flag, " must be a month YYYY-MM, not '", text.substr(0, 20), "'"));
  }
  return m->yyyymm();
}

}  // namespace samenzicht::aggregator
