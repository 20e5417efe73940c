// Malformed exports with identifier-like values: no identifier value may reach any line the
// node prints (stdout, the command's error, the log) or the daemon's log, whatever is wrong
// with the file. Each file of the table goes through `pseudonymise` and through the
// daemon (`serve`); every line of their output is searched for every value.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "agency_node/commands.h"
#include "agency_node/daemon.h"
#include "common/files.h"
#include "crypto/key_file.h"
#include "model/config.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

namespace fs = std::filesystem;

// Identifier values of the files below, in the forms they could be echoed in.
const char* const kValues[] = {
    "xandrijntje", "quirijnsdochter", "1987-11-23", "19871123", "23-11-1987", "123456782",
    "0698765432", "698765432", "06 9876 5432", "9711 xz", "9711xz", "zwaanhofstraat",
    "appingedam", "wolfskamp"};

constexpr char kRow1[] =
    "R-1,Xandrijntje,Quirijnsdochter,1987-11-23,123456782,06 9876 5432,9711 XZ,"
    "Zwaanhofstraat,Appingedam";
constexpr char kHeader[] =
    "record_id,given_names,surname,date_of_birth,national_id,phone,postcode,street,city";

struct BadFile {
  const char* name;
  std::string text;
};

std::vector<BadFile> BadFiles() {
  const std::string row1 = kRow1;
  return {
      {"no_header", row1 + "\nR-2,Wolfskamp,Xandrijntje,23-11-1987,,,,,\n"},
      {"no_header_tabs", "R-1\tXandrijntje\tQuirijnsdochter\t1987-11-23\t123456782\n"},
      {"shifted_columns",
       std::string(kHeader) +
           "\nR-1,Quirijnsdochter,1987-11-23,123456782,06 9876 5432,9711 XZ,Zwaanhofstraat,"
           "Appingedam,Xandrijntje\n,R-2,Xandrijntje,Quirijnsdochter,1987-11-23,123456782,"
           "06 9876 5432,9711 XZ,Zwaanhofstraat,Appingedam\n"},
      {"wrong_separator",
       "record_id;given_names;surname;date_of_birth;national_id\n"
       "R-1;Xandrijntje;Quirijnsdochter;1987-11-23;123456782\n"},
      {"wrong_separator_no_header", "R-1;Xandrijntje;Quirijnsdochter;1987-11-23;123456782\n"},
      {"value_with_newline",
       std::string(kHeader) +
           "\nR-1,\"Xandrijntje\nQuirijnsdochter\",\"Quirijnsdochter\r\n\",\"1987-11-23\n\","
           "\"1234\n56782\",06 9876 5432,\"9711\nXZ\",Zwaanhofstraat,Appingedam\n"},
      {"bom", "\xEF\xBB\xBF" + std::string(kHeader) + "\n" + row1 + "\n"},
      {"double_bom", "\xEF\xBB\xBF\xEF\xBB\xBF" + row1 + "\n"},
      {"bom_no_header", "\xEF\xBB\xBF" + row1 + "\n"},
      {"every_column_unknown",
       "naam,voornaam,geboortedatum,bsn\nQuirijnsdochter,Xandrijntje,1987-11-23,123456782\n"},
      {"header_with_an_identifier",
       "record_id,Xandrijntje,surname\nR-1,Wolfskamp,Quirijnsdochter\n"},
      {"stray_quote",
       std::string(kHeader) + "\nR-1,\"Xandrijntje,Quirijnsdochter,1987-11-23,,,,,\n" + row1 +
           "\nR-3,\"Wolfskamp, van\",Xandrijntje,,,,,,\n"},
      {"duplicate_and_control_record_ids",
       std::string(kHeader) + "\n" + row1 + "\n" + row1 + "\n\"R-\x01" +
           "9\",Xandrijntje,,,,,,,\n"},
  };
}

void ExpectNoValue(const std::string& what, const std::string& text) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    std::string lower = absl::AsciiStrToLower(line);
    for (const char* v : kValues) {
      EXPECT_EQ(lower.find(v), std::string::npos)
          << "identifier '" << v << "' in " << what << ": " << line;
    }
  }
}

class IdentifierOutputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/identifier_output_test/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    ASSERT_OK(files::MakeDirs(dir_ + "/in"));
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/hashing.key", crypto::KeyKind::kHashing, 1).status());
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/signing.key", crypto::KeyKind::kSigning).status());
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    logger_ = std::make_shared<spdlog::logger>("test", sink_);
  }
  std::string dir_;
  std::ostringstream log_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> logger_;
};

TEST_F(IdentifierOutputTest, PseudonymiseNeverEchoesAValue) {
  for (const BadFile& f : BadFiles()) {
    SCOPED_TRACE(f.name);
    const std::string in = dir_ + "/in/" + f.name + ".csv";
    ASSERT_OK(files::WriteFileAtomic(in, f.text, 0600));
    PseudonymiseOptions o;
    o.key_file = dir_ + "/hashing.key";
    o.in = in;
    o.out = dir_ + "/" + f.name + ".jsonl";
    o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
    o.today = Date{2024, 6, 15};
    std::ostringstream out;
    absl::Status s = PseudonymiseCommand(o, *logger_, out);
    logger_->flush();
    ExpectNoValue("stdout", out.str());
    ExpectNoValue("the error", std::string(s.message()));
    ExpectNoValue("the log", log_.str());
    log_.str("");
  }
}

