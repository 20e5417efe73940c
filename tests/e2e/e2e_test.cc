// End to end, as the demo runs it: a deployment CA, keys, an aggregator process on
// loopback with mutual TLS, three agency nodes importing the demo CSVs (some persons at two
// or three agencies under different spellings). What was stored and linked is checked
// against the ground truth in deploy/demo/data/truth.csv through the operator's exact path
// (`aggregator exact-totals` on the aggregator's configuration and store key); the
// analyst's published totals (Cell Key Method, the default) are checked to be protected,
// near the exact figures, and answered for every query the README suggests, in any order.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/pki.h"
#include "tests/testing/subprocess.h"

namespace samenzicht {
namespace {

namespace fs = std::filesystem;
using ::samenzicht::testing::Background;
using ::samenzicht::testing::RunCommand;
using ::samenzicht::testing::RunResult;

const std::string kData = std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/demo/data/";
const std::string kAreas =
    "areas: [\"binnenstad\", \"oude_wijken\", \"west\", \"oost\", \"zuid\", \"haren\", \"ten_boer\"]\n";

struct Agency {
  std::string id, domain_enum, domain_word, csv;
};
const std::vector<Agency> kAgencies = {
    {"police", "DOMAIN_POLICE", "police", "police.csv"},
    {"youth-care", "DOMAIN_YOUTH_CARE", "youth_care", "youth_care.csv"},
    {"care-institution", "DOMAIN_MENTAL_HEALTH", "mental_health", "care_institution.csv"},
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

// Minimal CSV for our own well-formed files (no quoted commas in the columns we read).
std::vector<std::map<std::string, std::string>> ReadCsv(const std::string& text) {
  std::vector<std::map<std::string, std::string>> rows;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> header;
  auto split = [](const std::string& l) {
    std::vector<std::string> out;
    std::string cur;
    bool quoted = false;
    for (char c : l) {
      if (c == '"') quoted = !quoted;
      else if (c == ',' && !quoted) { out.push_back(cur); cur.clear(); }
      else cur += c;
    }
    out.push_back(cur);
    return out;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (header.empty()) { header = split(line); continue; }
    std::vector<std::string> f = split(line);
    std::map<std::string, std::string> row;
    for (size_t i = 0; i < header.size() && i < f.size(); ++i) row[header[i]] = f[i];
    rows.push_back(row);
  }
  return rows;
}

class E2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/e2e." + std::to_string(::getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    pki_ = samenzicht::testing::MakePki(
        "e2e." + std::to_string(::getpid()),
        {{"aggregator", "server"}, {"police", "agency"}, {"youth-care", "agency"},
         {"care-institution", "agency"}, {"gemeente-analyst", "analyst"}});
    ASSERT_FALSE(pki_.empty());
    hashing_key_ = dir_ + "/hashing.key";
    Expect0(RunCommand({AGENCY_NODE_BIN, "keygen", "--out", hashing_key_, "--epoch", "1"}));
    Expect0(RunCommand({AGGREGATOR_BIN, "store-keygen", "--out", dir_ + "/store.key"}));

    std::string agencies;
    for (const Agency& a : kAgencies) {
      fs::create_directories(dir_ + "/" + a.id);
      RunResult r = RunCommand({AGENCY_NODE_BIN, "signing-keygen", "--out", dir_ + "/" + a.id + "/signing.key"});
      Expect0(r);
      std::string pub = r.out;
      while (!pub.empty() && (pub.back() == '\n' || pub.back() == ' ')) pub.pop_back();
      pub = pub.substr(pub.find_last_of(" \n") == std::string::npos ? 0 : pub.find_last_of(" \n") + 1);
      agencies += "agencies { node_id: \"" + a.id + "\" domain: " + a.domain_enum +
                  " signing_public_key: \"" + pub + "\" }\n";
    }
    WriteFile(dir_ + "/aggregator.textproto",
              "listen_address: \"127.0.0.1:0\"\n"
              "tls { ca_cert_file: \"" + pki_ + "/ca.crt\" cert_file: \"" + pki_ +
                  "/aggregator.crt\" key_file: \"" + pki_ + "/aggregator.key\" }\n"
              "data_dir: \"" + dir_ + "/data\"\n"
              "store_key_file: \"" + dir_ + "/store.key\"\n"
              "profile_file: \"" + Profile() + "\"\n"
              "key_epoch: 1\nmin_cell_size: 5\n" + kAreas + agencies);
    server_ = std::make_unique<Background>(
        std::vector<std::string>{AGGREGATOR_BIN, "serve", "--config", dir_ + "/aggregator.textproto",
                                 "--port-file", dir_ + "/port"},
        dir_ + "/aggregator.log");
    std::string port = samenzicht::testing::WaitForFile(dir_ + "/port");
    ASSERT_FALSE(port.empty()) << server_->log();
    while (!port.empty() && port.back() == '\n') port.pop_back();
    address_ = "127.0.0.1:" + port;

