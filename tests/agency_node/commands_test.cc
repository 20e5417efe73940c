#include "agency_node/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/files.h"
#include "crypto/key_file.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kSignals[] =
    "record_id,given_names,surname,date_of_birth,gender,national_id,phone,email,postcode,"
    "street,house_number,city,form,area\n"
    "P-1,Wietske,Hoogeveenstra,1991-08-17,female,111222333,06 5555 1234,wietske@gmail.example,"
    "9725 AB,Paterswoldseweg,4713Z,Haren,sexual,zuid\n"
    "P-2,Wietske,\"Hoogeveenstra\",17-8-91,female,111222334,+31655551234,,9725AB,,,,criminal,"
    "\n"
    "P-3,\"unterminated\n"
    "P-4,محمد,الحسن,1999-01-01,male,,,,,,,,labour,\n";

const char* const kNeedles[] = {
    "wietske", "hoogeveenstra", "1991-08-17", "17-8-91", "19910817", "111222333", "111222334",
    "0655551234", "655551234", "5555 1234", "gmail.example", "9725ab", "9725 ab",
    "paterswoldseweg", "4713z", "haren", "nergens", "محمد", "الحسن", "mhmd", "alhsn"};

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void ExpectNoIdentifier(const std::string& what, const std::string& text) {
  std::string lower = absl::AsciiStrToLower(absl::string_view(text));
  for (const char* n : kNeedles) {
    EXPECT_EQ(lower.find(n), std::string::npos) << "identifier '" << n << "' found in " << what;
  }
}

class PseudonymiseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/commands_test/" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    ASSERT_OK(files::MakeDirs(dir_));
    ASSERT_OK(crypto::GenerateKeyFile(dir_ + "/k.key", crypto::KeyKind::kHashing, 1).status());
    ASSERT_OK(files::WriteFileAtomic(dir_ + "/in.csv", kSignals, 0600));
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_text_);
    log_ = std::make_shared<spdlog::logger>("test", sink_);
  }
  PseudonymiseOptions Options() {
    PseudonymiseOptions o;
    o.key_file = dir_ + "/k.key";
    o.in = dir_ + "/in.csv";
    o.out = dir_ + "/out.jsonl";
    o.profile = SAMENZICHT_SOURCE_DIR "/deploy/config/profile.textproto";
    o.areas = {"zuid", "oost"};
    o.today = Date{2024, 6, 15};
    return o;
  }
  std::vector<std::string> Lines(const std::string& path) {
    std::vector<std::string> out;
    for (absl::string_view l : absl::StrSplit(Slurp(path), '\n', absl::SkipEmpty())) {
      out.emplace_back(l);
    }
    return out;
  }
  std::string dir_;
  std::ostringstream log_text_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> log_;
};

