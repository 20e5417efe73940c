// Exports as real case systems and spreadsheet programs write them arrive whole: a
// Windows-1252 file with accented names, a Dutch spreadsheet's semicolon file with Dutch
// category words, and the records that cannot arrive whole (an unknown word, an impossible
// or future signal date) are named and not sent; a run that did not bring every record
// over whole ends with kExitRecordsSkipped, and the daemon files such an export under
// failed/ with a report of its rows, never under done/.
//
// testdata/export_utf8.csv is the reference (UTF-8, commas, English words);
// export_windows1252.csv is the same export in Windows-1252 with CRLF;
// export_excel_nl.csv is it as a Dutch spreadsheet saves it: Windows-1252, ';', CRLF, Dutch
// category words ("Seksuele uitbuiting", "V", "13-17", "pleeggezin", "sextortion;schuld").
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "agency_node/commands.h"
#include "agency_node/daemon.h"
#include "agency_node/store/outbox.h"
#include "agency_node/pipeline.h"
#include "common/files.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "model/config.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kTestdata = SAMENZICHT_SOURCE_DIR "/tests/agency_node/testdata/";
const std::string kProfile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";

// Values of the test files that must never be printed.
const char* const kNames[] = {"zoë", "brühl", "muñoz", "renée", "linden", "hüseyin", "çelik",
                              "søren", "ødegård", "anaïs", "hondt", "maëlle", "eßer",
                              "zo\xeb", "br\xfchl", "12345678", "9711"};

