#include "agency_node/csv.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;
using ::testing::ElementsAre;

TEST(CsvTest, ParsesHeaderAndRecordsWithLineNumbers) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("a,b\n1,2\n3,4\n"));
  EXPECT_THAT(f.header, ElementsAre("a", "b"));
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[0].line, 2);
  EXPECT_THAT(f.records[0].fields, ElementsAre("1", "2"));
  EXPECT_EQ(f.records[1].line, 3);
  EXPECT_TRUE(f.errors.empty());
}

TEST(CsvTest, QuotedFieldsWithCommasQuotesAndNewlines) {
  ASSERT_OK_AND_ASSIGN(CsvFile f,
                       ParseCsv("id,name\r\n1,\"Berg, van der\"\r\n2,\"say \"\"hi\"\"\"\r\n"
                                "3,\"two\nlines\"\r\n4,last\r\n"));
  ASSERT_EQ(f.records.size(), 4u);
  EXPECT_EQ(f.records[0].fields[1], "Berg, van der");
  EXPECT_EQ(f.records[1].fields[1], "say \"hi\"");
  EXPECT_EQ(f.records[2].fields[1], "two\nlines");
  EXPECT_EQ(f.records[2].line, 4);
  EXPECT_EQ(f.records[3].line, 6);  // the embedded newline counts as a physical line
  EXPECT_EQ(f.records[3].fields[1], "last");
}

TEST(CsvTest, SkipsBomBlankLinesAndMissingFinalNewline) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("\xEF\xBB\xBFid,x\n\n1,a\n\n2,b"));
  EXPECT_THAT(f.header, ElementsAre("id", "x"));
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[0].line, 3);
  EXPECT_EQ(f.records[1].line, 5);
  EXPECT_THAT(f.records[1].fields, ElementsAre("2", "b"));
}

TEST(CsvTest, EmptyFieldsAreKept) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("a,b,c\n,,\n\"\",x,\n"));
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_THAT(f.records[0].fields, ElementsAre("", "", ""));
  EXPECT_THAT(f.records[1].fields, ElementsAre("", "x", ""));
}

TEST(CsvTest, WrongFieldCountIsSkippedByLineAndTheRestContinues) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("a,b\n1,2\n1,2,3\n4\n5,6\n"));
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[1].line, 5);
  ASSERT_EQ(f.errors.size(), 2u);
  EXPECT_EQ(f.errors[0].line, 3);
  EXPECT_EQ(f.errors[0].message, "expected 2 fields, found 3");
  EXPECT_EQ(f.errors[1].line, 4);
}

TEST(CsvTest, UnterminatedQuoteLosesOneRecordOnly) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("a,b\n1,\"open\n2,x\n3,y\n"));
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].line, 2);
  EXPECT_EQ(f.errors[0].message, "unterminated quoted field");
  ASSERT_EQ(f.records.size(), 2u);
  EXPECT_EQ(f.records[0].line, 3);
  EXPECT_THAT(f.records[0].fields, ElementsAre("2", "x"));
  EXPECT_EQ(f.records[1].line, 4);
}

// A stray opening quote runs on to the next quote of the file, here the opening quote of
// a later quoted surname; the record it started is lost and nothing else.
TEST(CsvTest, AStrayQuoteClosedByALaterQuotedFieldCostsOneRecord) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("id,name,x\n"
                                           "r1,\"Jansen,a\n"
                                           "r2,Bakker,b\n"
                                           "r3,Smit,c\n"
                                           "r4,\"LINDEN, VAN DER\",d\n"
                                           "r5,Visser,e\n"));
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].line, 2);
  std::vector<std::string> ids;
  for (const auto& r : f.records) ids.push_back(r.fields[0]);
  EXPECT_THAT(ids, ElementsAre("r2", "r3", "r4", "r5"));
  EXPECT_EQ(f.records[2].fields[1], "LINDEN, VAN DER");
  EXPECT_EQ(f.records[2].line, 5);
}

// The same when the run-on record ends in a wrong number of fields.
TEST(CsvTest, AStrayQuoteEndingInAWrongFieldCountCostsOneRecord) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("id,name,x\n"
                                           "r1,\"Jansen,a\n"
                                           "r2,Bakker,b\n"
                                           "r3,q\",c,d,e\n"
                                           "r4,Visser,e\n"));
  ASSERT_EQ(f.errors.size(), 2u);
  EXPECT_EQ(f.errors[0].line, 2);
  EXPECT_EQ(f.errors[1].line, 4);  // r3's own stray quote
  std::vector<std::string> ids;
  for (const auto& r : f.records) ids.push_back(r.fields[0]);
  EXPECT_THAT(ids, ElementsAre("r2", "r4"));
  EXPECT_EQ(f.data_line, 2);
}

TEST(CsvTest, StrayQuotesAreErrors) {
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("a,b\nab\"c,1\n\"x\"y,2\nok,3\n"));
  ASSERT_EQ(f.errors.size(), 2u);
  EXPECT_EQ(f.errors[0].line, 2);
  EXPECT_EQ(f.errors[1].line, 3);
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].line, 4);
}

// In a file with UTF-8 text (here "oké"), so it is read as UTF-8 (a file without any is
// read as Windows-1252: exports_test.cc).
TEST(CsvTest, InvalidUtf8AndNulAreSkippedWithoutEchoingTheField) {
  std::string text = "a,b\nJan\xC3\x28,1\nok\xC3\xA9,2\n";
  text += std::string("nul\0byte,3\n", 11);
  text += "\xED\xA0\x80,4\n";  // an encoded surrogate
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv(text));
  ASSERT_EQ(f.errors.size(), 3u);
  EXPECT_EQ(f.errors[0].line, 2);
  EXPECT_EQ(f.errors[0].message, "invalid UTF-8 in field 1");
  EXPECT_EQ(f.errors[1].line, 4);
  EXPECT_EQ(f.errors[1].message, "NUL byte in field 1");
  EXPECT_EQ(f.errors[2].line, 5);
  ASSERT_EQ(f.records.size(), 1u);
  EXPECT_EQ(f.records[0].line, 3);
  for (const auto& e : f.errors) EXPECT_EQ(e.message.find("Jan"), std::string::npos);
}

TEST(CsvTest, EmptyFileOrBadHeaderIsRefused) {
  EXPECT_THAT(ParseCsv(""), StatusIs(absl::StatusCode::kInvalidArgument, "no header"));
  EXPECT_THAT(ParseCsv("\n\n"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCsv("a,\"b\n"), StatusIs(absl::StatusCode::kInvalidArgument, "line 1"));
}

TEST(CsvTest, ReadCsvFileNamesAMissingPath) {
  EXPECT_THAT(ReadCsvFile("/nonexistent/signals.csv"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(CsvTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("Öztürk Łukasz Шевченко محمد"));
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

}  // namespace
}  // namespace samenzicht::agency_node