    for (const Agency& a : kAgencies) {
      WriteFile(NodeConfig(a.id),
                "node_id: \"" + a.id + "\"\naggregator_address: \"" + address_ +
                    "\"\naggregator_server_name: \"localhost\"\n"
                    "tls { ca_cert_file: \"" + pki_ + "/ca.crt\" cert_file: \"" + pki_ + "/" + a.id +
                    ".crt\" key_file: \"" + pki_ + "/" + a.id + ".key\" }\n"
                    "hashing_key_file: \"" + hashing_key_ + "\"\nsigning_key_file: \"signing.key\"\n"
                    "profile_file: \"" + Profile() + "\"\nstate_dir: \"state\"\n" + kAreas);
    }
    ClientConfig("analyst.textproto", "gemeente-analyst");
    ClientConfig("police-as-client.textproto", "police");
  }

  void TearDown() override {
    if (server_) server_->Stop();
  }

  static std::string Profile() { return std::string(SAMENZICHT_SOURCE_DIR) + "/deploy/config/profile.textproto"; }
  std::string NodeConfig(const std::string& id) { return dir_ + "/" + id + "/node.textproto"; }

  void ClientConfig(const std::string& file, const std::string& name) {
    WriteFile(dir_ + "/" + file, "aggregator_address: \"" + address_ +
                                     "\"\naggregator_server_name: \"localhost\"\n"
                                     "tls { ca_cert_file: \"" + pki_ + "/ca.crt\" cert_file: \"" + pki_ +
                                     "/" + name + ".crt\" key_file: \"" + pki_ + "/" + name + ".key\" }\n");
  }

  static void Expect0(const RunResult& r) {
    ASSERT_EQ(r.exit_code, 0) << "stdout:\n" << r.out << "\nstderr:\n" << r.err;
  }

  void SubmitAll() {
    for (const Agency& a : kAgencies) {
      Expect0(RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig(a.id), "--in", kData + a.csv}));
    }
  }

  // Totals of 2024 as the analyst sees them: key ("" for overall, else the category word) ->
  // {persons, signals}; suppressed cells as -1. 79 of the demo's 80 signals are of 2024 (one
  // is of January 2025), and no published figure crosses a year.
  std::map<std::string, std::pair<long, long>> Totals(const std::string& by,
                                                      const std::string& config = "analyst.textproto") {
    std::vector<std::string> argv = {AGGREGATOR_BIN, "totals", "--config", dir_ + "/" + config,
                                     "--from", "2024-01", "--to", "2024-12", "--format", "csv"};
    if (!by.empty()) { argv.push_back("--by"); argv.push_back(by); }
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::pair<long, long>> out;
    auto num = [](const std::string& s) -> long { return s.empty() || s[0] == '<' ? -1 : std::stol(s); };
    for (auto& row : ReadCsv(r.out)) {
      std::string key = by.empty() ? "" : row[by];
      if (!by.empty() && (key == "total" || key == "all" || key.empty())) key = "";
      out[key] = {num(row["persons"]), num(row["signals"])};
    }
    return out;
  }

  // The operator's exact, unpublished counts (same shape as Totals; nothing withheld).
  std::map<std::string, std::pair<long, long>> Exact(const std::string& by) {
    std::vector<std::string> argv = {AGGREGATOR_BIN, "exact-totals", "--config",
                                     dir_ + "/aggregator.textproto", "--format", "csv"};
    if (!by.empty()) { argv.push_back("--by"); argv.push_back(by); }
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::map<std::string, std::pair<long, long>> out;
    for (auto& row : ReadCsv(r.out)) {
      std::string key = by.empty() ? "" : row[by];
      if (!by.empty() && (key == "total" || key == "all" || key.empty())) key = "";
      out[key] = {std::stol(row["persons"]), std::stol(row["signals"])};
    }
    return out;
  }

  // A published count: 0 or at least k = 5; a 0 for at most k + S - 1 = 19, any other figure
  // within S = 3k of the exact one (docs/disclosure.md).
  static void ExpectProtected(long published, long exact, const std::string& what) {
    EXPECT_TRUE(published == 0 || published >= 5) << what << ": " << published;
    EXPECT_LE(std::labs(published - exact), published == 0 ? 19 : 15)
        << what << ": published " << published << ", exact " << exact;
  }

  std::string dir_, pki_, hashing_key_, address_;
  std::unique_ptr<Background> server_;
};

