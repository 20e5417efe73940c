#include "aggregator/present/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aggregator/present/insight_format.h"
#include "aggregator/present/totals_format.h"
#include "aggregator/query/disclosure.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"
#include "presentation/labels.h"

namespace samenzicht::aggregator {
namespace {

std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

bool Hidden(const v1::Count& c) { return c.suppressed() || c.secondary(); }

using presentation::Language;

// A count as shown: FormatCount (totals_format.h) is the one rendering of a withheld cell.
std::string Shown(const v1::Count& c, uint32_t k) { return Esc(FormatCount(c, k)); }

// A withheld count (primary, or secondary suppression), to name its symbol.
v1::Count Withheld(bool secondary) {
  v1::Count c;
  c.set_suppressed(true);
  c.set_secondary(secondary);
  return c;
}

std::string DimensionLabel(v1::Dimension d, Language lang) {
  return presentation::Label(absl::StrCat("dim.", model::DimensionName(d)), lang);
}

std::string CellHtml(const v1::Count& c, uint32_t k, Language lang) {
  if (Hidden(c)) {
    return absl::StrCat("<td class=\"num sup\" title=\"",
                        Esc(presentation::Label("withheld", lang)), "\">", Shown(c, k), "</td>");
  }
  return absl::StrCat("<td class=\"num\">", c.value(), "</td>");
}

// The persons per period as a connected line, the period under every point (every n/12-th
// when there are many) and 0, half and the maximum on the y axis; every label lies inside
// the drawing.
std::string SvgTrend(const v1::InsightResponse& r, Language lang) {
  const int w = 640, h = 230, left = 44, right = 36, bottom = 40, top = 16;
  uint64_t max = 1;
  for (const auto& p : r.trend()) max = std::max(max, p.persons().value());
  int n = r.trend_size();
  if (n == 0) return absl::StrCat("<p>", Esc(presentation::Label("noData", lang)), "</p>");
  double step = n > 1 ? static_cast<double>(w - left - right - 16) / (n - 1) : 0;
  auto x = [&](int i) { return left + 16 + step * i; };
  auto y = [&](uint64_t v) {
    return top + (h - top - bottom) * (1.0 - static_cast<double>(v) / max);
  };
  std::string svg = absl::StrFormat(
      "<svg class=\"chart trend\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">"
      "<title>%s</title>",
      w, h, w, h, Esc(presentation::Label("trend", lang)));
  absl::StrAppendFormat(&svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>",
                        left, h - bottom, w - right + 16, h - bottom);
  absl::StrAppendFormat(&svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>",
                        left, top, left, h - bottom);
  std::vector<uint64_t> ticks = {0};
  if (max / 2 > 0 && max / 2 < max) ticks.push_back((max + 1) / 2);
  ticks.push_back(max);
  for (uint64_t v : ticks) {
    absl::StrAppendFormat(
        &svg,
        "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"axis\"/>"
        "<text x=\"%d\" y=\"%.1f\" class=\"lbl ytick\" text-anchor=\"end\">%d</text>",
        left - 4, y(v), left, y(v), left - 7, y(v) + 4, v);
  }
  std::string path;
  for (int i = 0; i < n; ++i) {
    const auto& p = r.trend(i);
    double xi = x(i);
    if (Hidden(p.persons())) {
      absl::StrAppendFormat(&svg,
                            "<text x=\"%.1f\" y=\"%d\" class=\"suplbl\" text-anchor=\"middle\">%s"
                            "</text>",
                            xi, h - bottom - 4, Shown(p.persons(), r.min_cell_size()));
      if (!path.empty()) path += " ";  // break the line at a withheld point
      path += "|";
      continue;
    }
    double yi = y(p.persons().value());
    path +=
        absl::StrFormat("%s%.1f,%.1f ", (path.empty() || path.back() == '|') ? "M" : "L", xi, yi);
    absl::StrAppendFormat(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"pt\"/>", xi, yi);
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\" text-anchor=\"middle\">%d"
                          "</text>",
                          xi, std::max(yi - 6, static_cast<double>(top)), p.persons().value());
  }
  std::string d;
  for (absl::string_view part : absl::StrSplit(path, '|', absl::SkipEmpty())) {
    absl::StrAppend(&d, part);
  }
  absl::StrAppendFormat(&svg, "<path d=\"%s\" class=\"line\"/>", d);
  for (int i = 0; i < n; ++i) {
    if (n > 12 && i % ((n + 11) / 12) != 0) continue;
    absl::StrAppendFormat(
        &svg, "<text x=\"%.1f\" y=\"%d\" class=\"lbl xtick\" text-anchor=\"middle\">%s</text>",
        x(i), h - bottom + 16, Esc(r.trend(i).period()));
  }
  svg += "</svg>";
  return svg;
}

std::string OverlapHtml(const v1::InsightResponse& r, Language lang) {
  const uint32_t k = r.min_cell_size();
  size_t n = static_cast<size_t>(r.overlap_domains_size());
  if (n == 0) return absl::StrCat("<p>", Esc(presentation::Label("noData", lang)), "</p>");
  uint64_t max = 1;
  for (const auto& c : r.overlap()) max = std::max(max, c.persons().value());
  std::string out = "<table class=\"overlap\"><tr><th></th>";
  for (const auto& d : r.overlap_domains())
    absl::StrAppend(&out, "<th>", Esc(presentation::Label(d, lang)), "</th>");
  out += "</tr>";
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, "<tr><th>",
                    Esc(presentation::Label(r.overlap_domains(static_cast<int>(i)), lang)),
                    "</th>");
    for (size_t j = 0; j < n; ++j) {
      const v1::Count& c = r.overlap(static_cast<int>(i * n + j)).persons();
      if (Hidden(c)) {
        out += CellHtml(c, k, lang);
      } else {
        double a = 0.1 + 0.8 * static_cast<double>(c.value()) / max;
        absl::StrAppendFormat(
            &out,
            "<td class=\"num\" style=\"background:rgba(31,94,160,%.2f);color:%s\">"
            "%d</td>",
            a, a > 0.5 ? "#fff" : "#000", c.value());
      }
    }
    out += "</tr>";
  }
  out += "</table>";
  return out;
}

