#include "agency_node/signal.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;
using ::testing::ElementsAre;
using v1::Field;

class SignalTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { normaliser_ = Normaliser::New()->release(); }
  static void TearDownTestSuite() { delete normaliser_; }

  absl::StatusOr<SignalFile> Parse(const std::string& text, std::vector<std::string> areas = {}) {
    auto csv = ParseCsv(text);
    if (!csv.ok()) return csv.status();
    SignalOptions o;
    o.today = Date{2024, 6, 15};
    o.areas = std::move(areas);
    return ParseSignals(*csv, *normaliser_, o);
  }
  static Normaliser* normaliser_;
};
Normaliser* SignalTest::normaliser_ = nullptr;

TEST_F(SignalTest, ParsesEveryColumnInAnyOrder) {
  ASSERT_OK_AND_ASSIGN(
      SignalFile f,
      Parse("signal_date,Surname,record_id,given_names,date_of_birth,gender,national_id,phone,"
            "email,postcode,street,house_number,city,form,contact,age_band,background,"
            "living_situation,recruitment_location,coercion,forced_crime,area\n"
            "2024-03-15,\"Berg, van der\",R-1,Jan Maria,12-03-2005,Female,123456782,"
            "06 1234 5678,J.Berg@Example.nl,9712 cp,Grote Markt,1a,Groningen,sexual,direct,"
            "13_17,dutch,homeless;with_exploiter,street; online,debt_bondage,drugs;theft,oost\n"));
  ASSERT_EQ(f.signals.size(), 1u);
  EXPECT_TRUE(f.warnings.empty()) << FormatIssue(f.warnings[0]);
  const Signal& s = f.signals[0];
  EXPECT_EQ(s.line, 2);
  EXPECT_EQ(s.record_id, "R-1");
  const v1::Report& r = s.report;
  EXPECT_EQ(r.signal_month(), 202403u);
  EXPECT_EQ(r.form(), v1::FORM_SEXUAL);
  EXPECT_EQ(r.contact(), v1::CONTACT_DIRECT);
  EXPECT_EQ(r.age_band(), v1::AGE_BAND_13_17);
  EXPECT_EQ(r.gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(r.background(), v1::BACKGROUND_DUTCH);
  EXPECT_THAT(r.living_situation(), ElementsAre(v1::LIVING_SITUATION_HOMELESS,
                                                v1::LIVING_SITUATION_WITH_EXPLOITER));
  EXPECT_THAT(r.recruitment_location(), ElementsAre(v1::RECRUITMENT_LOCATION_STREET,
                                                    v1::RECRUITMENT_LOCATION_ONLINE));
  EXPECT_THAT(r.coercion(), ElementsAre(v1::COERCION_DEBT_BONDAGE));
  EXPECT_THAT(r.forced_crime(), ElementsAre(v1::FORCED_CRIME_DRUGS, v1::FORCED_CRIME_THEFT));
  EXPECT_EQ(r.area(), "oost");
  EXPECT_EQ(r.report_id(), "");
  EXPECT_EQ(r.tokens_size(), 0);
  const Person& p = s.person;
  EXPECT_EQ(p.Get(Field::FIELD_NATIONAL_ID), "123456782");
  EXPECT_EQ(p.Get(Field::FIELD_GIVEN_NAMES), "jan maria");
  EXPECT_EQ(p.Get(Field::FIELD_FIRST_GIVEN_NAME), "jan");
  EXPECT_EQ(p.Get(Field::FIELD_FIRST_INITIAL), "j");
  EXPECT_EQ(p.Get(Field::FIELD_SURNAME), "berg");
  EXPECT_EQ(p.Get(Field::FIELD_SURNAME_WITH_PREFIX), "van der berg");
  EXPECT_EQ(p.Get(Field::FIELD_DATE_OF_BIRTH), "20050312");
  EXPECT_EQ(p.Get(Field::FIELD_DOB_DAY_MONTH_UNORDERED), "20050312");
  EXPECT_EQ(p.Get(Field::FIELD_BIRTH_YEAR), "2005");
  EXPECT_EQ(p.Get(Field::FIELD_GENDER), "female");
  EXPECT_EQ(p.Get(Field::FIELD_PHONE), "+31612345678");
  EXPECT_EQ(p.Get(Field::FIELD_EMAIL), "j.berg@example.nl");
  EXPECT_EQ(p.Get(Field::FIELD_POSTCODE), "9712CP");
  EXPECT_EQ(p.Get(Field::FIELD_HOUSE_NUMBER), "1A");
  EXPECT_FALSE(p.Get(Field::FIELD_SURNAME_PHONETIC).empty());
}

// The street is kept only as its phonetic code, so that a spelling variant of one street
// gives the same value; a street without letters is a warning naming the column.
TEST_F(SignalTest, TheStreetIsKeptOnlyAsItsPhoneticCode) {
  ASSERT_OK_AND_ASSIGN(SignalFile f, Parse("record_id,street,house_number\n"
                                           "R-1,Merelstraat,18\n"
                                           "R-2,MERELSTRAAT ,18\n"
                                           "R-3,Merelstraadt,18\n"
                                           "R-4,Zwanestraat,18\n"
                                           "R-5,123,18\n"));
  ASSERT_EQ(f.signals.size(), 5u);
  const std::string code = f.signals[0].person.Get(Field::FIELD_STREET_PHONETIC);
  EXPECT_EQ(code, DutchPhonetic("merelstraat"));
  EXPECT_NE(code, "merelstraat");  // never the street's own letters
  EXPECT_EQ(f.signals[1].person.Get(Field::FIELD_STREET_PHONETIC), code);
  EXPECT_EQ(f.signals[2].person.Get(Field::FIELD_STREET_PHONETIC), code);  // dt sounds as t
  EXPECT_NE(f.signals[3].person.Get(Field::FIELD_STREET_PHONETIC), code);
  EXPECT_EQ(f.signals[4].person.Get(Field::FIELD_STREET_PHONETIC), "");
  ASSERT_EQ(f.warnings.size(), 1u);
  const std::string w = FormatIssue(f.warnings[0]);
  EXPECT_NE(w.find("R-5"), std::string::npos) << w;
  EXPECT_NE(w.find("street"), std::string::npos) << w;
  EXPECT_EQ(w.find("123"), std::string::npos) << w;
}

TEST_F(SignalTest, DayMonthUnorderedMatchesASwap) {
  ASSERT_OK_AND_ASSIGN(SignalFile f, Parse("record_id,date_of_birth\nA,2005-03-12\nB,2005-12-03\n"));
  ASSERT_EQ(f.signals.size(), 2u);
  EXPECT_NE(f.signals[0].person.Get(Field::FIELD_DATE_OF_BIRTH),
            f.signals[1].person.Get(Field::FIELD_DATE_OF_BIRTH));
  EXPECT_EQ(f.signals[0].person.Get(Field::FIELD_DOB_DAY_MONTH_UNORDERED),
            f.signals[1].person.Get(Field::FIELD_DOB_DAY_MONTH_UNORDERED));
}

TEST_F(SignalTest, UnknownColumnsRefuseTheFileAndAreNamed) {
  EXPECT_THAT(Parse("record_id,naam,bsn\nR1,x,y\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown columns 2, 3 (counted from 1"));
  EXPECT_THAT(Parse("given_names,surname\nJan,Jansen\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "record_id"));
  EXPECT_THAT(Parse("record_id,form,FORM\nR1,,\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "repeated column: form"));
}

TEST_F(SignalTest, MissingAndDuplicateRecordIdsAreSkippedByLine) {
  ASSERT_OK_AND_ASSIGN(SignalFile f,
                       Parse("record_id,form\nR1,sexual\n,criminal\nR1,labour\nR2,other\n"));
  ASSERT_EQ(f.signals.size(), 2u);
  EXPECT_EQ(f.signals[0].record_id, "R1");
  EXPECT_EQ(f.signals[0].report.form(), v1::FORM_SEXUAL);  // the first R1 wins
  EXPECT_EQ(f.signals[1].record_id, "R2");
  ASSERT_EQ(f.skipped.size(), 2u);
  EXPECT_EQ(f.skipped[0].line, 3);
  EXPECT_EQ(FormatIssue(f.skipped[0]), "line 3, field record_id: missing record_id; record skipped");
  EXPECT_EQ(f.skipped[1].line, 4);
  EXPECT_EQ(FormatIssue(f.skipped[1]),
            "line 4, record R1, field record_id: duplicate record_id (first on line 2); record "
            "skipped");
  EXPECT_EQ(f.records_read, 4);
}

TEST_F(SignalTest, CsvErrorsBecomeSkippedRecords) {
  ASSERT_OK_AND_ASSIGN(SignalFile f, Parse("record_id,form\nR1,sexual\nR2,\"x\nR3,labour\n"));
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].line, 3);
  ASSERT_EQ(f.signals.size(), 2u);
  EXPECT_EQ(f.signals[1].record_id, "R3");
  EXPECT_EQ(f.records_read, 3);
}

// Identifier fields that do not parse are named and left out; the record still goes. (A
// category, area or signal date that does not parse keeps the record from being sent:
// see the next test.)
TEST_F(SignalTest, BadFieldsWarnByNameAndTheRecordStillGoes) {
  ASSERT_OK_AND_ASSIGN(
      SignalFile f,
      Parse("record_id,given_names,surname,date_of_birth,national_id,phone,form,area,"
            "signal_date,postcode,email\n"
            "R7,Fatima,El Amrani,31-02-2001,123456783,06-123,,,,"
            "ABC-XX,nope\n",
            {"oost", "west"}));
  ASSERT_EQ(f.signals.size(), 1u);
  const Signal& s = f.signals[0];
  std::vector<std::string> fields;
  for (const auto& w : f.warnings) {
    EXPECT_EQ(w.line, 2);
    EXPECT_EQ(w.record_id, "R7");
    fields.push_back(w.field);
    std::string text = FormatIssue(w);
    for (const char* value : {"31-02-2001", "123456783", "06-123", "bogus", "atlantis",
                              "2024-13-01", "ABC-XX", "nope", "Fatima", "Amrani"}) {
      EXPECT_EQ(text.find(value), std::string::npos) << text;
    }
  }
  EXPECT_THAT(fields, ElementsAre("date_of_birth", "national_id", "phone", "postcode", "email"));
  EXPECT_EQ(FormatIssue(f.warnings[1]), "line 2, record R7, field national_id: fails the "
                                        "eleven-test; not used");
  EXPECT_FALSE(s.person.Has(Field::FIELD_DATE_OF_BIRTH));
  EXPECT_FALSE(s.person.Has(Field::FIELD_NATIONAL_ID));
  EXPECT_FALSE(s.person.Has(Field::FIELD_PHONE));
  EXPECT_EQ(s.person.Get(Field::FIELD_SURNAME), "amrani");  // good fields are kept
}

// A bad category word, area and signal date in one record: one `skipped` entry (the first
// column), the others as warnings of the same record; nothing of it is sent.
TEST_F(SignalTest, BadCategoriesAreaOrSignalDateKeepTheRecordFromBeingSent) {
  ASSERT_OK_AND_ASSIGN(
      SignalFile f,
      Parse("record_id,surname,form,area,signal_date\n"
            "R7,El Amrani,bogus,atlantis,2024-13-01\n"
            "R8,El Amrani,sexual,oost,2024-03-01\n",
            {"oost", "west"}));
  ASSERT_EQ(f.signals.size(), 1u);
  EXPECT_EQ(f.signals[0].record_id, "R8");
  ASSERT_EQ(f.skipped.size(), 1u);
  EXPECT_EQ(f.skipped[0].field, "form");
  EXPECT_EQ(f.skipped[0].record_id, "R7");
  std::vector<std::string> fields;
  for (const auto& w : f.warnings) fields.push_back(w.field);
  EXPECT_THAT(fields, ElementsAre("area", "signal_date"));
  for (const auto& i : {f.skipped[0], f.warnings[0], f.warnings[1]}) {
    const std::string text = FormatIssue(i);
    EXPECT_THAT(text, ::testing::HasSubstr("record not sent"));
    for (const char* value : {"bogus", "atlantis", "2024-13-01", "Amrani"}) {
      EXPECT_EQ(text.find(value), std::string::npos) << text;
    }
  }
  EXPECT_EQ(f.records_read, static_cast<int>(f.signals.size() + f.skipped.size()));
}

TEST_F(SignalTest, CategoryWordsAreCaseInsensitiveAndEmptyIsUnknown) {
  ASSERT_OK_AND_ASSIGN(SignalFile f,
                       Parse("record_id,form,gender,coercion\nR1, Sexual_And_Criminal ,,\n"
                             "R2,UNKNOWN,MALE,unknown;sextortion\n"));
  ASSERT_EQ(f.signals.size(), 2u);
  EXPECT_TRUE(f.warnings.empty());
  EXPECT_EQ(f.signals[0].report.form(), v1::FORM_SEXUAL_AND_CRIMINAL);
  EXPECT_EQ(f.signals[0].report.gender(), v1::GENDER_UNSPECIFIED);
  EXPECT_FALSE(f.signals[0].person.Has(Field::FIELD_GENDER));
  EXPECT_EQ(f.signals[1].report.form(), v1::FORM_UNSPECIFIED);
  EXPECT_EQ(f.signals[1].person.Get(Field::FIELD_GENDER), "male");
  EXPECT_THAT(f.signals[1].report.coercion(), ElementsAre(v1::COERCION_SEXTORTION));
}

TEST_F(SignalTest, AreaWithoutConfiguredListAcceptsCodes) {
  ASSERT_OK_AND_ASSIGN(SignalFile f, Parse("record_id,area\nR1,Oude_Wijken\nR2,oude wijken\n"));
  ASSERT_EQ(f.signals.size(), 1u);
  EXPECT_EQ(f.signals[0].report.area(), "oude_wijken");
  ASSERT_EQ(f.skipped.size(), 1u);  // not an area code: R2 is not sent
  EXPECT_EQ(f.skipped[0].field, "area");
  EXPECT_EQ(f.skipped[0].record_id, "R2");
}

TEST_F(SignalTest, SignalDateDutchFormAndDerivedAgeBand) {
  ASSERT_OK_AND_ASSIGN(
      SignalFile f,
      Parse("record_id,date_of_birth,signal_date,age_band\n"
            "A,2011-05-01,01-05-2024,\n"      // 13 on the day
            "B,2011-05-02,01-05-2024,\n"      // still 12
            "C,2006-01-01,15-03-2024,\n"      // 18
            "D,1990-01-01,15-03-2024,\n"      // 34
            "E,2011-05-02,01-05-2024,27_plus\n"  // a given band wins
            "F,2011-05-02,,\n"));             // no signal date: unknown
  ASSERT_EQ(f.signals.size(), 6u);
  EXPECT_EQ(f.signals[0].report.age_band(), v1::AGE_BAND_13_17);
  EXPECT_EQ(f.signals[0].report.signal_month(), 202405u);
  EXPECT_EQ(f.signals[1].report.age_band(), v1::AGE_BAND_0_12);
  EXPECT_EQ(f.signals[2].report.age_band(), v1::AGE_BAND_18_26);
  EXPECT_EQ(f.signals[3].report.age_band(), v1::AGE_BAND_27_PLUS);
  EXPECT_EQ(f.signals[4].report.age_band(), v1::AGE_BAND_27_PLUS);
  EXPECT_EQ(f.signals[5].report.age_band(), v1::AGE_BAND_UNSPECIFIED);
}

TEST_F(SignalTest, InitialsOnlyGiveNoFirstName) {
  ASSERT_OK_AND_ASSIGN(SignalFile f, Parse("record_id,given_names\nR1,J.M.\n"));
  const Person& p = f.signals[0].person;
  EXPECT_FALSE(p.Has(Field::FIELD_FIRST_GIVEN_NAME));
  EXPECT_FALSE(p.Has(Field::FIELD_GIVEN_NAMES));
  EXPECT_EQ(p.Get(Field::FIELD_FIRST_INITIAL), "j");
}

}  // namespace
}  // namespace samenzicht::agency_node