void ExpectNoName(const std::string& what, const std::string& text) {
  const std::string lower = absl::AsciiStrToLower(text);
  for (const char* n : kNames) {
    EXPECT_EQ(lower.find(n), std::string::npos) << "'" << n << "' in " << what << ": " << text;
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

class ExportsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/exports_test/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    ASSERT_OK(files::MakeDirs(dir_ + "/in"));
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/signing.key", crypto::KeyKind::kSigning).status());
    ASSERT_OK_AND_ASSIGN(normaliser_, Normaliser::New());
    ASSERT_OK_AND_ASSIGN(v1::LinkageProfile profile, model::LoadProfile(kProfile));
    ASSERT_OK_AND_ASSIGN(tokeniser_, TokeniserFromKeyFile(profile, dir_ + "/hashing.key"));
    ASSERT_OK_AND_ASSIGN(options_.national_ids, NationalIds::FromProfile(profile));
    options_.today = Date{2024, 6, 15};
    options_.areas = {"oost", "west"};
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    logger_ = std::make_shared<spdlog::logger>("test", sink_);
  }

  PreparedReports Prepare(const std::string& path) {
    auto p = PrepareReports(path, *normaliser_, *tokeniser_, options_);
    EXPECT_OK(p.status());
    return p.ok() ? *std::move(p) : PreparedReports();
  }

  // Every report (categories and tokens) of `a` equals the one of `b`, in order.
  static void ExpectSameReports(const PreparedReports& a, const PreparedReports& b) {
    ASSERT_EQ(a.reports.size(), b.reports.size());
    EXPECT_EQ(a.record_ids, b.record_ids);
    for (size_t i = 0; i < a.reports.size(); ++i) {
      EXPECT_FALSE(a.reports[i].packed_tokens().empty()) << a.record_ids[i];
      EXPECT_EQ(a.reports[i].SerializeAsString(), b.reports[i].SerializeAsString())
          << a.record_ids[i] << "\n" << a.reports[i].DebugString() << "\n" << b.reports[i].DebugString();
    }
  }

  // `pseudonymise` of `in` into `out` with this test's keys and profile, on 15 June 2024.
  PseudonymiseOptions PseudonymiseOf(const std::string& in, const std::string& out) const {
    PseudonymiseOptions o;
    o.key_file = dir_ + "/hashing.key";
    o.in = in;
    o.out = out;
    o.profile = kProfile;
    o.today = Date{2024, 6, 15};
    return o;
  }

  std::string WriteIn(const std::string& name, const std::string& text) {
    const std::string path = dir_ + "/in/" + name;
    EXPECT_OK(files::WriteFileAtomic(path, text, 0600));
    return path;
  }

  std::string dir_;
  std::unique_ptr<Normaliser> normaliser_;
  std::unique_ptr<Tokeniser> tokeniser_;
  SignalOptions options_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(ExportsTest, TheReferenceExportIsReadWhole) {
  PreparedReports utf8 = Prepare(kTestdata + "export_utf8.csv");
  EXPECT_EQ(utf8.records_read, 8);
  EXPECT_EQ(utf8.reports.size(), 8u);
  EXPECT_TRUE(utf8.skipped.empty());
  EXPECT_TRUE(utf8.warnings.empty()) << FormatIssue(utf8.warnings[0]);
  EXPECT_TRUE(utf8.notices.empty());
  EXPECT_FALSE(utf8.incomplete());
  EXPECT_EQ(utf8.reports[0].form(), v1::FORM_SEXUAL);
  EXPECT_EQ(utf8.reports[0].coercion_size(), 2);
}

// Every row of the Windows-1252 file arrives, with the same tokens (so the same normalised
// names) and categories as the UTF-8 file; the conversion is announced without a value.
TEST_F(ExportsTest, AWindows1252ExportArrivesWholeWithTheSameTokens) {
  PreparedReports utf8 = Prepare(kTestdata + "export_utf8.csv");
  PreparedReports cp1252 = Prepare(kTestdata + "export_windows1252.csv");
  EXPECT_EQ(cp1252.records_read, 8);
  EXPECT_TRUE(cp1252.skipped.empty()) << FormatIssue(cp1252.skipped[0]);
  EXPECT_TRUE(cp1252.warnings.empty()) << FormatIssue(cp1252.warnings[0]);
  ASSERT_EQ(cp1252.notices.size(), 1u);
  EXPECT_THAT(cp1252.notices[0], HasSubstr("read as windows-1252"));
  ExpectNoName("the notice", cp1252.notices[0]);
  ExpectSameReports(cp1252, utf8);
}

// Dutch Excel: ';', CRLF, Windows-1252, Dutch words (mixed case, hyphens, spaces) and a
// quoted multi-valued cell: the same reports as the reference.
TEST_F(ExportsTest, ADutchSpreadsheetExportGivesTheSameReports) {
  PreparedReports utf8 = Prepare(kTestdata + "export_utf8.csv");
  PreparedReports nl = Prepare(kTestdata + "export_excel_nl.csv");
  EXPECT_EQ(nl.records_read, 8);
  EXPECT_TRUE(nl.skipped.empty()) << FormatIssue(nl.skipped[0]);
  EXPECT_TRUE(nl.warnings.empty()) << FormatIssue(nl.warnings[0]);
  ExpectSameReports(nl, utf8);
}

TEST_F(ExportsTest, SeparatorsAreDetectedFromTheHeaderRow) {
  for (const char* sep : {",", ";", "\t"}) {
    SCOPED_TRACE(sep == std::string("\t") ? "tab" : sep);
    const std::string s = sep;
    ASSERT_OK_AND_ASSIGN(CsvFile f, ParseCsv("record_id" + s + "form" + s + "coercion\n" + "R1" + s +
                                             "sexual" + s + "\"sextortion;geweld\"\n"));
    EXPECT_EQ(f.separator, sep[0]);
    ASSERT_EQ(f.records.size(), 1u);
    EXPECT_EQ(f.records[0].fields[2], "sextortion;geweld");
  }
}

// Dutch words and synonyms, case-insensitive, for every kind of category.
TEST_F(ExportsTest, DutchCategoryWordsAndSynonymsAreAccepted) {
  ASSERT_OK_AND_ASSIGN(
      CsvFile csv,
      ParseCsv("record_id,form,contact,gender,age_band,background,living_situation,"
               "recruitment_location,coercion,forced_crime\n"
               "R1,sexueel,Waargenomen,v,27+,Niet-Europees,JJI,Middelbare school,Schuld,katvanger\n"
               "R2,Seksueel,direct,Man,0-12,nederlands,bij uitbuiter,sportclub;online,LVB,Geldezel\n"
               "R3,SEXUAL,rechtstreeks,X,18_26,europees,Justitiële jeugdinrichting,AZC,overig,bedelen\n"));
  ASSERT_OK_AND_ASSIGN(SignalFile f, ParseSignals(csv, *normaliser_, options_));
  ASSERT_TRUE(f.skipped.empty()) << FormatIssue(f.skipped[0]);
  ASSERT_EQ(f.signals.size(), 3u);
  const v1::Report& r1 = f.signals[0].report;
  EXPECT_EQ(r1.form(), v1::FORM_SEXUAL);
  EXPECT_EQ(r1.contact(), v1::CONTACT_OBSERVED);
  EXPECT_EQ(r1.gender(), v1::GENDER_FEMALE);
  EXPECT_EQ(r1.age_band(), v1::AGE_BAND_27_PLUS);
  EXPECT_EQ(r1.background(), v1::BACKGROUND_NON_EUROPEAN);
  EXPECT_THAT(r1.living_situation(), ::testing::ElementsAre(v1::LIVING_SITUATION_JUDICIAL_INSTITUTION));
  EXPECT_THAT(r1.recruitment_location(),
              ::testing::ElementsAre(v1::RECRUITMENT_LOCATION_SCHOOL_SECONDARY));
  EXPECT_THAT(r1.coercion(), ::testing::ElementsAre(v1::COERCION_DEBT_BONDAGE));
  EXPECT_THAT(r1.forced_crime(), ::testing::ElementsAre(v1::FORCED_CRIME_STRAW_MAN));
  const v1::Report& r2 = f.signals[1].report;
  EXPECT_EQ(r2.form(), v1::FORM_SEXUAL);
  EXPECT_EQ(r2.gender(), v1::GENDER_MALE);
  EXPECT_EQ(r2.age_band(), v1::AGE_BAND_0_12);
  EXPECT_THAT(r2.recruitment_location(),
              ::testing::ElementsAre(v1::RECRUITMENT_LOCATION_SPORTS_CLUB, v1::RECRUITMENT_LOCATION_ONLINE));
  EXPECT_THAT(r2.coercion(), ::testing::ElementsAre(v1::COERCION_ABUSE_OF_INTELLECTUAL_DISABILITY));
  EXPECT_THAT(r2.forced_crime(), ::testing::ElementsAre(v1::FORCED_CRIME_MONEY_MULE));
  const v1::Report& r3 = f.signals[2].report;
  EXPECT_EQ(r3.form(), v1::FORM_SEXUAL);
  EXPECT_EQ(r3.gender(), v1::GENDER_OTHER);
  EXPECT_THAT(r3.living_situation(), ::testing::ElementsAre(v1::LIVING_SITUATION_JUDICIAL_INSTITUTION));
  EXPECT_THAT(r3.recruitment_location(), ::testing::ElementsAre(v1::RECRUITMENT_LOCATION_REFUGEE_SHELTER));
}

// An unknown word, an impossible and a future signal date, an unknown area: each is an
// error of its record (line, record id, field, the valid values; never the value), the
// record is not sent, and read = sent + skipped.
TEST_F(ExportsTest, UnknownWordsAndImpossibleOrFutureDatesAreNotSent) {
  ASSERT_OK_AND_ASSIGN(CsvFile csv, ParseCsv("record_id,surname,form,area,signal_date\n"
                                             "R1,Jansen,sexueel,oost,2024-03-01\n"
                                             "R2,Brühl,smokkel,oost,2024-03-01\n"
                                             "R3,Jansen,labour,oost,2031-01-01\n"
                                             "R4,Jansen,labour,oost,31-02-2024\n"
                                             "R5,Jansen,labour,noord,2024-03-01\n"
                                             "R6,Jansen,crimineel,west,15-06-2024\n"));
  ASSERT_OK_AND_ASSIGN(SignalFile f, ParseSignals(csv, *normaliser_, options_));
  std::vector<std::string> sent;
  for (const Signal& s : f.signals) sent.push_back(s.record_id);
  EXPECT_THAT(sent, ::testing::ElementsAre("R1", "R6"));
  ASSERT_EQ(f.skipped.size(), 4u);
  EXPECT_EQ(FormatIssue(f.skipped[0]),
            "line 3, record R2, field form: unknown word; valid words: sexual, criminal, "
            "sexual_and_criminal, labour, other (or a Dutch word of the README's table); record "
            "not sent");
  EXPECT_EQ(f.skipped[1].line, 4);
  EXPECT_EQ(f.skipped[1].field, "signal_date");
  EXPECT_THAT(f.skipped[1].message, HasSubstr("record not sent"));
  EXPECT_EQ(f.skipped[2].line, 5);
  EXPECT_EQ(f.skipped[2].field, "signal_date");
  EXPECT_EQ(FormatIssue(f.skipped[3]),
            "line 6, record R5, field area: unknown area; valid areas: oost, west; record not sent");
  EXPECT_TRUE(f.warnings.empty());
  EXPECT_EQ(f.records_read, static_cast<int>(f.signals.size() + f.skipped.size()));
  for (const auto& i : f.skipped) ExpectNoName("an issue", FormatIssue(i));
  for (const auto& i : f.skipped) EXPECT_EQ(FormatIssue(i).find("smokkel"), std::string::npos);
}

// `pseudonymise` writes the whole records and returns the records-skipped status, which the
// binary turns into kExitRecordsSkipped.
TEST_F(ExportsTest, ARunWithASkippedRecordDoesNotEndInSuccess) {
  const std::string in = WriteIn("x.csv", "record_id,surname,form,signal_date\n"
                                          "R1,Jansen,sexual,2024-03-01\n"
                                          "R2,Jansen,sexual,2031-03-01\n");
  PseudonymiseOptions o = PseudonymiseOf(in, dir_ + "/x.jsonl");
  std::ostringstream out;
  absl::Status s = PseudonymiseCommand(o, *logger_, out);
  EXPECT_TRUE(IsRecordsSkipped(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("1 record(s) not sent"));
  EXPECT_THAT(out.str(), HasSubstr("skipped:         1 (line 3)"));
  EXPECT_THAT(out.str(), HasSubstr("reports written: 1"));
  const std::string written = Slurp(o.out);
  EXPECT_EQ(std::count(written.begin(), written.end(), '\n'), 1);

  const std::string cmd = std::string(SAMENZICHT_BINARY_DIR) + "/agency_node/agency-node pseudonymise --key " +
                          o.key_file + " --in " + in + " --out " + o.out + " --profile " + kProfile +
                          " >/dev/null 2>" + dir_ + "/err.txt";
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(WEXITSTATUS(rc), kExitRecordsSkipped);
  EXPECT_THAT(Slurp(dir_ + "/err.txt"), HasSubstr("error: the export did not arrive whole"));

  // A whole export ends in success. One whose records all went, one of them without an
  // identifier that did not parse (listed as a field warning), ends with its own status,
  // kExitFieldsNotUsed from the binary.
  o.in = kTestdata + "export_excel_nl.csv";
  EXPECT_OK(PseudonymiseCommand(o, *logger_, out));
  o.in = WriteIn("bsn.csv", "record_id,surname,national_id,form\nR1,Jansen,123456789,sexual\n");
  std::ostringstream out2;
  const absl::Status degraded = PseudonymiseCommand(o, *logger_, out2);
  EXPECT_TRUE(IsFieldsNotUsed(degraded)) << degraded;
  EXPECT_FALSE(IsRecordsSkipped(degraded));
  EXPECT_THAT(std::string(degraded.message()),
              HasSubstr("every record was sent, but 1 record(s) without 1 identifier field(s)"));
  EXPECT_THAT(out2.str(), HasSubstr("field warnings:  1"));
  EXPECT_THAT(out2.str(), HasSubstr("reports written: 1"));
  const std::string cmd2 = std::string(SAMENZICHT_BINARY_DIR) +
                           "/agency_node/agency-node pseudonymise --key " + o.key_file +
                           " --in " + o.in + " --out " + o.out + " --profile " + kProfile +
                           " >/dev/null 2>" + dir_ + "/err2.txt";
  const int rc2 = std::system(cmd2.c_str());
  EXPECT_EQ(WEXITSTATUS(rc2), kExitFieldsNotUsed);
  const std::string err2 = Slurp(dir_ + "/err2.txt");
  EXPECT_THAT(err2, HasSubstr("warning: every record was sent, but 1 record(s)"));
  EXPECT_EQ(err2.find("123456789"), std::string::npos);
}

// Stray quotes as real exports have them: `"Jansen` opened and never closed, followed by
// plain rows and, further on, a row with a properly quoted surname ("LINDEN, VAN DER") of
// the right field count. Each stray quote costs its own record, named by line; no row in
// between is lost, and read = sent + skipped, over a file of 176 data rows.
TEST_F(ExportsTest, StrayQuotesCostTheirOwnRecordOnlyOverALongExport) {
  std::string text = "record_id,given_names,surname,form,signal_date\n";
  std::vector<std::string> expected_sent;
  std::vector<int> stray_lines;
  for (int i = 1; i <= 176; ++i) {
    const std::string id = "R" + std::to_string(i);
    if (i % 29 == 3) {  // 6 stray quotes
      text += id + ",Anna,\"Jansen,sexual,2024-03-01\n";
      stray_lines.push_back(i + 1);
    } else if (i % 29 == 9) {  // each followed, a few rows on, by a quoted surname
      text += id + ",Jan,\"LINDEN, VAN DER\",criminal,2024-03-02\n";
      expected_sent.push_back(id);
    } else {
      text += id + ",Piet,Bakker,labour,2024-03-03\n";
      expected_sent.push_back(id);
    }
  }
  const std::string path = WriteIn("stray.csv", text);
  PreparedReports p = Prepare(path);
  EXPECT_EQ(p.records_read, 176);
  EXPECT_EQ(p.record_ids, expected_sent);
  std::vector<int> skipped_lines;
  for (const auto& i : p.skipped) skipped_lines.push_back(i.line);
  EXPECT_EQ(skipped_lines, stray_lines);
  EXPECT_EQ(p.records_read, static_cast<int>(p.reports.size() + p.skipped.size()));

  // What each command tells the operator adds up the same way: 176 read = 170 + 6 skipped,
  // the skipped ones named by line.
  const std::string lines = "4, 33, 62, 91, 120, 149";
  ASSERT_EQ(stray_lines, (std::vector<int>{4, 33, 62, 91, 120, 149}));
  std::ostringstream pseudonymised;
  EXPECT_TRUE(IsRecordsSkipped(
      PseudonymiseCommand(PseudonymiseOf(path, dir_ + "/stray.jsonl"), *logger_, pseudonymised)));
  EXPECT_THAT(pseudonymised.str(), HasSubstr("records read:    176\n"
                                             "skipped:         6 (lines " + lines + ")\n"));
  EXPECT_THAT(pseudonymised.str(), HasSubstr("reports written: 170 to "));

  // `submit` and the daemon, against an aggregator that is not there: the reports are queued.
  auto node_config = [&](const std::string& state) {
    const std::string config_path = dir_ + "/node_" + state + ".textproto";
    EXPECT_OK(files::WriteFileAtomic(
        config_path,
        "node_id: \"police\"\naggregator_address: \"127.0.0.1:1\"\n"
        "tls { ca_cert_file: \"missing-ca.pem\" cert_file: \"missing.pem\" key_file: \"missing.key\" }\n"
        "hashing_key_file: \"hashing.key\"\nsigning_key_file: \"signing.key\"\n"
        "profile_file: \"" + kProfile + "\"\nstate_dir: \"" + state + "\"\nimport_dir: \"in\"\n"
        "poll_interval_ms: 20\nretry_initial_ms: 10000\nareas: [\"oost\", \"west\"]\n",
        0600));
    return config_path;
  };
  std::ostringstream submitted;
  EXPECT_FALSE(SubmitCommand(node_config("submit_state"), path, *logger_, submitted,
                             Date{2024, 6, 15}).ok());
  EXPECT_THAT(submitted.str(), HasSubstr("records read:    176\n"
                                         "skipped:         6 (lines " + lines + ")\n"));
  EXPECT_THAT(submitted.str(), HasSubstr("reports sent:    0 of 170 acknowledged in full"));
  EXPECT_THAT(submitted.str(), HasSubstr("queued:          170 report(s) stay in the outbox"));

  ASSERT_OK_AND_ASSIGN(v1::NodeConfig config, model::LoadNodeConfig(node_config("daemon_state")));
  StopSignal stop;
  absl::Status result;
  std::thread daemon([&] { result = RunDaemon(config, stop, *logger_); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fs::exists(path) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop.Stop();
  daemon.join();
  EXPECT_OK(result);
  logger_->flush();
  EXPECT_THAT(log_.str(),
              HasSubstr("stray.csv: 176 record(s), 6 skipped, 170 report(s) queued in 1 batch(es)\n"));
  for (int line : stray_lines) {
    EXPECT_THAT(log_.str(), HasSubstr("stray.csv: skipped: line " + std::to_string(line) +
                                      ": unexpected character after a closing quote\n"));
  }
}

// The daemon: a whole export (here Windows-1252) is imported and goes (processed exports are
// deleted); an export with a record that cannot be sent, and one whose records all went but
// some without an identifier that did not parse, go to failed/ with a report of their rows
// and are never under done/; the whole records of all are queued.
TEST_F(ExportsTest, TheDaemonFilesAnIncompleteExportUnderFailedWithAReport) {
  const std::string config_path = dir_ + "/node.textproto";
  ASSERT_OK(files::WriteFileAtomic(
      config_path,
      "node_id: \"police\"\naggregator_address: \"127.0.0.1:1\"\n"
      "tls { ca_cert_file: \"missing-ca.pem\" cert_file: \"missing.pem\" key_file: \"missing.key\" }\n"
      "hashing_key_file: \"hashing.key\"\nsigning_key_file: \"signing.key\"\n"
      "profile_file: \"" + kProfile + "\"\n"
      "state_dir: \"state\"\nimport_dir: \"in\"\npoll_interval_ms: 20\nretry_initial_ms: 10000\n"
      "areas: [\"oost\", \"west\"]\n",
      0600));
  ASSERT_OK_AND_ASSIGN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/whole.csv", Slurp(kTestdata + "export_windows1252.csv"), 0600));
  std::string future = Slurp(kTestdata + "export_utf8.csv");
  future.replace(future.find("2024-04-19"), 10, "2030-04-19");  // ZG-2024-0104, line 5
  future.replace(future.find(",criminal,observed"), 18, ",smokkel,observed");  // ZG-2024-0102, line 3
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/future.csv", future, 0600));
  // Every record sendable, one without its BSN (it fails the eleven-test), one without its
  // date of birth: sent, and still not done/.
  ASSERT_OK(files::WriteFileAtomic(
      dir_ + "/in/bsn.csv",
      "record_id,surname,date_of_birth,national_id,form,signal_date\n"
      "B1,Jansen,1990-02-30,123456789,sexual,2024-03-01\n"
      "B2,Bakker,1991-05-04,,labour,2024-03-02\n"
      "B3,Visser,1992-06-07,123456780,labour,2024-03-03\n",
      0600));

  StopSignal stop;
  absl::Status result;
  std::thread daemon([&] { result = RunDaemon(config, stop, *logger_); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((fs::exists(dir_ + "/in/whole.csv") || fs::exists(dir_ + "/in/future.csv") ||
          fs::exists(dir_ + "/in/bsn.csv")) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop.Stop();
  daemon.join();
  EXPECT_OK(result);

  EXPECT_FALSE(fs::exists(dir_ + "/in/whole.csv"));
  EXPECT_FALSE(fs::exists(dir_ + "/in/done/future.csv"));
  EXPECT_FALSE(fs::exists(dir_ + "/in/failed/whole.csv"));
  ASSERT_TRUE(fs::exists(dir_ + "/in/failed/future.csv"));
  const std::string report = Slurp(dir_ + "/in/failed/future.csv.report.csv");
  EXPECT_EQ(report.rfind("line,record_id,field,outcome,reason\n", 0), 0u) << report;
  EXPECT_THAT(report, HasSubstr("\n3,ZG-2024-0102,form,record not sent,"));
  EXPECT_THAT(report, HasSubstr("\n5,ZG-2024-0104,signal_date,record not sent,"));
  EXPECT_EQ(std::count(report.begin(), report.end(), '\n'), 3) << report;
  ExpectNoName("the failed report", report);
  EXPECT_EQ(report.find("smokkel"), std::string::npos);
  EXPECT_EQ(report.find("2030"), std::string::npos);
  EXPECT_EQ(fs::status(dir_ + "/in/failed/future.csv.report.csv").permissions() & fs::perms::others_read,
            fs::perms::none);

  // The export with identifiers that did not parse: every record queued, the file in
  // failed/ with its rows named (record id and field, never the value), not in done/.
  EXPECT_FALSE(fs::exists(dir_ + "/in/done/bsn.csv"));
  ASSERT_TRUE(fs::exists(dir_ + "/in/failed/bsn.csv"));
  const std::string degraded = Slurp(dir_ + "/in/failed/bsn.csv.report.csv");
  EXPECT_THAT(degraded, HasSubstr("\n2,B1,date_of_birth,field not used,"));
  EXPECT_THAT(degraded, HasSubstr("\n2,B1,national_id,field not used,"));
  EXPECT_THAT(degraded, HasSubstr("\n4,B3,national_id,field not used,"));
  EXPECT_EQ(std::count(degraded.begin(), degraded.end(), '\n'), 4) << degraded;
  for (const char* value : {"123456789", "123456780", "1990-02-30", "Jansen", "Visser"}) {
    EXPECT_EQ(degraded.find(value), std::string::npos) << value;
  }

  logger_->flush();
  EXPECT_THAT(log_.str(), HasSubstr("bsn.csv: every record queued, but 2 record(s) without 3 "
                                    "identifier field(s) that did not parse; moved to failed/"));
  EXPECT_THAT(log_.str(), HasSubstr("future.csv: did not arrive whole: 2 record(s) not sent"));
  EXPECT_THAT(log_.str(), HasSubstr("whole.csv: the file is not UTF-8: read as windows-1252"));
  ExpectNoName("the daemon's log", log_.str());

  // 8 whole records of whole.csv, 6 of future.csv and the 3 of bsn.csv wait in the outbox.
  {
    ASSERT_OK_AND_ASSIGN(auto outbox, Outbox::Open(config.state_dir()));
    ASSERT_OK_AND_ASSIGN(auto size, outbox->Size());
    EXPECT_EQ(size.second, 17);
  }

  // The same incomplete export dropped again is read again and lands in failed/ again,
  // never in done/ as "imported before".
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/future.csv", future, 0600));
  StopSignal stop2;
  std::thread again([&] { result = RunDaemon(config, stop2, *logger_); });
  const auto deadline2 = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (fs::exists(dir_ + "/in/future.csv") && std::chrono::steady_clock::now() < deadline2) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop2.Stop();
  again.join();
  EXPECT_OK(result);
  EXPECT_FALSE(fs::exists(dir_ + "/in/done/future.csv"));
  EXPECT_TRUE(fs::exists(dir_ + "/in/failed/future.csv.1"));
  EXPECT_TRUE(fs::exists(dir_ + "/in/failed/future.csv.1.report.csv"));
}

// "Imported before" is about the key epoch and profile too: the same export dropped into
// the import folder again is skipped under the same epoch and profile, and read again (its
// reports queued under the same report ids with the new epoch's tokens or the new
// profile's) after the node moved to another key epoch or linkage profile. Before, the
// file's content alone decided, and a rotation's complete export was silently skipped.
TEST_F(ExportsTest, AnExportImportedBeforeIsImportedAgainUnderANewEpochOrProfile) {
  ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/hashing-epoch2.key", crypto::KeyKind::kHashing, 2)
                .status());
  // The shipped profile's version, and a copy of the profile with the next version.
  std::string next_profile = Slurp(kProfile);
  const size_t at = next_profile.find("\nversion: ");
  ASSERT_NE(at, std::string::npos);
  const size_t end = next_profile.find('\n', at + 1);
  int shipped_version = 0;
  ASSERT_TRUE(absl::SimpleAtoi(next_profile.substr(at + 10, end - at - 10), &shipped_version));
  next_profile.replace(at, end - at, absl::StrCat("\nversion: ", shipped_version + 1));
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/next-profile.textproto", next_profile, 0600));
  auto config_with = [&](const std::string& key, const std::string& profile) {
    const std::string path = dir_ + "/node.textproto";
    EXPECT_OK(files::WriteFileAtomic(
        path,
        "node_id: \"police\"\naggregator_address: \"127.0.0.1:1\"\n"
        "tls { ca_cert_file: \"missing-ca.pem\" cert_file: \"missing.pem\" key_file: \"missing.key\" }\n"
        "hashing_key_file: \"" + key + "\"\nsigning_key_file: \"signing.key\"\n"
        "profile_file: \"" + profile + "\"\n"
        "state_dir: \"state\"\nimport_dir: \"in\"\npoll_interval_ms: 20\nretry_initial_ms: 10000\n"
        "areas: [\"oost\", \"west\"]\n",
        0600));
    auto c = model::LoadNodeConfig(path);
    EXPECT_OK(c.status());
    return c.ok() ? *c : v1::NodeConfig();
  };
  const std::string exported = Slurp(kTestdata + "export_utf8.csv");
  // Drops the export into the import folder and runs the daemon until it is gone.
  auto drop_and_run = [&](const v1::NodeConfig& config) {
    log_.str("");
    EXPECT_OK(files::WriteFileAtomic(dir_ + "/in/export.csv", exported, 0600));
    StopSignal stop;
    absl::Status result;
    std::thread daemon([&] { result = RunDaemon(config, stop, *logger_); });
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (fs::exists(dir_ + "/in/export.csv") && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop.Stop();
    daemon.join();
    EXPECT_OK(result);
    EXPECT_FALSE(fs::exists(dir_ + "/in/export.csv"));
    logger_->flush();
  };
  // Queued reports per (key epoch, profile version fingerprint) and their report ids.
  struct Queued {
    std::map<uint32_t, int> by_epoch;
    std::map<std::string, int> by_profile;
    std::map<uint32_t, std::set<std::string>> ids;
  };
  auto queued = [&](const v1::NodeConfig& config) {
    Queued q;
    auto outbox = Outbox::Open(config.state_dir());
    EXPECT_OK(outbox.status());
    if (!outbox.ok()) return q;
    auto pending = (*outbox)->Pending(1000);
    EXPECT_OK(pending.status());
    if (!pending.ok()) return q;
    for (const BuiltBatch& b : *pending) {
      v1::BatchPayload payload;
      EXPECT_TRUE(payload.ParseFromString(b.signed_batch.payload()));
      q.by_epoch[payload.key_epoch()] += payload.reports_size();
      q.by_profile[crypto::ToHex(payload.profile_fingerprint())] += payload.reports_size();
      for (const auto& r : payload.reports()) q.ids[payload.key_epoch()].insert(r.report_id());
    }
    return q;
  };

  const v1::NodeConfig epoch1 = config_with("hashing.key", kProfile);
  drop_and_run(epoch1);
  EXPECT_THAT(log_.str(), HasSubstr("export.csv: 8 record(s), 0 skipped, 8 report(s) queued"));
  EXPECT_EQ(queued(epoch1).by_epoch, (std::map<uint32_t, int>{{1, 8}}));

  // The same file again, same epoch and profile: imported before, nothing queued.
  drop_and_run(epoch1);
  EXPECT_THAT(log_.str(),
              HasSubstr(absl::StrCat("export.csv: imported before (same content, key epoch 1, profile version ",
                                     shipped_version, "); not imported again")));
  EXPECT_EQ(queued(epoch1).by_epoch, (std::map<uint32_t, int>{{1, 8}}));

  // The node moved to key epoch 2: the same file is read again, every record queued under
  // epoch 2 with the report ids it had under epoch 1.
  const v1::NodeConfig epoch2 = config_with("hashing-epoch2.key", kProfile);
  drop_and_run(epoch2);
  EXPECT_THAT(log_.str(), HasSubstr("export.csv: 8 record(s), 0 skipped, 8 report(s) queued"));
  Queued after_rotation = queued(epoch2);
  EXPECT_EQ(after_rotation.by_epoch, (std::map<uint32_t, int>{{1, 8}, {2, 8}}));
  EXPECT_EQ(after_rotation.ids[2], after_rotation.ids[1]);
  EXPECT_EQ(after_rotation.by_profile.size(), 1u);

  // Under epoch 2 it is imported before again.
  drop_and_run(epoch2);
  EXPECT_THAT(log_.str(), HasSubstr(absl::StrCat("imported before (same content, key epoch 2, profile version ",
                                               shipped_version, ")")));
  EXPECT_EQ(queued(epoch2).by_epoch, (std::map<uint32_t, int>{{1, 8}, {2, 8}}));

  // A new linkage profile (same epoch): read again, queued under the new profile.
  const v1::NodeConfig next_profile_config = config_with("hashing-epoch2.key", dir_ + "/next-profile.textproto");
  drop_and_run(next_profile_config);
  EXPECT_THAT(log_.str(), HasSubstr("export.csv: 8 record(s), 0 skipped, 8 report(s) queued"));
  Queued after_profile = queued(next_profile_config);
  EXPECT_EQ(after_profile.by_epoch, (std::map<uint32_t, int>{{1, 8}, {2, 16}}));
  ASSERT_EQ(after_profile.by_profile.size(), 2u);
  for (const auto& [fp, n] : after_profile.by_profile) EXPECT_TRUE(n == 16 || n == 8) << fp;
  ExpectNoName("the daemon's log", log_.str());
}

}  // namespace
}  // namespace samenzicht::agency_node
