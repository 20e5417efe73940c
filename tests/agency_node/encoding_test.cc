// The encodings an export arrives in (csv.h): UTF-16 with a byte-order mark and Latin-1 /
// Windows-1252 are converted with a notice that holds no field text; a UTF-8 file with a
// broken byte is not converted (only the record holding it is skipped, named by line).
// What the operator sees: `pseudonymise` (as `submit`) prints the notice before its counts.
#include <spdlog/sinks/null_sink.h>

#include <filesystem>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agency_node/commands.h"
#include "agency_node/csv.h"
#include "common/files.h"
#include "crypto/key_file.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::testing::ElementsAre;
using ::testing::StartsWith;

// `utf8` (ASCII and Latin-1 letters only) as UTF-16 with its byte-order mark.
std::string Utf16(const std::string& utf8, bool little_endian) {
  std::string out = little_endian ? std::string("\xFF\xFE") : std::string("\xFE\xFF");
  for (size_t i = 0; i < utf8.size(); ++i) {
    unsigned code = static_cast<unsigned char>(utf8[i]);
    if (code >= 0xC0) {  // a two-byte sequence (U+0080..U+07FF)
      code = ((code & 0x1F) << 6) | (static_cast<unsigned char>(utf8[++i]) & 0x3F);
    }
    const char hi = static_cast<char>(code >> 8), lo = static_cast<char>(code & 0xFF);
    out += little_endian ? std::string{lo, hi} : std::string{hi, lo};
  }
  return out;
}

// Rows of accented names, as an old case system exports them.
std::string NamesCsv(bool latin1) {
  const std::string e = latin1 ? "\xEB" : "ë", u = latin1 ? "\xFC" : "ü", c = latin1 ? "\xE7" : "ç";
  std::string text = "record_id,given_names,surname\n";
  for (int i = 1; i <= 30; ++i) {
    text += "R" + std::to_string(i) + ",Zo" + e + " Ana" + e + "s,Br" + u + "hl-" + c + "elik\n";
  }
  return text;
}

TEST(EncodingTest, Utf16WithAByteOrderMarkIsConvertedWithANotice) {
  for (bool le : {true, false}) {
    SCOPED_TRACE(le ? "UTF-16LE" : "UTF-16BE");
    ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv(Utf16("record_id;surname\nR1;Brühl\nR2;Zoë\n", le)));
    EXPECT_EQ(f.encoding, le ? "UTF-16LE" : "UTF-16BE");
    EXPECT_THAT(f.notices, ElementsAre(std::string("the file is ") + (le ? "UTF-16LE" : "UTF-16BE") +
                                       " (byte-order mark): converted to UTF-8"));
    EXPECT_EQ(f.separator, ';');
    ASSERT_EQ(f.records.size(), 2u);
    EXPECT_EQ(f.records[0].fields[1], "Brühl");
    EXPECT_EQ(f.records[1].fields[1], "Zoë");
    EXPECT_TRUE(f.errors.empty());
  }
}

TEST(EncodingTest, Latin1IsReadAsWindows1252AndGivesTheUtf8Text) {
  ASSERT_OK_AND_ASSIGN(CsvFile latin1, ParseCsv(NamesCsv(true)));
  ASSERT_OK_AND_ASSIGN(CsvFile utf8, ParseCsv(NamesCsv(false)));
  EXPECT_EQ(latin1.encoding, "windows-1252");
  ASSERT_EQ(latin1.notices.size(), 1u);
  EXPECT_THAT(latin1.notices[0], StartsWith("the file is not UTF-8: read as windows-1252 (ICU charset "
                                            "detection, confidence "));
  EXPECT_EQ(latin1.notices[0].find("Br"), std::string::npos) << "no field text in a notice";
  ASSERT_EQ(latin1.records.size(), 30u);
  for (size_t i = 0; i < latin1.records.size(); ++i) {
    EXPECT_EQ(latin1.records[i].fields, utf8.records[i].fields) << "line " << latin1.records[i].line;
  }
  EXPECT_EQ(utf8.encoding, "UTF-8");
  EXPECT_TRUE(utf8.notices.empty());
}

// One broken byte in a UTF-8 export: the file is not taken for Latin-1 (that would garble
// every other accented name); the record holding it is skipped by line, the others read.
TEST(EncodingTest, AUtf8FileWithOneBrokenByteIsNotConverted) {
  std::string text = NamesCsv(false);
  text.replace(text.find("R7,Zo\xC3\xAB"), 7, "R7,Zo\xEB");  // line 8: a Latin-1 byte
  ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv(text));
  EXPECT_EQ(f.encoding, "UTF-8");
  EXPECT_THAT(f.notices, ElementsAre("the file is UTF-8 with some invalid bytes: it is read as "
                                     "UTF-8 and the records holding invalid bytes are skipped"));
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].line, 8);
  EXPECT_EQ(f.records.size(), 29u);
  EXPECT_EQ(f.records[0].fields[1], "Zoë Anaës");
}

TEST(EncodingTest, PseudonymisePrintsTheConversionNoticeBeforeItsCounts) {
  const std::string dir = ::testing::TempDir() + "/encoding_test_notice";
  std::filesystem::remove_all(dir);
  ASSERT_OK(files::MakeDirs(dir));
  ASSERT_OK(crypto::GenerateKeyFile(dir + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
  ASSERT_OK(files::WriteFileAtomic(dir + "/latin1.csv", NamesCsv(true), 0600));
  PseudonymiseOptions o;
  o.key_file = dir + "/hashing.key";
  o.in = dir + "/latin1.csv";
  o.out = dir + "/reports.jsonl";
  o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
  o.today = Date{2024, 6, 15};
  spdlog::logger log("test", std::make_shared<spdlog::sinks::null_sink_mt>());
  std::ostringstream out;
  ASSERT_OK(PseudonymiseCommand(o, log, out));
  EXPECT_THAT(out.str(), StartsWith("notice:          the file is not UTF-8: read as windows-1252 "
                                    "(ICU charset detection, confidence "));
  EXPECT_THAT(out.str(), ::testing::HasSubstr("%) and converted to UTF-8; saving exports as UTF-8 "
                                              "avoids the guess\nrecords read:    30\n"
                                              "skipped:         0\nfield warnings:  0\n"));
  EXPECT_EQ(out.str().find("Br"), std::string::npos) << "no name in the output";
}

}  // namespace
}  // namespace samenzicht::agency_node