std::string TotalsHtml(const v1::TotalsResponse& t, Language lang) {
  const uint32_t k = t.min_cell_size();
  std::string out = "<table><tr>";
  for (int d : t.by()) {
    absl::StrAppend(&out, "<th>", Esc(DimensionLabel(static_cast<v1::Dimension>(d), lang)),
                    "</th>");
  }
  absl::StrAppend(&out, "<th>", Esc(presentation::Label("personsColumn", lang)), "</th><th>",
                  Esc(presentation::Label("signalsColumn", lang)), "</th></tr>");
  for (const auto& row : t.rows()) {
    out += "<tr>";
    for (const auto& key : row.keys()) {
      absl::StrAppend(&out, "<td>", Esc(presentation::Label(key, lang)), "</td>");
    }
    absl::StrAppend(&out, CellHtml(row.persons(), k, lang), CellHtml(row.signals(), k, lang),
                    "</tr>");
  }
  out += "<tr class=\"total\">";
  for (int i = 0; i < t.by_size(); ++i) {
    out += i == 0 ? absl::StrCat("<td>", Esc(presentation::Label("total", lang)), "</td>")
                  : "<td></td>";
  }
  absl::StrAppend(&out, CellHtml(t.total_persons(), k, lang), CellHtml(t.total_signals(), k, lang),
                  "</tr></table>");
  return out;
}

