// Table-driven hostile exports: each bad record sits between two good ones. The
// issue must name the line, the record (when known) and the field, exactly, never the
// value; and both good records must still be read (proof the rest of the file was
// processed). Whole-file problems are refused with a message naming the columns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agency_node/csv.h"
#include "agency_node/signal.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;

constexpr char kHeader[] = "record_id,given_names,surname,date_of_birth,national_id,form,signal_date\n";
constexpr char kGood1[] = "GOOD-1,Anna,Jansen,12-03-2005,123456782,sexual,2024-03-01\n";
constexpr char kGood2[] = "GOOD-2,Piet,Bakker,01-01-1990,,criminal,2024-04-01\n";

enum class Kind { kSkipped, kWarning };

struct BadRow {
  const char* name;
  std::string row;      // line 3 of the file
  Kind kind;
  std::string issue;    // FormatIssue(...), exact
};

class BadInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { normaliser_ = Normaliser::New()->release(); }
  static void TearDownTestSuite() { delete normaliser_; }
  absl::StatusOr<SignalFile> Parse(const std::string& text) {
    auto csv = ParseCsv(text);
    if (!csv.ok()) return csv.status();
    SignalOptions o;
    o.today = Date{2024, 6, 15};
    o.areas = {"oost"};
    return ParseSignals(*csv, *normaliser_, o);
  }
  static Normaliser* normaliser_;
};
Normaliser* BadInputTest::normaliser_ = nullptr;

TEST_F(BadInputTest, EachBadRecordIsNamedAndTheRestOfTheFileIsRead) {
  const std::vector<BadRow> cases = {
      {"quote inside an unquoted field", "BAD,An\"na,Jansen,,,,\n", Kind::kSkipped,
       "line 3: quote inside an unquoted field"},
      {"text after a closing quote", "BAD,\"Anna\"x,Jansen,,,,\n", Kind::kSkipped,
       "line 3: unexpected character after a closing quote"},
      {"too few fields", "BAD,Anna,Jansen\n", Kind::kSkipped,
       "line 3: expected 7 fields, found 3"},
      {"too many fields", "BAD,Anna,Jansen,,,,,,extra\n", Kind::kSkipped,
       "line 3: expected 7 fields, found 9"},
      {"embedded NUL", std::string("BAD,An\0na,Jansen,,,,\n", 21), Kind::kSkipped,
       "line 3: NUL byte in field 2"},
      // In a UTF-8 file (here: "Zoë"); a file without any UTF-8 sequence is read as
      // Windows-1252 (exports_test.cc).
      {"invalid UTF-8", "BAD,Zo\xc3\xab,Jans\xc3\x28n,,,,\n", Kind::kSkipped,
       "line 3: invalid UTF-8 in field 3"},
      {"overlong UTF-8", "BAD,Zo\xc3\xab,\xc0\xafJansen,,,,\n", Kind::kSkipped,
       "line 3: invalid UTF-8 in field 3"},
      {"huge field", "BAD," + std::string(kMaxFieldBytes + 1, 'a') + ",Jansen,,,,\n",
       Kind::kSkipped, "line 3: field 2 is longer than 4096 bytes"},
      {"missing record id", ",Anna,Jansen,,,,\n", Kind::kSkipped,
       "line 3, field record_id: missing record_id; record skipped"},
      {"repeated record id", "GOOD-1,Anna,Jansen,,,,\n", Kind::kSkipped,
       "line 3, record GOOD-1, field record_id: duplicate record_id (first on line 2); record skipped"},
      {"impossible date (31 February)", "BAD,Anna,Jansen,31-02-2001,,,\n", Kind::kWarning,
       "line 3, record BAD, field date_of_birth: impossible date; not used"},
      {"impossible date (month 13)", "BAD,Anna,Jansen,2001-13-01,,,\n", Kind::kWarning,
       "line 3, record BAD, field date_of_birth: impossible date; not used"},
      {"date of birth in the future", "BAD,Anna,Jansen,01-01-2030,,,\n", Kind::kWarning,
       "line 3, record BAD, field date_of_birth: date in the future; not used"},
      {"BSN failing the eleven-test", "BAD,Anna,Jansen,,123456789,,\n", Kind::kWarning,
       "line 3, record BAD, field national_id: fails the eleven-test; not used"},
      {"BSN of the wrong length", "BAD,Anna,Jansen,,12345,,\n", Kind::kWarning,
       "line 3, record BAD, field national_id: not 9 digits; not used"},
      // A category or signal date that does not parse: the record is not sent (sent with
      // the field blanked it would drop out of that category's or month's figures).
      {"unknown category word", "BAD,Anna,Jansen,,,smuggling,\n", Kind::kSkipped,
       "line 3, record BAD, field form: unknown word; valid words: sexual, criminal, "
       "sexual_and_criminal, labour, other (or a Dutch word of the README's table); record not "
       "sent"},
      {"impossible signal date", "BAD,Anna,Jansen,,,,2024-02-30\n", Kind::kSkipped,
       "line 3, record BAD, field signal_date: impossible date (a signal date is a past date "
       "such as 2024-03-15 or 15-03-2024); record not sent"},
      {"signal date in the future", "BAD,Anna,Jansen,,,,2024-07-01\n", Kind::kSkipped,
       "line 3, record BAD, field signal_date: date in the future (a signal date is a past "
       "date such as 2024-03-15 or 15-03-2024); record not sent"},
  };
  for (const BadRow& c : cases) {
    SCOPED_TRACE(c.name);
    auto f = Parse(std::string(kHeader) + kGood1 + c.row + kGood2);
    ASSERT_TRUE(f.ok()) << f.status();
    std::vector<std::string> read;
    for (const Signal& s : f->signals) read.push_back(s.record_id);
    EXPECT_EQ(f->records_read, 3);
    if (c.kind == Kind::kSkipped) {
      ASSERT_EQ(f->skipped.size(), 1u);
      EXPECT_EQ(FormatIssue(f->skipped[0]), c.issue);
      EXPECT_EQ(f->skipped[0].line, 3);
      EXPECT_TRUE(f->warnings.empty()) << FormatIssue(f->warnings[0]);
      EXPECT_EQ(read, (std::vector<std::string>{"GOOD-1", "GOOD-2"}));
    } else {
      EXPECT_TRUE(f->skipped.empty()) << FormatIssue(f->skipped[0]);
      ASSERT_EQ(f->warnings.size(), 1u);
      EXPECT_EQ(FormatIssue(f->warnings[0]), c.issue);
      EXPECT_EQ(read, (std::vector<std::string>{"GOOD-1", "BAD", "GOOD-2"}));  // still goes
    }
    // No message holds the bad value.
    std::string all;
    for (const auto& i : f->skipped) all += FormatIssue(i);
    for (const auto& i : f->warnings) all += FormatIssue(i);
    for (const char* value : {"Jans", "123456789", "smuggling", "31-02-2001", "An\"na"}) {
      EXPECT_EQ(all.find(value), std::string::npos) << value;
    }
  }
}