TEST_F(E2eTest, TotalsAfterLinkageEqualTheGroundTruth) {
  SubmitAll();
  // Ground truth: 80 signals about 60 distinct persons; every agency saw each of its
  // persons once, so per domain persons == signals == rows in that agency's file.
  auto truth = ReadCsv(Slurp(kData + "truth.csv"));
  std::set<std::string> persons;
  for (auto& row : truth) persons.insert(row["true_person_id"]);
  ASSERT_EQ(truth.size(), 80u);
  ASSERT_EQ(persons.size(), 60u);

  auto overall = Exact("");
  ASSERT_TRUE(overall.count(""));
  EXPECT_EQ(overall[""].second, 80);
  EXPECT_EQ(overall[""].first, 60);

  auto by_domain = Exact("domain");
  EXPECT_EQ(by_domain["police"], std::make_pair(28L, 28L));
  EXPECT_EQ(by_domain["youth_care"], std::make_pair(26L, 26L));
  EXPECT_EQ(by_domain["mental_health"], std::make_pair(26L, 26L));

  // What the analyst is shown is protected, and near the truth.
  auto published = Totals("");
  ASSERT_TRUE(published.count(""));
  ExpectProtected(published[""].first, 60, "persons");
  ExpectProtected(published[""].second, 80, "signals");
  auto published_domain = Totals("domain");
  for (const char* d : {"police", "youth_care", "mental_health"}) {
    ASSERT_TRUE(published_domain.count(d)) << d;
    ExpectProtected(published_domain[d].first, by_domain[d].first, d);
  }

  // The summary publishes the linkage's own error estimate next to the persons figure: on
  // the demo data every candidate pair is clear-cut, so nobody is estimated counted twice.
  RunResult summary = RunCommand({AGGREGATOR_BIN, "totals", "--config", dir_ + "/analyst.textproto",
                                  "--view", "summary", "--format", "csv"});
  ASSERT_EQ(summary.exit_code, 0) << summary.err;
  EXPECT_THAT(summary.out, ::testing::HasSubstr("persons_maybe_counted_twice,0\n"));
  EXPECT_THAT(summary.out, ::testing::HasSubstr("links_maybe_wrong,0\n"));
  RunResult json = RunCommand({AGGREGATOR_BIN, "totals", "--config", dir_ + "/analyst.textproto",
                               "--view", "summary", "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, ::testing::HasSubstr("an estimated 0 person(s) counted twice"));

  // Without --from/--to the figures are the latest year with published signals (the demo's
  // last signal is of January 2025), and the table says so; so do the overview's views.
  RunResult latest = RunCommand({AGGREGATOR_BIN, "totals", "--config", dir_ + "/analyst.textproto"});
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_THAT(latest.out, ::testing::HasSubstr("\nperiod: 2025-01..2025-12 (2025)\n"));
  RunResult year = RunCommand({AGGREGATOR_BIN, "totals", "--config", dir_ + "/analyst.textproto",
                               "--view", "summary", "--from", "2024-01", "--to", "2024-12"});
  ASSERT_EQ(year.exit_code, 0) << year.err;
  EXPECT_THAT(year.out, ::testing::HasSubstr("\nperiod: 2024-01..2024-12 (2024)\n"));
}

TEST_F(E2eTest, ImportingTheSameExportTwiceCountsNothingTwice) {
  SubmitAll();
  auto before = Exact("form");
  auto published_before = Totals("form");
  Expect0(RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig("police"), "--in", kData + "police.csv"}));
  EXPECT_EQ(Exact("form"), before);
  EXPECT_EQ(Exact("")[""], std::make_pair(60L, 80L));
  EXPECT_EQ(Totals("form"), published_before);  // the same reports: the same noise
}

TEST_F(E2eTest, RetractionTakesEffectImmediately) {
  SubmitAll();
  // PL-2024-1007 is the police's record of a person no other agency signalled (truth.csv).
  Expect0(RunCommand({AGENCY_NODE_BIN, "retract", "--config", NodeConfig("police"), "--record-id", "PL-2024-1007"}));
  EXPECT_EQ(Exact("")[""], std::make_pair(59L, 79L));
  EXPECT_EQ(Exact("domain")["police"], std::make_pair(27L, 27L));
  // Importing the export again does not bring the retracted report back: the node does not
  // resend it, and the aggregator would refuse it if it did (aggregator tests).
  RunResult again = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig("police"), "--in", kData + "police.csv"});
  Expect0(again);
  EXPECT_THAT(again.out, ::testing::HasSubstr("1 record(s) retracted earlier, not sent again"));
  EXPECT_EQ(Exact("")[""], std::make_pair(59L, 79L));
}

// A correction takes effect: the police export again with one record's form changed. The
// report keeps its id (counted once), the aggregator holds the new version, the totals move
// one signal from one form to the other, and `submit` says a report was corrected.
TEST_F(E2eTest, ACorrectedRecordUpdatesItsReport) {
  SubmitAll();
  auto before = Exact("form");
  std::string csv = Slurp(kData + "police.csv");
  const std::string row = "PL-2024-1007,Sanne Anna,NOWAK,2006-04-05,female,,+31 6 57 476376,,9722BB,,,Groningen,sexual,";
  ASSERT_NE(csv.find(row), std::string::npos);
  csv.replace(csv.find(row), row.size(),
              "PL-2024-1007,Sanne Anna,NOWAK,2006-04-05,female,,+31 6 57 476376,,9722BB,,,Groningen,labour,");
  const std::string corrected = dir_ + "/police-corrected.csv";
  WriteFile(corrected, csv);
  RunResult r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig("police"), "--in", corrected});
  Expect0(r);
  EXPECT_THAT(r.out, ::testing::HasSubstr("accepted:        0\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("corrected:       1 report(s)"));
  auto after = Exact("form");
  EXPECT_EQ(after["sexual"].second, before["sexual"].second - 1);
  EXPECT_EQ(after["labour"].second, before["labour"].second + 1);
  EXPECT_EQ(Exact("")[""], std::make_pair(60L, 80L));  // still one report, one person
  // The original export again is a correction back, not a new report.
  RunResult back = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig("police"), "--in", kData + "police.csv"});
  Expect0(back);
  EXPECT_THAT(back.out, ::testing::HasSubstr("corrected:       1 report(s)"));
  EXPECT_EQ(Exact("form"), before);
}