constexpr char kCss[] = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:60rem;margin:2rem auto;color:#1b1b1b;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}td.sup{background:repeating-linear-gradient(45deg,#eee,#eee 4px,#fff 4px,#fff 8px);color:#8a1c1c;font-weight:600}
tr.total td{font-weight:600}.kpi{display:flex;gap:1rem;flex-wrap:wrap}.kpi div{border:1px solid #ccc;padding:.6rem 1rem;border-radius:4px}
.kpi b{display:block;font-size:1.4rem}.note{color:#555;font-size:.9rem}
svg .bar{fill:#1f5ea0}svg .supbar{fill:url(#hatch);stroke:#8a1c1c}svg .lbl{font-size:11px;fill:#333}
svg .suplbl{font-size:11px;fill:#8a1c1c;font-weight:600}svg .axis{stroke:#999}svg .line{fill:none;stroke:#1f5ea0;stroke-width:2}svg .pt{fill:#1f5ea0}
@media print{body{margin:0}}
)";

}  // namespace

std::vector<v1::TotalsRequest> ReportTableRequests(uint32_t from, uint32_t to) {
  std::vector<std::vector<v1::Dimension>> dims = {{v1::DIMENSION_FORM},
                                                  {v1::DIMENSION_AGE_BAND},
                                                  {v1::DIMENSION_GENDER},
                                                  {v1::DIMENSION_DOMAIN},
                                                  {v1::DIMENSION_LIVING_SITUATION},
                                                  {v1::DIMENSION_FORM, v1::DIMENSION_AGE_BAND}};
  std::vector<v1::TotalsRequest> out;
  for (const auto& d : dims) {
    v1::TotalsRequest r;
    for (v1::Dimension x : d) r.add_by(x);
    r.set_from_month(from);
    r.set_to_month(to);
    out.push_back(r);
  }
  return out;
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> ParsePeriod(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, "..");
  if (parts.size() != 2) {
    return absl::InvalidArgumentError(
        "--period must be YYYY-MM..YYYY-MM (either side may be empty)");
  }
  ASSIGN_OR_RETURN(uint32_t from, ParseMonthFlag("period", parts[0]));
  ASSIGN_OR_RETURN(uint32_t to, ParseMonthFlag("period", parts[1]));
  if (from != 0 && to != 0 && from > to) {
    return absl::InvalidArgumentError("--period: the first month is after the last");
  }
  return std::make_pair(from, to);
}

std::string SvgBars(const std::vector<std::string>& labels, const std::vector<v1::Count>& values,
                    uint32_t k, const std::string& title) {
  const int row = 22, label_w = 320, bar_w = 360;
  int h = static_cast<int>(labels.size()) * row + 10;
  uint64_t max = 1;
  for (const auto& v : values) max = std::max(max, v.value());
  std::string svg = absl::StrFormat(
      "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">"
      "<title>%s</title><defs><pattern id=\"hatch\" width=\"6\" height=\"6\" "
      "patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\"><rect width=\"3\" "
      "height=\"6\" fill=\"#d9a0a0\"/></pattern></defs>",
      label_w + bar_w + 60, h, label_w + bar_w + 60, h, Esc(title));
  for (size_t i = 0; i < labels.size(); ++i) {
    int y = 5 + static_cast<int>(i) * row;
    absl::StrAppendFormat(&svg,
                          "<text x=\"%d\" y=\"%d\" class=\"lbl\" text-anchor=\"end\">%s</text>",
                          label_w - 6, y + 14, Esc(labels[i]));
    const v1::Count& c = values[i];
    if (Hidden(c)) {
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"16\" class=\"supbar\"/>"
                            "<text x=\"%d\" y=\"%d\" class=\"suplbl\">%s</text>",
                            label_w, y + 2, label_w + 30, y + 14, Shown(c, k));
    } else {
      int w = static_cast<int>(std::lround(static_cast<double>(c.value()) * bar_w / max));
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"16\" class=\"bar\"/>"
                            "<text x=\"%d\" y=\"%d\" class=\"lbl\">%d</text>",
                            label_w, y + 2, w, label_w + w + 6, y + 14, c.value());
    }
  }
  svg += "</svg>";
  return svg;
}

