// The shared-key ceremony, run with the real agency-node binary: the administrator seals
// the key to each node; only that node can open it; both sides print the same fingerprint.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/subprocess.h"

namespace samenzicht::agency_node {
namespace {

using ::samenzicht::testing::RunCommand;
using ::testing::HasSubstr;

const std::string kBin = std::string(SAMENZICHT_BINARY_DIR) + "/agency_node/agency-node";

std::string LastLine(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  return t.substr(t.find_last_of('\n') + 1);
}

std::string Fingerprint(const std::string& out) {
  auto pos = out.find("key fingerprint: ");
  return pos == std::string::npos ? "" : out.substr(pos + 17, out.find('\n', pos) - pos - 17).substr(0, 24);
}

TEST(KeyCeremonyTest, SealedKeyReachesOnlyItsNodeAndFingerprintsMatch) {
  std::string d = ::testing::TempDir() + "/ceremony";
  std::filesystem::create_directories(d);
  ASSERT_EQ(RunCommand({kBin, "keygen", "--out", d + "/shared.key", "--epoch", "2"}).exit_code, 0);
  auto police = RunCommand({kBin, "box-keygen", "--out", d + "/police-box.key"});
  ASSERT_EQ(police.exit_code, 0) << police.err;
  auto other = RunCommand({kBin, "box-keygen", "--out", d + "/other-box.key"});
  ASSERT_EQ(other.exit_code, 0) << other.err;

  auto seal = RunCommand({kBin, "key-seal", "--key", d + "/shared.key", "--recipient", LastLine(police.out),
                          "--out", d + "/police.sealed"});
  ASSERT_EQ(seal.exit_code, 0) << seal.err;
  // The sealed file holds no key bytes in the clear.
  std::ifstream key_in(d + "/shared.key");
  std::string key_line;
  std::getline(key_in, key_line);
  std::stringstream sealed_text;
  sealed_text << std::ifstream(d + "/police.sealed").rdbuf();
  EXPECT_EQ(sealed_text.str().find(key_line.substr(key_line.rfind(' ') + 1)), std::string::npos);

  auto open = RunCommand({kBin, "key-open", "--sealed", d + "/police.sealed", "--box-key",
                          d + "/police-box.key", "--out", d + "/police-hashing.key"});
  ASSERT_EQ(open.exit_code, 0) << open.err;
  EXPECT_EQ(Fingerprint(open.out), Fingerprint(seal.out));
  EXPECT_THAT(Fingerprint(open.out), HasSubstr("epoch 2 "));
  struct stat st;
  ASSERT_EQ(::stat((d + "/police-hashing.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto fp = RunCommand({kBin, "key-fingerprint", "--key", d + "/shared.key"});
  EXPECT_THAT(fp.out, HasSubstr(Fingerprint(seal.out)));

  auto wrong = RunCommand({kBin, "key-open", "--sealed", d + "/police.sealed", "--box-key",
                           d + "/other-box.key", "--out", d + "/stolen.key"});
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_THAT(wrong.err, HasSubstr("was not sealed to this node's key"));
  EXPECT_FALSE(std::filesystem::exists(d + "/stolen.key"));
}

}  // namespace
}  // namespace samenzicht::agency_node