// The acknowledgement counts corrections and key-epoch replacements in fields of their own,
// and `submit` and `sent` (table, csv, json) show them next to accepted and duplicates:
// a batch with two corrected records and one new one, then the same export with one
// correction undone after a key rotation (epoch 1 -> 2), every report now under epoch 2. A
// batch whose only stored report took the new epoch beside a refused one is a partial
// acceptance (the aggregator answered INVALID_ARGUMENT, "nothing stored", before).
TEST_F(E2eTest, SubmitAndSentShowCorrectedAndRekeyedCountsFromTheAcknowledgement) {
  SubmitAll();
  std::string csv = Slurp(kData + "police.csv");
  auto change = [&csv](const std::string& from, const std::string& to) {
    ASSERT_NE(csv.find(from), std::string::npos) << from;
    csv.replace(csv.find(from), from.size(), to);
  };
  change("PL-2024-1007,Sanne Anna,NOWAK,2006-04-05,female,,+31 6 57 476376,,9722BB,,,Groningen,sexual,",
         "PL-2024-1007,Sanne Anna,NOWAK,2006-04-05,female,,+31 6 57 476376,,9722BB,,,Groningen,labour,");
  change("care_institution,care_institution,abuse_of_young_age,,ten_boer,2024-01-09",
         "care_institution,care_institution,abuse_of_young_age,,haren,2024-01-09");  // PL-2024-1028
  csv += "PL-2024-9001,Petra,VAN DAM,2005-02-03,female,,+31 6 11 223344,,9711AB,,,Groningen,sexual,"
         "direct,18_26,,independent,,abuse_of_young_age,,west,2024-04-23\n";
  const std::string corrected = dir_ + "/police-corrected.csv";
  WriteFile(corrected, csv);
  const std::string config = NodeConfig("police");
  RunResult r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", config, "--in", corrected});
  Expect0(r);
  EXPECT_THAT(r.out, ::testing::HasSubstr("reports sent:    29 in 1 batch\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("accepted:        1\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("duplicates:      28 (already stored"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("corrected:       2 report(s)"));
  EXPECT_EQ(r.out.find("new key epoch:"), std::string::npos) << r.out;
  EXPECT_EQ(Exact("")[""], std::make_pair(61L, 81L));

  // The sent log: the last batch's row, by column name.
  auto last_row = [&]() {
    RunResult sent = RunCommand({AGENCY_NODE_BIN, "sent", "--config", config, "--format", "csv"});
    EXPECT_EQ(sent.exit_code, 0) << sent.err;
    auto rows = ReadCsv(sent.out);
    return rows.empty() ? std::map<std::string, std::string>() : rows.back();
  };
  auto row = last_row();
  EXPECT_EQ(row["reports"], "29");
  EXPECT_EQ(row["accepted"], "1");
  EXPECT_EQ(row["duplicates"], "28");
  EXPECT_EQ(row["corrected"], "2");
  EXPECT_EQ(row["rekeyed"], "0");
  RunResult json = RunCommand({AGENCY_NODE_BIN, "sent", "--config", config, "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, ::testing::HasSubstr(
                            "\"accepted\":1,\"duplicates\":28,\"refused_reports\":0,"));
  EXPECT_THAT(json.out, ::testing::HasSubstr("\"corrected\":2,\"rekeyed\":0,\"report_list\""));
  RunResult table = RunCommand({AGENCY_NODE_BIN, "sent", "--config", config});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, ::testing::HasSubstr("refused  corrected  rekeyed\n"));
  EXPECT_THAT(table.out, ::testing::HasSubstr("       1          28        0          2        0\n"))
      << table.out;

  // Key rotation: the aggregator at epoch 2 (epoch 1 still accepted), the police node with
  // an epoch-2 key. The export again with PL-2024-1007 back at its first form: all 29
  // reports take epoch 2 tokens (neither accepted nor duplicates), one of them corrected.
  server_->Stop();
  std::string agg = Slurp(dir_ + "/aggregator.textproto");
  ASSERT_NE(agg.find("key_epoch: 1\n"), std::string::npos);
  agg.replace(agg.find("key_epoch: 1\n"), 13,
              "key_epoch: 2\nprevious_key_epoch: 1\nkey_switchover_month: 209912\n");
  WriteFile(dir_ + "/aggregator.textproto", agg);
  fs::remove(dir_ + "/port");
  server_ = std::make_unique<Background>(
      std::vector<std::string>{AGGREGATOR_BIN, "serve", "--config", dir_ + "/aggregator.textproto",
                               "--port-file", dir_ + "/port"},
      dir_ + "/aggregator2.log");
  std::string port = samenzicht::testing::WaitForFile(dir_ + "/port");
  ASSERT_FALSE(port.empty()) << server_->log();
  while (!port.empty() && port.back() == '\n') port.pop_back();
  Expect0(RunCommand({AGENCY_NODE_BIN, "keygen", "--out", dir_ + "/hashing-epoch2.key", "--epoch", "2"}));
  std::string node = Slurp(config);
  node.replace(node.find(address_), address_.size(), "127.0.0.1:" + port);
  node.replace(node.find(hashing_key_), hashing_key_.size(), dir_ + "/hashing-epoch2.key");
  WriteFile(config, node);

  // First one record under epoch 2 beside a report the aggregator refuses (a district it
  // does not know): the batch is partly accepted, not refused as a whole, because the one
  // report took the new epoch's tokens.
  const std::string extra_area = dir_ + "/police/node-extra-area.textproto";
  std::string extra = Slurp(config);
  extra.replace(extra.find("\"ten_boer\""), 10, "\"ten_boer\", \"noorderhaven\"");
  WriteFile(extra_area, extra);
  const size_t at = csv.find("PL-2024-1000,");
  const std::string first_row = csv.substr(at, csv.find('\n', at) - at + 1);
  std::string unknown_district = first_row;
  unknown_district.replace(0, 12, "PL-2024-9002");
  unknown_district.replace(unknown_district.find(",zuid,"), 6, ",noorderhaven,");
  WriteFile(dir_ + "/police-one-and-a-refusal.csv",
            csv.substr(0, csv.find('\n') + 1) + first_row + unknown_district);
  RunResult partial = RunCommand({AGENCY_NODE_BIN, "submit", "--config", extra_area, "--in",
                                  dir_ + "/police-one-and-a-refusal.csv"});
  EXPECT_NE(partial.exit_code, 0) << partial.out;  // a refused report is a failure
  EXPECT_THAT(partial.out, ::testing::HasSubstr("new key epoch:   1 report(s)"));
  EXPECT_THAT(partial.out, ::testing::HasSubstr(
                               "refused:         1 report(s), 0 batch(es); 1 batch(es) stored "
                               "except the refused reports"));
  row = last_row();
  EXPECT_EQ(row["ack"], "OK");
  EXPECT_EQ(row["rekeyed"], "1");
  EXPECT_EQ(row["refused_reports"], "1");

  change("PL-2024-1007,Sanne Anna,NOWAK,2006-04-05,female,,+31 6 57 476376,,9722BB,,,Groningen,labour,",
         "PL-2024-1007,Sanne Anna,NOWAK,2006-04-05,female,,+31 6 57 476376,,9722BB,,,Groningen,sexual,");
  WriteFile(corrected, csv);
  RunResult rotated = RunCommand({AGENCY_NODE_BIN, "submit", "--config", config, "--in", corrected});
  Expect0(rotated);
  EXPECT_THAT(rotated.out, ::testing::HasSubstr("accepted:        0\n"));
  EXPECT_THAT(rotated.out, ::testing::HasSubstr("duplicates:      1 (already stored"));
  EXPECT_THAT(rotated.out, ::testing::HasSubstr(
                               "new key epoch:   28 report(s) already stored under an older key "
                               "epoch now carry this epoch's tokens"));
  EXPECT_THAT(rotated.out, ::testing::HasSubstr("corrected:       1 report(s)"));
  row = last_row();
  EXPECT_EQ(row["accepted"], "0");
  EXPECT_EQ(row["duplicates"], "1");
  EXPECT_EQ(row["corrected"], "1");
  EXPECT_EQ(row["rekeyed"], "28");
  EXPECT_EQ(Exact("")[""].second, 81L);  // still one report per record
}

// A retracted record stays retracted when the export is imported again, unless the agency
// sends it again with --resend-retracted: then it counts again, as a new report, once.
TEST_F(E2eTest, ARetractedRecordIsSentAgainOnlyWithTheFlag) {
  SubmitAll();
  Expect0(RunCommand({AGENCY_NODE_BIN, "retract", "--config", NodeConfig("police"), "--record-id", "PL-2024-1007"}));
  EXPECT_EQ(Exact("")[""], std::make_pair(59L, 79L));
  RunResult again = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig("police"), "--in",
                                kData + "police.csv", "--resend-retracted"});
  Expect0(again);
  EXPECT_THAT(again.out, ::testing::HasSubstr("resent:          1 record(s)"));
  EXPECT_THAT(again.out, ::testing::HasSubstr("accepted:        1\n"));
  EXPECT_EQ(Exact("")[""], std::make_pair(60L, 80L));
  EXPECT_EQ(Exact("domain")["police"], std::make_pair(28L, 28L));
  // Once more, without the flag: the new report is an ordinary duplicate.
  RunResult third = RunCommand({AGENCY_NODE_BIN, "submit", "--config", NodeConfig("police"), "--in", kData + "police.csv"});
  Expect0(third);
  EXPECT_THAT(third.out, ::testing::Not(::testing::HasSubstr("retracted earlier")));
  EXPECT_EQ(Exact("")[""], std::make_pair(60L, 80L));
  // And the record can be retracted again: its new report goes.
  Expect0(RunCommand({AGENCY_NODE_BIN, "retract", "--config", NodeConfig("police"), "--record-id", "PL-2024-1007"}));
  EXPECT_EQ(Exact("")[""], std::make_pair(59L, 79L));
}