std::string RenderReportHtml(const ReportInput& in) {
  const v1::InsightResponse& r = in.insight;
  const uint32_t k = r.min_cell_size();
  const Language lang = in.language;
  auto L = [lang](std::string_view key) { return Esc(presentation::Label(key, lang)); };
  auto Lv = [lang](std::string_view key,
                   const std::vector<std::pair<std::string, std::string>>& values) {
    return Esc(presentation::Label(key, lang, values));
  };
  auto count = [k](const v1::Count& c) { return Shown(c, k); };
  // The period the figures cover, as the query layer answered it: without a period asked,
  // the latest year (LatestPeriod), said so in words.
  std::string period = PeriodText(r.from_month(), r.to_month());
  if (period.empty()) period = in.period;
  const bool none_asked = in.period.empty() || in.period == "..";
  std::string period_note =
      none_asked && !period.empty() ? absl::StrCat(" (", L("periodLatest"), ")") : "";
  std::string h = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"", presentation::LanguageCode(lang),
      "\"><head><meta charset=\"utf-8\">"
      "<title>Samenzicht: ",
      L("title"), " ", Esc(period), "</title><style>", kCss, "</style></head><body>\n", "<h1>",
      L("title"), "</h1>", "<p class=\"note\">", L("period"), ": <b data-period>", Esc(period),
      "</b>", period_note, " &middot; ", L("generated"), " ", Esc(in.generated), " &middot; ",
      Lv("minCellSize", {{"k", absl::StrCat(k)}}), "</p>\n");
  absl::StrAppend(
      &h, "<h2>", L("summary"), "</h2><div class=\"kpi\">", "<div>", L("persons"),
      "<b id=\"persons\">", count(r.total_persons()), "</b></div>", "<div>", L("signals"),
      "<b id=\"signals\">", count(r.total_signals()), "</b></div>", "<div>", L("ratio"), "<b>",
      Esc(FormatRatio(r.signals_per_person())), "</b></div>", "<div>", L("bounds"), "<b>",
      count(r.persons_lower_bound()), " &ndash; ", count(r.total_persons()), "</b></div></div>",
      r.linkage_error().available()
          ? absl::StrCat(
                "<p class=\"note\" id=\"linkage-error\">",
                Lv("linkageError",
                   {{"twice", absl::StrCat(r.linkage_error().persons_maybe_counted_twice())},
                    {"wrong", absl::StrCat(r.linkage_error().links_maybe_wrong())}}),
                "</p>\n")
          : std::string(),
      "<p class=\"note\">", Lv("unlinkableNote", {{"n", FormatCount(r.unlinkable_signals(), k)}}),
      "</p>\n");
  // Agencies.
  {
    std::vector<std::string> labels;
    std::vector<v1::Count> values;
    for (const auto& a : r.agency_counts()) {
      labels.push_back(presentation::Label("knownTo", lang, {{"n", absl::StrCat(a.agencies())}}));
      values.push_back(a.persons());
    }
    absl::StrAppend(&h, "<h2>", L("agencies"), "</h2>",
                    SvgBars(labels, values, k, presentation::Label("agencies", lang)));
  }
  absl::StrAppend(&h, "<h2>", L("overlap"), "</h2>", "<p class=\"note\">", L("overlapNote"), "</p>",
                  OverlapHtml(r, lang));
  absl::StrAppend(
      &h, "<h2>",
      Lv("trendPer",
         {{"unit",
           presentation::Label(
               r.granularity() == v1::TREND_GRANULARITY_QUARTER ? "quarter" : "month", lang)}}),
      "</h2>", SvgTrend(r, lang));
  {
    std::string rows;
    for (const auto& p : r.trend()) {
      absl::StrAppend(&rows, "<tr><td>", Esc(p.period()), "</td>", CellHtml(p.persons(), k, lang),
                      CellHtml(p.signals(), k, lang), "</tr>");
    }
    absl::StrAppend(&h, "<table><tr><th>", L("periodColumn"), "</th><th>", L("personsColumn"),
                    "</th><th>", L("signalsColumn"), "</th></tr>", rows, "</table>");
  }
  for (const auto& t : in.tables) {
    std::string name;
    for (int d : t.by()) {
      absl::StrAppend(&name, name.empty() ? "" : " \u00d7 ",
                      DimensionLabel(static_cast<v1::Dimension>(d), lang));
    }
    absl::StrAppend(&h, "<h2>", Lv("by", {{"what", name}}), "</h2>");
    if (t.by_size() == 1) {
      std::vector<std::string> labels;
      std::vector<v1::Count> values;
      for (const auto& row : t.rows()) {
        labels.push_back(presentation::Label(row.keys(0), lang));
        values.push_back(row.persons());
      }
      h += SvgBars(labels, values, k, name);
    }
    h += TotalsHtml(t, lang);
  }
  // Hidden number.
  const auto& e = r.estimate();
  absl::StrAppend(&h, "<h2>", L("estimateTitle"), "</h2>");
  if (e.available()) {
    absl::StrAppendFormat(
        &h,
        "<p>%s: <b id=\"estimate\">%.0f</b> (%s %.0f &ndash; %s, %s); %s: %d; model %s; %s: "
        "%s.</p>",
        L("estimate"), e.estimate(), L("interval"), e.lower(),
        std::isfinite(e.upper()) ? absl::StrFormat("%.0f", e.upper()) : std::string("&infin;"),
        Esc(e.interval_method()), L("seen"), e.observed(), Esc(e.model()), L("lists"),
        Esc(absl::StrJoin(e.lists(), ", ", [lang](std::string* out, const std::string& l) {
          out->append(presentation::Label(l, lang));
        })));
  } else {
    std::string why;
    if (e.reason() == "not requested") {
      why = L("notRequested");
    } else if (absl::StartsWith(e.reason(), "withheld")) {
      why = Lv("estimateWithheld", {{"k", absl::StrCat(k)}});
    } else if (lang == Language::kEnglish) {
      why = Esc(e.reason());  // the estimator's own words, in English
    } else if (const std::string key = EstimateReasonLabel(e.reason()); !key.empty()) {
      why = L(key);
    }
    absl::StrAppend(&h, "<p id=\"estimate\"><b>", L("noEstimate"), "</b> ", why, "</p>");
  }
  if (e.caveats_size() > 0) {
    // The estimator's caveats are in English; a Dutch report gives the table's caveat.
    h += "<ul class=\"note\">";
    if (lang == Language::kEnglish) {
      for (const auto& c : e.caveats()) absl::StrAppend(&h, "<li>", Esc(c), "</li>");
    } else {
      absl::StrAppend(&h, "<li>", L("estimateCaveat"), "</li>");
      // The warnings about this estimate.
      for (const std::string& key : EstimateWarningLabels(e)) {
        absl::StrAppend(&h, "<li>", L(key), "</li>");
      }
    }
    h += "</ul>";
  }
  // The Cell Key Method's parameters as the server applied them (read back from its rules).
  const absl::StatusOr<CellKeyParams> applied = ParseCellKeyRules(r.disclosure_rules());
  const bool cell_key =
      applied.ok() || r.disclosure_rules().find("Cell Key Method") != std::string::npos;
  const CellKeyParams params = applied.ok() ? *applied : CellKeyParams{k};
  absl::StrAppend(&h, "<h2>", L("methods"), "</h2>", "<p>", L("howLinked"), "</p>", "<p><b>",
                  L("countingRulesTitle"), "</b> ", L("countingRules"), "</p>", "<p><b>",
                  L("disclosureTitle"), "</b> ",
                  cell_key
                      ? Lv("cellKeyRules", {{"k", absl::StrCat(k)},
                                            {"k1", absl::StrCat(k - 1)},
                                            {"d", absl::StrCat(params.noise())},
                                            {"s", absl::StrCat(params.tail())},
                                            {"z", absl::StrCat(k + params.tail() - 1)},
                                            {"one_in", absl::StrCat(params.tail_one_in)}})
                      : Lv("suppressionRules", {{"k1", absl::StrCat(k - 1)},
                                                {"primary", FormatCount(Withheld(false), k)},
                                                {"secondary", FormatCount(Withheld(true), k)}}),
                  "</p>", "<p>", L("estimateMethod"), "</p>", "</body></html>\n");
  return h;
}

}  // namespace samenzicht::aggregator
