#include "aggregator/report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aggregator/disclosure.h"
#include "aggregator/insight.h"
#include "aggregator/totals_format.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"

namespace samenzicht::aggregator {
namespace {

std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

bool Hidden(const v1::Count& c) { return c.suppressed() || c.secondary(); }

std::string Label(const std::string& word) {
  std::string nl = DutchLabel(word);
  std::string en = word;
  std::replace(en.begin(), en.end(), '_', ' ');
  return nl == word ? en : absl::StrCat(nl, " / ", en);
}

std::string CellHtml(const v1::Count& c, uint32_t k) {
  if (c.secondary()) return "<td class=\"num sup\" title=\"secundair onderdrukt / withheld\">x</td>";
  if (c.suppressed()) {
    return absl::StrCat("<td class=\"num sup\" title=\"kleiner dan ", k, " / fewer than ", k,
                        "\">&lt;", k, "</td>");
  }
  return absl::StrCat("<td class=\"num\">", c.value(), "</td>");
}

std::string SvgTrend(const v1::InsightResponse& r) {
  const int w = 640, h = 220, left = 40, bottom = 40, top = 10;
  uint64_t max = 1;
  for (const auto& p : r.trend()) max = std::max(max, p.persons().value());
  int n = r.trend_size();
  if (n == 0) return "<p>Geen gegevens / no data</p>";
  double step = n > 1 ? static_cast<double>(w - left - 20) / (n - 1) : 0;
  auto x = [&](int i) { return left + 10 + step * i; };
  auto y = [&](uint64_t v) { return top + (h - top - bottom) * (1.0 - static_cast<double>(v) / max); };
  std::string svg = absl::StrFormat(
      "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">"
      "<title>Trend personen / persons</title>",
      w, h, w, h);
  absl::StrAppendFormat(&svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>",
                        left, h - bottom, w - 5, h - bottom);
  absl::StrAppendFormat(&svg, "<text x=\"2\" y=\"%d\" class=\"lbl\">%d</text>", top + 10, max);
  std::string path;
  for (int i = 0; i < n; ++i) {
    const auto& p = r.trend(i);
    double xi = x(i);
    if (Hidden(p.persons())) {
      absl::StrAppendFormat(&svg,
                            "<text x=\"%.1f\" y=\"%d\" class=\"suplbl\" text-anchor=\"middle\">%s"
                            "</text>",
                            xi, h - bottom - 4, p.persons().secondary() ? "x" : absl::StrCat("&lt;", r.min_cell_size()));
      if (!path.empty()) path += " ";  // break the line at a withheld point
      path += "|";
      continue;
    }
    double yi = y(p.persons().value());
    path += absl::StrFormat("%s%.1f,%.1f ", (path.empty() || path.back() == '|') ? "M" : "L", xi, yi);
    absl::StrAppendFormat(&svg, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" class=\"pt\"/>", xi, yi);
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%.1f\" class=\"lbl\" text-anchor=\"middle\">%d"
                          "</text>",
                          xi, yi - 6, p.persons().value());
  }
  std::string d;
  for (absl::string_view part : absl::StrSplit(path, '|', absl::SkipEmpty())) {
    absl::StrAppend(&d, part);
  }
  absl::StrAppendFormat(&svg, "<path d=\"%s\" class=\"line\"/>", d);
  for (int i = 0; i < n; ++i) {
    if (n > 12 && i % ((n + 11) / 12) != 0) continue;
    absl::StrAppendFormat(&svg,
                          "<text x=\"%.1f\" y=\"%d\" class=\"lbl\" text-anchor=\"middle\">%s</text>",
                          x(i), h - bottom + 16, Esc(r.trend(i).period()));
  }
  svg += "</svg>";
  return svg;
}

std::string OverlapHtml(const v1::InsightResponse& r) {
  const uint32_t k = r.min_cell_size();
  size_t n = static_cast<size_t>(r.overlap_domains_size());
  if (n == 0) return "<p>Geen gegevens / no data</p>";
  uint64_t max = 1;
  for (const auto& c : r.overlap()) max = std::max(max, c.persons().value());
  std::string out = "<table class=\"overlap\"><tr><th></th>";
  for (const auto& d : r.overlap_domains()) absl::StrAppend(&out, "<th>", Esc(Label(d)), "</th>");
  out += "</tr>";
  for (size_t i = 0; i < n; ++i) {
    absl::StrAppend(&out, "<tr><th>", Esc(Label(r.overlap_domains(static_cast<int>(i)))), "</th>");
    for (size_t j = 0; j < n; ++j) {
      const v1::Count& c = r.overlap(static_cast<int>(i * n + j)).persons();
      if (Hidden(c)) {
        out += CellHtml(c, k);
      } else {
        double a = 0.1 + 0.8 * static_cast<double>(c.value()) / max;
        absl::StrAppendFormat(&out,
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

std::string TotalsHtml(const v1::TotalsResponse& t) {
  const uint32_t k = t.min_cell_size();
  std::string out = "<table><tr>";
  for (int d : t.by()) {
    absl::StrAppend(&out, "<th>", Esc(model::DimensionName(static_cast<v1::Dimension>(d))),
                    "</th>");
  }
  out += "<th>personen / persons</th><th>signalen / signals</th></tr>";
  for (const auto& row : t.rows()) {
    out += "<tr>";
    for (const auto& key : row.keys()) absl::StrAppend(&out, "<td>", Esc(Label(key)), "</td>");
    absl::StrAppend(&out, CellHtml(row.persons(), k), CellHtml(row.signals(), k), "</tr>");
  }
  out += "<tr class=\"total\">";
  for (int i = 0; i < t.by_size(); ++i) out += i == 0 ? "<td>totaal / total</td>" : "<td></td>";
  absl::StrAppend(&out, CellHtml(t.total_persons(), k), CellHtml(t.total_signals(), k),
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
  std::vector<std::vector<v1::Dimension>> dims = {
      {v1::DIMENSION_FORM}, {v1::DIMENSION_AGE_BAND}, {v1::DIMENSION_GENDER},
      {v1::DIMENSION_DOMAIN}, {v1::DIMENSION_LIVING_SITUATION},
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
    return absl::InvalidArgumentError("--period must be YYYY-MM..YYYY-MM (either side may be empty)");
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
    absl::StrAppendFormat(&svg, "<text x=\"%d\" y=\"%d\" class=\"lbl\" text-anchor=\"end\">%s</text>",
                          label_w - 6, y + 14, Esc(labels[i]));
    const v1::Count& c = values[i];
    if (Hidden(c)) {
      absl::StrAppendFormat(&svg,
                            "<rect x=\"%d\" y=\"%d\" width=\"24\" height=\"16\" class=\"supbar\"/>"
                            "<text x=\"%d\" y=\"%d\" class=\"suplbl\">%s</text>",
                            label_w, y + 2, label_w + 30, y + 14,
                            c.secondary() ? "x" : absl::StrCat("&lt;", k));
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
  auto count = [&](const v1::Count& c) {
    if (c.secondary()) return std::string("x");
    if (c.suppressed()) return absl::StrCat("&lt;", k);
    return absl::StrCat(c.value());
  };
  std::string h = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"nl\"><head><meta charset=\"utf-8\">"
      "<title>Samenzicht: signalen van mensenhandel ", Esc(in.period),
      "</title><style>", kCss, "</style></head><body>\n",
      "<h1>Signalen van mensenhandel / Signals of human trafficking</h1>",
      "<p class=\"note\">Periode / period: <b>", Esc(in.period), "</b> &middot; gemaakt / generated ",
      Esc(in.generated), " &middot; minimale celgrootte / minimum cell size k = ", k, "</p>\n");
  absl::StrAppend(
      &h, "<h2>Samenvatting / Summary</h2><div class=\"kpi\">",
      "<div>Personen (ontdubbeld) / persons (deduplicated)<b id=\"persons\">",
      count(r.total_persons()), "</b></div>", "<div>Signalen / signals<b id=\"signals\">",
      count(r.total_signals()), "</b></div>",
      "<div>Signalen per persoon / signals per person<b>",
      r.signals_per_person().empty() ? "x" : r.signals_per_person(), "</b></div>",
      "<div>Personen tussen / persons between<b>", count(r.persons_lower_bound()), " &ndash; ",
      count(r.total_persons()), "</b></div></div>",
      r.linkage_error().available()
          ? absl::StrCat("<p class=\"note\" id=\"linkage-error\">", Esc(r.linkage_error().sentence()),
                         "</p>\n")
          : std::string(),
      "<p class=\"note\">", count(r.unlinkable_signals()),
      " signalen hadden te weinig gegevens om te koppelen; elk kan een nieuwe persoon zijn of een "
      "al getelde. / signals had too few identifiers to link; each may be a new person or one "
      "already counted.</p>\n");
  // Agencies.
  {
    std::vector<std::string> labels;
    std::vector<v1::Count> values;
    for (const auto& a : r.agency_counts()) {
      labels.push_back(absl::StrCat("bekend bij ", a.agencies(), " instantie(s) / known to ",
                                    a.agencies()));
      values.push_back(a.persons());
    }
    absl::StrAppend(&h, "<h2>Bij hoeveel instanties bekend / Known to how many agencies</h2>",
                    SvgBars(labels, values, k, "agencies"));
  }
  absl::StrAppend(&h, "<h2>Overlap tussen domeinen / Overlap between domains</h2>",
                  "<p class=\"note\">Diagonaal: personen gesignaleerd door het domein; elders: door "
                  "beide domeinen. / Diagonal: persons signalled by the domain; elsewhere: by "
                  "both.</p>",
                  OverlapHtml(r));
  absl::StrAppend(&h, "<h2>Verloop / Trend (",
                  r.granularity() == v1::TREND_GRANULARITY_QUARTER ? "kwartaal / quarter"
                                                                    : "maand / month",
                  ")</h2>", SvgTrend(r));
  {
    std::string rows;
    for (const auto& p : r.trend()) {
      absl::StrAppend(&rows, "<tr><td>", Esc(p.period()), "</td>", CellHtml(p.persons(), k),
                      CellHtml(p.signals(), k), "</tr>");
    }
    absl::StrAppend(&h, "<table><tr><th>periode / period</th><th>personen / persons</th>"
                        "<th>signalen / signals</th></tr>", rows, "</table>");
  }
  for (const auto& t : in.tables) {
    std::string name;
    for (int d : t.by()) {
      absl::StrAppend(&name, name.empty() ? "" : " &times; ",
                      Esc(model::DimensionName(static_cast<v1::Dimension>(d))));
    }
    absl::StrAppend(&h, "<h2>Naar / By ", name, "</h2>");
    if (t.by_size() == 1) {
      std::vector<std::string> labels;
      std::vector<v1::Count> values;
      for (const auto& row : t.rows()) {
        labels.push_back(Label(row.keys(0)));
        values.push_back(row.persons());
      }
      h += SvgBars(labels, values, k, name);
    }
    h += TotalsHtml(t);
  }
  // Hidden number.
  const auto& e = r.estimate();
  absl::StrAppend(&h, "<h2>Verborgen aantal (schatting) / Hidden number (estimate)</h2>");
  if (e.available()) {
    absl::StrAppendFormat(
        &h,
        "<p>Geschat totaal aantal personen, gezien en ongezien / estimated total persons, seen "
        "and unseen: <b id=\"estimate\">%.0f</b> (95%%-interval %.0f &ndash; %s, %s); gezien / "
        "seen: %d; model %s; lijsten / lists: %s.</p>",
        e.estimate(), e.lower(),
        std::isfinite(e.upper()) ? absl::StrFormat("%.0f", e.upper()) : std::string("&infin;"),
        Esc(e.interval_method()), e.observed(), Esc(e.model()),
        Esc(absl::StrJoin(e.lists(), ", ")));
  } else {
    absl::StrAppend(&h, "<p id=\"estimate\"><b>Geen betrouwbare schatting / no reliable "
                        "estimate.</b> ",
                    Esc(e.reason()), "</p>");
  }
  if (e.caveats_size() > 0) {
    h += "<ul class=\"note\">";
    for (const auto& c : e.caveats()) absl::StrAppend(&h, "<li>", Esc(c), "</li>");
    h += "</ul>";
  }
  absl::StrAppend(
      &h, "<h2>Methode / Methods</h2>",
      "<p>Instanties (politie, jeugdzorg, zorginstellingen, ...) sturen per signaal alleen "
      "versleutelde kenmerken (tokens) en grove categorie&euml;n; namen, geboortedata en BSN "
      "verlaten de instantie niet. Signalen met een gedeeld token worden als &eacute;&eacute;n "
      "persoon geteld. / Agencies send only keyed-hash tokens and coarse categories per signal; "
      "signals sharing a token are counted as one person.</p>",
      "<p><b>Telregels / counting rules.</b> ", Esc(r.counting_rules()), "</p>",
      "<p><b>Onthullingscontrole / disclosure control.</b> ",
      r.disclosure_rules().find("Cell Key Method") != std::string::npos
          ? absl::StrCat(Esc(CellKeyRulesDutch(CellKeyParams{k})), " / ",
                         Esc(r.disclosure_rules()))
          : absl::StrCat(Esc(r.disclosure_rules()), " &lt;", k, " = 1 tot ", k - 1,
                         " personen; x = onderdrukt om een kleine cel te beschermen / withheld "
                         "to protect a small cell."),
      "</p>",
      "<p><b>Schatting / estimate.</b> Multiple systems estimation (Poisson log-linear models, "
      "model choice by BIC, BCa bootstrap interval) over the capture histories of the reporting "
      "domains; the capture-history cells themselves are not published.</p>",
      "</body></html>\n");
  return h;
}

}  // namespace samenzicht::aggregator