TEST_F(PseudonymiseTest, WritesOneJsonReportPerRecordAndNoIdentifier) {
  auto o = Options();
  o.map = dir_ + "/map.csv";
  std::ostringstream out;
  ASSERT_TRUE(IsRecordsSkipped(PseudonymiseCommand(o, *log_, out)));
  auto lines = Lines(o.out);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], HasSubstr("\"report_id\":\""));
  EXPECT_THAT(lines[0], HasSubstr("\"form\":\"FORM_SEXUAL\""));
  EXPECT_THAT(lines[0], HasSubstr("\"area\":\"zuid\""));
  EXPECT_THAT(lines[0], HasSubstr("{\"rule\":\"nid\",\"value\":\""));
  EXPECT_THAT(lines[0], HasSubstr("{\"rule\":\"phone\",\"value\":\""));
  // P-2 is the same person with another date format and a mistyped BSN: same name_dob and
  // phone tokens, no nid token.
  EXPECT_THAT(lines[1], ::testing::Not(HasSubstr("\"rule\":\"nid\"")));
  auto token = [](const std::string& line, const std::string& rule) {
    size_t p = line.find("\"rule\":\"" + rule + "\",\"value\":\"");
    if (p == std::string::npos) return std::string();
    p = line.find("\"value\":\"", p) + 9;
    return line.substr(p, line.find('"', p) - p);
  };
  EXPECT_FALSE(token(lines[0], "name_dob").empty());
  EXPECT_EQ(token(lines[0], "name_dob"), token(lines[1], "name_dob"));
  EXPECT_EQ(token(lines[0], "phone"), token(lines[1], "phone"));

  EXPECT_THAT(out.str(), HasSubstr("records read:    4"));
  EXPECT_THAT(out.str(), HasSubstr("skipped:         1 (line 4)"));
  log_->flush();
  EXPECT_THAT(log_text_.str(), HasSubstr("line 3, record P-2, field national_id: fails the eleven-test"));
  EXPECT_THAT(out.str(), HasSubstr("field warnings:  1"));

  ExpectNoIdentifier("the JSONL", Slurp(o.out));
  ExpectNoIdentifier("the map", Slurp(o.map));
  ExpectNoIdentifier("the log", log_text_.str());
  ExpectNoIdentifier("stdout", out.str());

  struct stat st;
  ASSERT_EQ(stat(o.map.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto map = Lines(o.map);
  ASSERT_EQ(map.size(), 4u);
  EXPECT_EQ(map[0], "record_id,report_id");
  EXPECT_THAT(map[1], ::testing::StartsWith("P-1,"));
}

TEST_F(PseudonymiseTest, ReportIdsAreRandomUnlessAMapIsReused) {
  auto o = Options();
  std::ostringstream out;
  ASSERT_TRUE(IsRecordsSkipped(PseudonymiseCommand(o, *log_, out)));
  std::string a = Slurp(o.out);
  ASSERT_TRUE(IsRecordsSkipped(PseudonymiseCommand(o, *log_, out)));
  std::string b = Slurp(o.out);
  EXPECT_NE(a.substr(0, 50), b.substr(0, 50));

  o.map = dir_ + "/map.csv";
  ASSERT_TRUE(IsRecordsSkipped(PseudonymiseCommand(o, *log_, out)));
  std::string c = Slurp(o.out);
  std::string map1 = Slurp(o.map);
  ASSERT_TRUE(IsRecordsSkipped(PseudonymiseCommand(o, *log_, out)));
  EXPECT_EQ(Slurp(o.out), c);  // same ids, same tokens
  EXPECT_EQ(Slurp(o.map), map1);
}

TEST_F(PseudonymiseTest, MalformedMapOrMissingInputsAreNamed) {
  auto o = Options();
  o.map = dir_ + "/bad_map.csv";
  ASSERT_OK(files::WriteFileAtomic(o.map, "a,b\n1,2\n", 0600));
  std::ostringstream out;
  EXPECT_THAT(PseudonymiseCommand(o, *log_, out),
              StatusIs(absl::StatusCode::kInvalidArgument, "not a map file"));
  o = Options();
  o.in = dir_ + "/missing.csv";
  EXPECT_THAT(PseudonymiseCommand(o, *log_, out), StatusIs(absl::StatusCode::kNotFound));
  o = Options();
  ASSERT_OK(files::WriteFileAtomic(dir_ + "/cols.csv", "record_id,naam\nR,x\n", 0600));
  o.in = dir_ + "/cols.csv";
  EXPECT_THAT(PseudonymiseCommand(o, *log_, out),
              StatusIs(absl::StatusCode::kInvalidArgument, "unknown column 2 (counted from 1"));
  o = Options();
  o.key_file = dir_ + "/nokey";
  EXPECT_THAT(PseudonymiseCommand(o, *log_, out), StatusIs(absl::StatusCode::kNotFound));
}

// Core dumps are off once a key command has run (each test is its own process).
void ExpectNoCoreDumps() {
  EXPECT_EQ(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 0);
  struct rlimit core;
  ASSERT_EQ(::getrlimit(RLIMIT_CORE, &core), 0);
  EXPECT_EQ(core.rlim_cur, 0u);
  EXPECT_EQ(core.rlim_max, 0u);
}

TEST(KeyCommandsTest, KeygenDisablesCoreDumps) {
  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
  std::string path = ::testing::TempDir() + "/keygen_core_test.key";
  std::filesystem::remove(path);
  std::ostringstream os;
  ASSERT_OK(KeygenCommand(path, 1, os));
  ExpectNoCoreDumps();
}

TEST(KeyCommandsTest, SigningKeygenDisablesCoreDumps) {
  ASSERT_EQ(::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), 0);
  std::string path = ::testing::TempDir() + "/signing_keygen_core_test.key";
  std::filesystem::remove(path);
  std::ostringstream os;
  ASSERT_OK(SigningKeygenCommand(path, os));
  ExpectNoCoreDumps();
}