// A file without a header row is refused with a message saying so, naming no value.
TEST_F(IdentifierOutputTest, AFileWithoutAHeaderRowIsRefusedAsSuch) {
  const std::string in = dir_ + "/in/x.csv";
  ASSERT_OK(files::WriteFileAtomic(in, std::string(kRow1) + "\n", 0600));
  PseudonymiseOptions o;
  o.key_file = dir_ + "/hashing.key";
  o.in = in;
  o.out = dir_ + "/x.jsonl";
  o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
  std::ostringstream out;
  EXPECT_THAT(PseudonymiseCommand(o, *logger_, out),
              samenzicht::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                            "the file must start with a header row"));
}

// Runs the daemon until import_dir holds no *.csv (at most 20 s); the number left.
int RunDaemonUntilImported(const v1::NodeConfig& config, spdlog::logger& log) {
  StopSignal stop;
  absl::Status result;
  std::thread daemon([&] { result = RunDaemon(config, stop, log); });
  auto csv_left = [&] {
    int n = 0;
    for (const auto& e : fs::directory_iterator(config.import_dir())) {
      n += e.path().extension() == ".csv";
    }
    return n;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (csv_left() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a scan after: the purge
  stop.Stop();
  daemon.join();
  EXPECT_OK(result);
  return csv_left();
}

class DaemonTest : public IdentifierOutputTest {
 protected:
  v1::NodeConfig Config(const std::string& extra = "") {
    const std::string config_path = dir_ + "/node.textproto";
    EXPECT_OK(files::WriteFileAtomic(
        config_path,
        "node_id: \"police\"\naggregator_address: \"127.0.0.1:1\"\n"
        "tls { ca_cert_file: \"missing-ca.pem\" cert_file: \"missing.pem\" key_file: \"missing.key\" }\n"
        "hashing_key_file: \"hashing.key\"\nsigning_key_file: \"signing.key\"\n"
        "profile_file: \"" SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto\"\n"
        "state_dir: \"state\"\nimport_dir: \"in\"\npoll_interval_ms: 20\nretry_initial_ms: 10000\n"
        "areas: [\"oost\", \"west\"]\n" + extra,
        0600));
    auto c = model::LoadNodeConfig(config_path);
    EXPECT_OK(c.status());
    return c.ok() ? *c : v1::NodeConfig();
  }
  int FilesIn(const std::string& sub) {
    std::error_code ec;
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir_ + "/in/" + sub, ec)) n += e.is_regular_file();
    return n;
  }
};

TEST_F(DaemonTest, TheDaemonLogNeverHoldsAValue) {
  for (const BadFile& f : BadFiles()) {
    ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/" + f.name + ".csv", f.text, 0600));
  }
  EXPECT_EQ(RunDaemonUntilImported(Config(), *logger_), 0);
  logger_->flush();
  EXPECT_THAT(log_.str(), ::testing::HasSubstr("no_header.csv: not imported"));
  ExpectNoValue("the daemon's log", log_.str());
  // The reports of the rows next to the failed exports name no value either.
  int reports = 0;
  for (const auto& e : fs::directory_iterator(dir_ + "/in/failed")) {
    const std::string name = e.path().filename().string();
    if (name.size() < 11 || name.substr(name.size() - 11) != ".report.csv") continue;
    ++reports;
    auto text = files::ReadFile(e.path().string());
    ASSERT_OK(text.status());
    ExpectNoValue(name, *text);
  }
  EXPECT_GT(reports, 0);
}

// An imported export holds identifiers: it is overwritten and deleted once its reports are
// in the outbox, unless processed_retention_days keeps it; failed ones go after their
// retention (7 days by default).
TEST_F(DaemonTest, ProcessedExportsAreDeletedUnlessARetentionKeepsThem) {
  const std::string good = std::string(kHeader) + "\n" + kRow1 + "\n";
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/good.csv", good, 0600));
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/bad.csv", std::string(kRow1) + "\n", 0600));
  ASSERT_OK(files::MakeDirs(dir_ + "/in/failed"));
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/failed/old.csv", good, 0600));
  fs::last_write_time(dir_ + "/in/failed/old.csv",
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 8));
  EXPECT_EQ(RunDaemonUntilImported(Config(), *logger_), 0);
  EXPECT_EQ(FilesIn("done"), 0);
  EXPECT_EQ(FilesIn("failed"), 2);  // bad.csv and its report, for the operator; old.csv is gone
  EXPECT_TRUE(fs::exists(dir_ + "/in/failed/bad.csv"));
  EXPECT_TRUE(fs::exists(dir_ + "/in/failed/bad.csv.report.csv"));
  logger_->flush();
  EXPECT_THAT(log_.str(), ::testing::HasSubstr("good.csv: overwritten and deleted"));

  // Kept for a day when the setting says so.
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/in/good2.csv",
                                   std::string(kHeader) + "\nR-9,Anna,,,,,,,\n", 0600));
  EXPECT_EQ(RunDaemonUntilImported(Config("processed_retention_days: 1\n"), *logger_), 0);
  EXPECT_EQ(FilesIn("done"), 1);
}

}  // namespace
}  // namespace samenzicht::agency_node
