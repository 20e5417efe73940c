// One label table, one language per rendering: the council report in Dutch (the default) and
// in English, every word from presentation/labels.tsv (which the dashboard loads too, as
// /labels.json), no category codes and no English rules on a Dutch page.
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "aggregator/query/disclosure.h"
#include "aggregator/present/report.h"
#include "model/vocabulary.h"
#include "presentation/labels.h"

namespace samenzicht::aggregator {
namespace {

using presentation::Label;
using presentation::Language;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

v1::Count C(uint64_t v) {
  v1::Count c;
  c.set_value(v);
  return c;
}

// A protected overview and tables as the query layer returns them (Cell Key Method).
ReportInput Input(Language lang) {
  ReportInput in;
  in.language = lang;
  in.period = "2024-01..2024-12";
  in.generated = "2025-02-01";
  v1::InsightResponse& r = in.insight;
  r.set_min_cell_size(5);
  *r.mutable_total_persons() = C(60);
  *r.mutable_total_signals() = C(75);
  *r.mutable_persons_lower_bound() = C(55);
  *r.mutable_unlinkable_signals() = C(5);
  r.set_signals_per_person("1.25");
  for (const char* n : {"1", "2", "3+"}) {
    auto* a = r.add_agency_counts();
    a->set_agencies(n);
    *a->mutable_persons() = C(20);
  }
  for (const char* d : {"police", "youth_care"}) r.add_overlap_domains(d);
  for (const char* row : {"police", "youth_care"}) {
    for (const char* col : {"police", "youth_care"}) {
      auto* c = r.add_overlap();
      c->set_row(row);
      c->set_column(col);
      *c->mutable_persons() = C(10);
    }
  }
  for (const char* p : {"2024-Q1", "2024-Q2"}) {
    auto* t = r.add_trend();
    t->set_period(p);
    *t->mutable_persons() = C(30);
    *t->mutable_signals() = C(35);
  }
  r.set_granularity(v1::TREND_GRANULARITY_QUARTER);
  r.mutable_estimate()->set_reason("not requested");
  r.mutable_estimate()->add_caveats("Multiple systems estimation assumes a closed population.");
  r.set_counting_rules("Persons are linked reports (reports sharing any token).");
  r.set_disclosure_rules(CellKeyRules(CellKeyParams{}));  // the default, as a server sends it
  r.mutable_linkage_error()->set_available(true);
  r.mutable_linkage_error()->set_persons_maybe_counted_twice(2);
  r.mutable_linkage_error()->set_links_maybe_wrong(1);
  r.mutable_linkage_error()->set_sentence("Koppelfout ... / Linkage error ...");
  auto table = [](std::vector<v1::Dimension> by, std::vector<std::vector<std::string>> keys) {
    v1::TotalsResponse t;
    t.set_min_cell_size(5);
    for (auto d : by) t.add_by(d);
    for (const auto& k : keys) {
      auto* row = t.add_rows();
      for (const auto& w : k) row->add_keys(w);
      *row->mutable_persons() = C(10);
      *row->mutable_signals() = C(12);
    }
    *t.mutable_total_persons() = C(60);
    *t.mutable_total_signals() = C(75);
    return t;
  };
  in.tables.push_back(table({v1::DIMENSION_FORM},
                            {{"sexual"}, {"criminal"}, {"sexual_and_criminal"}, {"labour"}}));
  in.tables.push_back(table({v1::DIMENSION_AGE_BAND}, {{"13_17"}, {"18_26"}, {"27_plus"}}));
  in.tables.push_back(table({v1::DIMENSION_LIVING_SITUATION}, {{"with_exploiter"}, {"homeless"}}));
  in.tables.push_back(
      table({v1::DIMENSION_FORM, v1::DIMENSION_AGE_BAND}, {{"sexual", "13_17"}, {"labour", "27_plus"}}));
  return in;
}

const std::vector<std::string> kWords = {"sexual", "criminal", "sexual_and_criminal", "labour",
                                         "13_17", "18_26", "27_plus", "with_exploiter",
                                         "homeless", "police", "youth_care"};

TEST(ReportLabelsTest, DutchByDefaultWithoutCodesOrEnglish) {
  ReportInput in = Input(Language::kDutch);
  EXPECT_EQ(ReportInput().language, Language::kDutch);
  const std::string html = RenderReportHtml(in);
  EXPECT_THAT(html, HasSubstr("<html lang=\"nl\">"));
  // Every category word and every category as the table says, in Dutch.
  for (const std::string& w : kWords) {
    EXPECT_THAT(html, HasSubstr(Esc(Label(w, Language::kDutch)))) << w;
  }
  EXPECT_THAT(html, HasSubstr("seksueel en crimineel"));
  EXPECT_THAT(html, HasSubstr("bij de uitbuiter"));
  EXPECT_THAT(html, HasSubstr(">leeftijd</th>"));
  EXPECT_THAT(html, HasSubstr(">woonsituatie</th>"));
  EXPECT_THAT(html, HasSubstr("celsleutelmethode"));
  EXPECT_THAT(html, HasSubstr(Esc(Label("countingRules", Language::kDutch))));
  EXPECT_THAT(html, HasSubstr("naar schatting 2 persoon/personen dubbel geteld"));
  // No raw codes, no English labels, rules or caveats.
  for (const char* code : {"age_band", "living_situation", "sexual_and_criminal", "youth_care",
                           "with_exploiter", "27_plus", ">sexual<", ">labour<"}) {
    EXPECT_THAT(html, Not(HasSubstr(code))) << code;
  }
  for (const char* english : {"Persons are linked", "Cell Key Method", "Every published count",
                              "Summary", "Known to how many agencies", ">persons<", ">signals<",
                              "Persons",
                              "Linkage error", "closed population", " / "}) {
    EXPECT_THAT(html, Not(HasSubstr(english))) << english;
  }
}

TEST(ReportLabelsTest, EnglishOnRequestWithoutDutch) {
  const std::string html = RenderReportHtml(Input(Language::kEnglish));
  EXPECT_THAT(html, HasSubstr("<html lang=\"en\">"));
  for (const std::string& w : kWords) {
    EXPECT_THAT(html, HasSubstr(Esc(Label(w, Language::kEnglish)))) << w;
  }
  EXPECT_THAT(html, HasSubstr("sexual and criminal"));
  EXPECT_THAT(html, HasSubstr(">age band</th>"));
  EXPECT_THAT(html, HasSubstr("Cell Key Method"));
  EXPECT_THAT(html, HasSubstr("Summary"));
  for (const char* code : {"age_band", "sexual_and_criminal", "youth_care", "27_plus"}) {
    EXPECT_THAT(html, Not(HasSubstr(code))) << code;
  }
  for (const char* dutch : {"celsleutelmethode", "Samenvatting", "leeftijd", "seksueel",
                            "politie", "Telregels", "Koppelfout", " / "}) {
    EXPECT_THAT(html, Not(HasSubstr(dutch))) << dutch;
  }
}

// The methods section states the parameters the server applied, read from the rules it
// sent, not the defaults: a server with D = 3, S = 20 and one cell in 7 from the tail.
TEST(ReportLabelsTest, TheMethodsStateTheServersCellKeyParameters) {
  CellKeyParams applied;
  applied.k = 5;
  applied.max_noise = 3;
  applied.tail_noise = 20;
  applied.tail_one_in = 7;
  for (Language lang : {Language::kDutch, Language::kEnglish}) {
    ReportInput in = Input(lang);
    in.insight.set_disclosure_rules(CellKeyRules(applied));
    const std::string html = RenderReportHtml(in);
    // z: the largest count a 0 may stand for, k + S - 1.
    EXPECT_THAT(html, HasSubstr(Esc(Label("cellKeyRules", lang, {{"k", "5"}, {"k1", "4"},
                                                                  {"d", "3"}, {"s", "20"},
                                                                  {"z", "24"},
                                                                  {"one_in", "7"}}))));
  }
}

// The report names the period its figures cover, as the query layer answered it: asked for
// none (`--period ..`), the latest year, with the grid's name and said so in words.
TEST(ReportLabelsTest, ThePeriodShownIsTheOneTheFiguresCover) {
  for (Language lang : {Language::kDutch, Language::kEnglish}) {
    ReportInput in = Input(lang);
    in.period = "..";
    in.insight.set_from_month(202501);
    in.insight.set_to_month(202506);
    const std::string html = RenderReportHtml(in);
    EXPECT_THAT(html, HasSubstr("<b data-period>2025-01..2025-06 (2025-H1)</b> (" +
                                Esc(Label("periodLatest", lang)) + ")"));
    EXPECT_THAT(html, HasSubstr("<title>Samenzicht: " + Esc(Label("title", lang)) +
                                " 2025-01..2025-06 (2025-H1)</title>"));
    EXPECT_THAT(html, Not(HasSubstr(": <b data-period>..</b>")));
    // A period asked is shown as answered, without the words for none.
    in.period = "2024-01..2024-12";
    in.insight.set_from_month(202401);
    in.insight.set_to_month(202412);
    const std::string asked = RenderReportHtml(in);
    EXPECT_THAT(asked, HasSubstr("<b data-period>2024-01..2024-12 (2024)</b> &middot;"));
    EXPECT_THAT(asked, Not(HasSubstr(Esc(Label("periodLatest", lang)))));
  }
  EXPECT_EQ(Label("periodLatest", Language::kDutch),
            "zonder gekozen periode: het laatste jaar met gepubliceerde signalen, tot en met het "
            "laatst vrijgegeven halfjaar");
}

TEST(LabelTableTest, EveryCategoryWordAndCategoryHasBothLanguages) {
  for (int i = 1; i < v1::Dimension_descriptor()->value_count(); ++i) {
    const auto d = static_cast<v1::Dimension>(v1::Dimension_descriptor()->value(i)->number());
    const std::string dim = "dim." + model::DimensionName(d);
    EXPECT_TRUE(presentation::HasLabel(dim)) << dim;
    if (!model::IsEnumDimension(d)) continue;
    for (const std::string& w : model::Words(d)) EXPECT_TRUE(presentation::HasLabel(w)) << w;
  }
  EXPECT_TRUE(presentation::HasLabel("unknown"));
  // Areas and months are not in the table: shown as they are.
  EXPECT_EQ(Label("oude_wijken", Language::kDutch), "oude wijken");
  EXPECT_EQ(Label("2024-03", Language::kEnglish), "2024-03");
  EXPECT_EQ(Label("knownTo", Language::kDutch, {{"n", "2"}}), "bekend bij 2 instantie(s)");
}

TEST(LabelTableTest, TheDashboardsJsonIsTheSameTable) {
  const std::string& json = presentation::LabelsJson();
  for (const std::string& key : presentation::LabelKeys()) {
    for (Language lang : {Language::kDutch, Language::kEnglish}) {
      std::string label = Label(key, lang);
      std::string quoted;
      for (char c : label) {
        if (c == '"' || c == '\\') quoted += '\\';
        quoted += c;
      }
      EXPECT_THAT(json, HasSubstr("\"" + key + "\": \"" + quoted + "\"")) << key;
    }
  }
  EXPECT_EQ(json.rfind("{\"nl\": {", 0), 0u);
  EXPECT_THAT(json, HasSubstr("\"en\": {"));
}

TEST(LabelTableTest, LanguageCodes) {
  EXPECT_EQ(*presentation::ParseLanguage(""), Language::kDutch);
  EXPECT_EQ(*presentation::ParseLanguage("nl"), Language::kDutch);
  EXPECT_EQ(*presentation::ParseLanguage("en"), Language::kEnglish);
  EXPECT_EQ(presentation::ParseLanguage("de").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace samenzicht::aggregator