TEST_F(BadInputTest, WholeFileProblemsAreRefusedNamingTheColumns) {
  EXPECT_THAT(Parse("record_id,shoe_size,surname\nA,42,x\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown column 2 (counted from 1"));
  // ';' and TAB are separators (read from the header row); another one is not.
  EXPECT_THAT(Parse("record_id|surname\nA|x\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "is the separator a comma?"));
  EXPECT_THAT(Parse("surname,form\nJansen,sexual\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "record_id"));
  EXPECT_THAT(Parse("record_id,surname,Surname\nA,x,y\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, "surname"));
  EXPECT_THAT(Parse(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(BadInputTest, AnUnterminatedQuoteLosesOneRecordAndSaysWhere) {
  auto f = Parse(std::string(kHeader) + kGood1 + "BAD,\"Anna,Jansen,,,,\n" + kGood2);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_EQ(f->skipped.size(), 1u);
  EXPECT_EQ(FormatIssue(f->skipped[0]), "line 3: unterminated quoted field");
  ASSERT_EQ(f->signals.size(), 2u);
  EXPECT_EQ(f->signals[0].record_id, "GOOD-1");
  EXPECT_EQ(f->signals[1].record_id, "GOOD-2");
}

// A stray quote followed by plain rows and then a quoted surname, as real exports have:
// the stray quote costs its own record, every other row is read, and read = sent + skipped.
TEST_F(BadInputTest, AStrayQuoteBeforeAQuotedSurnameCostsOneRecord) {
  auto f = Parse(std::string(kHeader) + "R1,\"Anna,Jansen,,,sexual,\n" +
                 "R2,Piet,Bakker,,,criminal,\n" + "R3,Els,Smit,,,labour,\n" +
                 "R4,Jan,\"LINDEN, VAN DER\",,,sexual,\n" + "R5,Kees,Visser,,,labour,\n");
  ASSERT_TRUE(f.ok()) << f.status();
  std::vector<std::string> read;
  for (const Signal& s : f->signals) read.push_back(s.record_id);
  EXPECT_EQ(read, (std::vector<std::string>{"R2", "R3", "R4", "R5"}));
  ASSERT_EQ(f->skipped.size(), 1u);
  EXPECT_EQ(f->skipped[0].line, 2);
  EXPECT_EQ(f->records_read, 5);
  EXPECT_EQ(f->records_read, static_cast<int>(f->signals.size() + f->skipped.size()));
}

}  // namespace
}  // namespace samenzicht::agency_node