// Partial acceptance end to end: the police node accepts an area the aggregator does not
// know. A batch with one such report is stored except that report (OK, partially
// accepted): the node counts one refused report and no refused batch, and `sent` names it.
// A batch of only such reports stores nothing (INVALID_ARGUMENT): all its reports refused.
TEST_F(E2eTest, PartialAcceptanceIsNotARefusedBatch) {
  const std::string config = dir_ + "/police/node-extra-area.textproto";
  std::string text = Slurp(NodeConfig("police"));
  text.replace(text.find("\"ten_boer\""), 10, "\"ten_boer\", \"noorderhaven\"");
  WriteFile(config, text);
  const std::string header = "record_id,given_names,surname,date_of_birth,form,area,signal_date\n";
  std::string mixed = header;
  const std::vector<std::string> names = {"Anouk", "Bram", "Cees", "Dirk", "Eva", "Fenna"};
  for (size_t i = 0; i < names.size(); ++i) {
    mixed += "PX-" + std::to_string(i) + "," + names[i] + ",Testpersoon" + names[i] + ",200" +
             std::to_string(i) + "-01-15,sexual,west,2024-03-01\n";
  }
  mixed += "PX-BAD,Gijs,Testpersoongijs,2007-01-15,labour,noorderhaven,2024-03-01\n";
  WriteFile(dir_ + "/mixed.csv", mixed);

  RunResult r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", config, "--in", dir_ + "/mixed.csv"});
  EXPECT_NE(r.exit_code, 0) << r.out;  // a refused report is reported as a failure
  EXPECT_THAT(r.out, ::testing::HasSubstr("accepted:        6"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("refused:         1 report(s), 0 batch(es); 1 batch(es) "
                                          "stored except the refused reports"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("(record PX-BAD) refused: INVALID_ARGUMENT: area"));
  EXPECT_EQ(Exact("")[""], std::make_pair(6L, 6L));

  WriteFile(dir_ + "/all-bad.csv",
            header + "PY-1,Hans,Testpersoonhans,2006-01-15,labour,noorderhaven,2024-03-01\n"
                     "PY-2,Ilse,Testpersoonilse,2005-01-15,labour,noorderhaven,2024-03-01\n");
  r = RunCommand({AGENCY_NODE_BIN, "submit", "--config", config, "--in", dir_ + "/all-bad.csv"});
  EXPECT_NE(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, ::testing::HasSubstr("refused:         2 report(s), 1 batch(es)\n"));
  EXPECT_THAT(r.out, ::testing::HasSubstr("refused: INVALID_ARGUMENT: all 2 report(s) refused; "
                                          "nothing stored"));
  EXPECT_EQ(Exact("")[""], std::make_pair(6L, 6L));

  RunResult sent = RunCommand({AGENCY_NODE_BIN, "sent", "--config", config});
  Expect0(sent);
  std::istringstream lines(sent.out);
  std::string line;
  std::vector<std::string> batch_lines;
  while (std::getline(lines, line)) {
    // A batch row starts with its 32-hex-character id; a refused report's line follows it.
    const bool batch_row = line.size() > 34 && line.substr(32, 2) == "  " &&
                           line.find_first_not_of("0123456789abcdef") == 32;
    if (batch_row || line.rfind("  refused report", 0) == 0) batch_lines.push_back(line);
  }
  // The partly accepted batch (OK, 6 accepted, 1 refused) and its refused report; the
  // refused batch (INVALID_ARGUMENT, 2 refused) and both its reports.
  ASSERT_EQ(batch_lines.size(), 5u) << sent.out;
  EXPECT_THAT(batch_lines[0], ::testing::ContainsRegex("OK +6 +0 +1 +0 +0$"));
  // Each refused report named by report id, field, reason and the agency's record id.
  EXPECT_THAT(batch_lines[1], ::testing::ContainsRegex("^  refused report [0-9a-f]{32}: "
                                                       "INVALID_ARGUMENT area: area is not a "
                                                       "district configured.* \\(record PX-BAD\\)$"));
  EXPECT_THAT(batch_lines[2], ::testing::ContainsRegex("INVALID_ARGUMENT +0 +0 +2 +0 +0$"));
  EXPECT_THAT(batch_lines[3], ::testing::ContainsRegex("^  refused report [0-9a-f]{32}: "
                                                       "INVALID_ARGUMENT area.* \\(record PY-1\\)$"));
  EXPECT_THAT(batch_lines[4], ::testing::ContainsRegex("^  refused report [0-9a-f]{32}: "
                                                       "INVALID_ARGUMENT area.* \\(record PY-2\\)$"));
  // Only the refused ones: no accepted record is named.
  EXPECT_EQ(sent.out.find("PX-0"), std::string::npos);
}

// The honest analyst: every command the README suggests, in the README's order and then
// backwards, is answered (nothing refused for what was asked before), and the same question
// gets the same figures. A period off the grid is refused naming the grid periods to ask.
TEST_F(E2eTest, EveryReadmeQueryIsAnsweredInAnyOrderWithTheSameFigures) {
  SubmitAll();
  const std::string cfg = dir_ + "/analyst.textproto";
  const std::vector<std::vector<std::string>> queries = {
      {"totals", "--config", cfg},
      {"totals", "--config", cfg, "--by", "form,age_band", "--format", "csv"},
      {"totals", "--config", cfg, "--by", "domain", "--from", "2024-01", "--to", "2024-06",
       "--format", "json"},
      {"totals", "--config", cfg, "--view", "summary", "--from", "2024-01", "--to", "2024-12"},
      {"totals", "--config", cfg, "--view", "summary", "--from", "2024-01", "--to", "2024-06"},
      {"totals", "--config", cfg, "--view", "agencies", "--format", "csv"},
      {"totals", "--config", cfg, "--view", "overlap", "--format", "csv"},
      {"totals", "--config", cfg, "--view", "trend", "--per", "quarter", "--format", "csv"},
      {"totals", "--config", cfg, "--by", "form", "--from", "2024-04", "--to", "2024-06"},
  };
  std::vector<std::string> first;
  for (const auto& q : queries) {
    std::vector<std::string> argv = {AGGREGATOR_BIN};
    argv.insert(argv.end(), q.begin(), q.end());
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << q[3] << " " << (q.size() > 4 ? q[4] : "") << ": " << r.err;
    EXPECT_EQ(r.out.find("<5"), std::string::npos) << r.out;  // nothing withheld
    first.push_back(r.out);
  }
  for (size_t i = queries.size(); i-- > 0;) {
    std::vector<std::string> argv = {AGGREGATOR_BIN};
    argv.insert(argv.end(), queries[i].begin(), queries[i].end());
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, first[i]) << "query " << i << " answered differently the second time";
  }
  RunResult report = RunCommand({AGGREGATOR_BIN, "report", "--config", cfg, "--period",
                                 "2024-01..2024-12", "--out", dir_ + "/raad-2024.html"});
  EXPECT_EQ(report.exit_code, 0) << report.err;
  RunResult off = RunCommand({AGGREGATOR_BIN, "totals", "--config", cfg, "--from", "2024-01",
                              "--to", "2024-05"});
  EXPECT_NE(off.exit_code, 0);
  EXPECT_THAT(off.err, ::testing::HasSubstr("2024-01..2024-06 (2024-H1)"));
}

// On the demo data the headline figures a council asks for first are published, not
// withheld (nothing is withheld under the Cell Key Method) and not hidden behind a 0: the
// persons, the signals, the persons known to 2 agencies and to 3 or more, the persons by
// every form the data has 5 or more persons of, and every quarter's persons, for the year
// the council report covers. A count of k to k + S - 1 = 19 may be shown as 0 when its noise
// draw comes from the tail and falls below k and none of its persons is marked
// (docs/disclosure.md, section 10: a count of 6, the demo's "sexual and criminal", in about
// one deployment in 85, the quarters of 12 and 13 persons far less often); the cell-key secret
// is random per deployment, so that 0 is accepted for those counts and no other.
TEST_F(E2eTest, TheHeadlineFiguresArePublishedNotWithheld) {
  SubmitAll();
  const std::string cfg = dir_ + "/analyst.textproto";
  // One published table of 2024 as CSV: first column -> the column `value`.
  auto table = [&](std::vector<std::string> args, const std::string& first,
                   const std::string& value) {
    std::vector<std::string> argv = {AGGREGATOR_BIN, "totals", "--config", cfg, "--from",
                                     "2024-01", "--to", "2024-12", "--format", "csv"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = RunCommand(argv);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.find("<5"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(",x"), std::string::npos) << r.out;
    std::map<std::string, long> out;
    for (auto& row : ReadCsv(r.out)) out[row[first]] = std::stol(row[value]);
    return out;
  };
  const long k = 5;
  auto summary = table({"--view", "summary"}, "measure", "value");
  EXPECT_GE(summary["persons"], k);
  EXPECT_GE(summary["signals"], k);
  auto agencies = table({"--view", "agencies"}, "agencies", "persons");
  EXPECT_GE(agencies["2"], k) << "persons known to 2 agencies";
  EXPECT_TRUE(agencies.count("3+"));
  auto exact = Exact("form");
  auto forms = table({"--by", "form"}, "form", "persons");
  int big_forms = 0;
  for (const auto& [form, counts] : exact) {
    if (form.empty() || counts.first < k) continue;
    ++big_forms;
    EXPECT_TRUE(forms[form] >= k || (forms[form] == 0 && counts.first <= 19))
        << form << ": published " << forms[form] << ", exact " << counts.first;
  }
  EXPECT_GE(big_forms, 3);  // sexual, criminal, sexual and criminal
  auto quarters = table({"--view", "trend", "--per", "quarter"}, "quarter", "persons");
  const std::pair<const char*, const char*> months[] = {
      {"2024-01", "2024-03"}, {"2024-04", "2024-06"}, {"2024-07", "2024-09"}, {"2024-10", "2024-12"}};
  const char* names[] = {"2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"};
  for (int i = 0; i < 4; ++i) {
    RunResult r = RunCommand({AGGREGATOR_BIN, "exact-totals", "--config",
                              dir_ + "/aggregator.textproto", "--from", months[i].first, "--to",
                              months[i].second, "--format", "csv"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const long exact = std::stol(ReadCsv(r.out).back()["persons"]);
    EXPECT_TRUE(quarters[names[i]] >= k || (quarters[names[i]] == 0 && exact <= 19))
        << names[i] << ": published " << quarters[names[i]] << ", exact " << exact;
  }
}

// The exact path needs the aggregator's own configuration and store key: an analyst's (or
// an agency's) client configuration does not open it.
TEST_F(E2eTest, TheExactCountsAreNotAvailableWithAClientConfiguration) {
  SubmitAll();
  for (const char* cfg : {"analyst.textproto", "police-as-client.textproto"}) {
    RunResult r = RunCommand({AGGREGATOR_BIN, "exact-totals", "--config", dir_ + "/" + cfg});
    EXPECT_NE(r.exit_code, 0) << cfg << ": " << r.out;
    EXPECT_EQ(r.out.find("80"), std::string::npos) << r.out;
  }
}

TEST_F(E2eTest, AnAgencyCannotQueryTotals) {
  SubmitAll();
  RunResult r = RunCommand({AGGREGATOR_BIN, "totals", "--config", dir_ + "/police-as-client.textproto"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, ::testing::HasSubstr("only the municipality analyst may query totals"));
}

TEST_F(E2eTest, OfflineLinkageAgreesWithTheGroundTruth) {
  // pseudonymise + link, the offline path a privacy officer or researcher can run.
  std::vector<std::string> link = {AGGREGATOR_BIN, "link", "--out", dir_ + "/persons.csv"};
  std::map<std::string, std::string> report_to_record;
  for (const Agency& a : kAgencies) {
    std::string out = dir_ + "/" + a.id + ".jsonl", map = dir_ + "/" + a.id + ".map.csv";
    Expect0(RunCommand({AGENCY_NODE_BIN, "pseudonymise", "--key", hashing_key_, "--in", kData + a.csv,
                 "--out", out, "--map", map, "--profile", Profile()}));
    for (auto& row : ReadCsv(Slurp(map))) report_to_record[row["report_id"]] = row["record_id"];
    link.push_back(out);
  }
  Expect0(RunCommand(link));
  std::map<std::string, std::string> true_person;
  for (auto& row : ReadCsv(Slurp(kData + "truth.csv"))) true_person[row["record_id"]] = row["true_person_id"];
  auto linked = ReadCsv(Slurp(dir_ + "/persons.csv"));
  ASSERT_EQ(linked.size(), 80u);
  // The partition found must equal the true partition: same person id <=> same true person.
  std::map<std::string, std::set<std::string>> found_to_true, true_to_found;
  for (auto& row : linked) {
    std::string rec = report_to_record[row["report_id"]];
    ASSERT_FALSE(rec.empty()) << row["report_id"];
    found_to_true[row["person_id"]].insert(true_person[rec]);
    true_to_found[true_person[rec]].insert(row["person_id"]);
  }
  for (auto& [found, t] : found_to_true) EXPECT_EQ(t.size(), 1u) << "false merge in person " << found;
  for (auto& [t, found] : true_to_found) EXPECT_EQ(found.size(), 1u) << "missed link for " << t;
  EXPECT_EQ(found_to_true.size(), 60u);
}

TEST_F(E2eTest, NoIdentifierInAnyAggregatorFileOrLog) {
  SubmitAll();
  server_->Stop();  // flush everything the aggregator would write
  // Every identifier value of the input, in the forms it could be written.
  std::set<std::string> needles;
  const std::vector<std::string> id_columns = {"given_names", "surname", "date_of_birth", "national_id",
                                               "phone", "email", "postcode", "street"};
  for (const Agency& a : kAgencies) {
    for (auto& row : ReadCsv(Slurp(kData + a.csv))) {
      for (const std::string& c : id_columns) {
        std::string v = row[c];
        if (v.size() >= 4) needles.insert(v);
        if (c == "date_of_birth" && v.size() == 10) needles.insert(v.substr(0, 4) + v.substr(5, 2) + v.substr(8, 2));
        if (c == "phone") {
          std::string digits;
          for (char ch : v) if (isdigit(static_cast<unsigned char>(ch))) digits += ch;
          if (digits.size() >= 8) needles.insert(digits.substr(digits.size() - 8));
        }
        if (c == "surname" || c == "given_names") {
          std::string lower;
          for (char ch : v) lower += static_cast<char>(tolower(static_cast<unsigned char>(ch)));
          if (lower.size() >= 5) needles.insert(lower);
        }
      }
    }
  }
  ASSERT_GT(needles.size(), 200u);
  std::vector<std::string> files;
  for (auto& e : fs::recursive_directory_iterator(dir_ + "/data")) {
    if (e.is_regular_file()) files.push_back(e.path().string());
  }
  files.push_back(dir_ + "/aggregator.log");
  files.push_back(dir_ + "/aggregator.log.err");
  ASSERT_GE(files.size(), 3u);
  for (const std::string& f : files) {
    std::string bytes = Slurp(f);
    for (const std::string& n : needles) {
      EXPECT_EQ(bytes.find(n), std::string::npos) << "identifier found in " << f;
    }
  }
}

}  // namespace
}  // namespace samenzicht