TEST(ProfilePathTest, FlagThenEnvThenCompiledIn) {
  unsetenv("SAMENZICHT_PROFILE");
  EXPECT_EQ(ResolveProfilePath("", "/compiled"), "/compiled");
  setenv("SAMENZICHT_PROFILE", "/from-env", 1);
  EXPECT_EQ(ResolveProfilePath("", "/compiled"), "/from-env");
  EXPECT_EQ(ResolveProfilePath("/flag", "/compiled"), "/flag");
  unsetenv("SAMENZICHT_PROFILE");
}

// The binary itself: --help, one-line errors, exit codes.
class CliTest : public ::testing::Test {
 protected:
  int Run(const std::string& args, std::string* err = nullptr) {
    std::string e = ::testing::TempDir() + "/cli_test_err.txt";
    std::string cmd = std::string(SAMENZICHT_BINARY_DIR) + "/agency_node/agency-node " + args +
                      " >/dev/null 2>" + e;
    int rc = std::system(cmd.c_str());
    if (err) *err = Slurp(e);
    return WEXITSTATUS(rc);
  }
};

TEST_F(CliTest, HelpAndErrors) {
  for (const char* c : {"keygen", "signing-keygen", "pseudonymise", "submit", "retract", "sent"}) {
    EXPECT_EQ(Run(std::string(c) + " --help"), 0) << c;
  }
  std::string err;
  EXPECT_EQ(Run("pseudonymise --in x.csv", &err), 2);
  EXPECT_EQ(err.rfind("error: ", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  std::string dir = ::testing::TempDir() + "/cli_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  EXPECT_EQ(Run("keygen --out " + dir + "/k.key --epoch 2"), 0);
  EXPECT_EQ(Run("keygen --out " + dir + "/k.key", &err), 1);
  EXPECT_THAT(err, HasSubstr("error: "));
  EXPECT_EQ(Run("signing-keygen --out " + dir + "/s.key"), 0);
  EXPECT_EQ(Run("frobnicate"), 2);
}

// Every line the node logs starts with the UTC time it was written, to the millisecond
// ("2026-12-07T07:12:03.456Z error: ..."), so the daemon's log can be read against the
// aggregator's and the other nodes'. The binary's own logger, here through pseudonymise with
// a record it skips.
TEST_F(CliTest, LogLinesStartWithTheirUtcTime) {
  std::string dir = ::testing::TempDir() + "/cli_test_time";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  ASSERT_OK(crypto::GenerateKeyFile(dir + "/k.key", crypto::KeyKind::kHashing, 1).status());
  ASSERT_OK(files::WriteFileAtomic(dir + "/in.csv", kSignals, 0600));
  const std::time_t before = std::time(nullptr);
  std::string err;
  EXPECT_EQ(Run("pseudonymise --key " + dir + "/k.key --in " + dir + "/in.csv --out " + dir +
                    "/out.jsonl --areas zuid,oost --profile " SAMENZICHT_SOURCE_DIR
                    "/deploy/config/profile.textproto",
                &err),
            3);
  const std::time_t after = std::time(nullptr);
  std::vector<std::string> logged;
  for (absl::string_view l : absl::StrSplit(err, '\n', absl::SkipEmpty())) {
    if (!absl::StartsWith(l, "error: ")) logged.emplace_back(l);  // main's closing line
  }
  ASSERT_EQ(logged.size(), 2u) << err;
  EXPECT_THAT(logged[0], ::testing::MatchesRegex(
                             "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                             "error: skipped: line 4: unterminated quoted field"));
  EXPECT_THAT(logged[1], ::testing::MatchesRegex("[0-9T:.-]{23}Z warning: .*"));
  for (const std::string& l : logged) {
    std::tm tm{};
    ASSERT_NE(strptime(l.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr) << l;
    const std::time_t at = timegm(&tm);
    EXPECT_GE(at, before) << l;
    EXPECT_LE(at, after) << l;
  }
}

}  // namespace
}  // namespace samenzicht::agency_node
