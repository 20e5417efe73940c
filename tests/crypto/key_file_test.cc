#include "crypto/key_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::crypto {
namespace {

using ::samenzicht::testing::StatusIs;

std::string TempPath(const std::string& name) {
  std::string dir = ::testing::TempDir() + "/key_file_test";
  std::filesystem::create_directories(dir);
  std::string p = dir + "/" + name;
  std::filesystem::remove(p);
  return p;
}

TEST(KeyFileTest, GenerateThenLoadRoundTripsWithEpochAndMode0600) {
  std::string p = TempPath("hash.key");
  ASSERT_OK_AND_ASSIGN(std::string pub, GenerateKeyFile(p, KeyKind::kHashing, 7));
  EXPECT_EQ(pub, "");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(LoadedKey k, LoadKeyFile(p, KeyKind::kHashing));
  EXPECT_EQ(k.epoch, 7u);
  EXPECT_EQ(k.bytes.size(), 32u);
}

TEST(KeyFileTest, TwoGeneratedKeysDiffer) {
  std::string a = TempPath("a.key"), b = TempPath("b.key");
  ASSERT_OK(GenerateKeyFile(a, KeyKind::kStore));
  ASSERT_OK(GenerateKeyFile(b, KeyKind::kStore));
  ASSERT_OK_AND_ASSIGN(LoadedKey ka, LoadKeyFile(a, KeyKind::kStore));
  ASSERT_OK_AND_ASSIGN(LoadedKey kb, LoadKeyFile(b, KeyKind::kStore));
  EXPECT_FALSE(ka.bytes.Equals(kb.bytes));
}

TEST(KeyFileTest, NeverOverwritesAKey) {
  std::string p = TempPath("once.key");
  ASSERT_OK(GenerateKeyFile(p, KeyKind::kHashing, 1));
  EXPECT_THAT(GenerateKeyFile(p, KeyKind::kHashing, 1), StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(KeyFileTest, RefusesFileReadableByOthersAndSaysHowToFix) {
  std::string p = TempPath("loose.key");
  ASSERT_OK(GenerateKeyFile(p, KeyKind::kHashing, 1));
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  EXPECT_THAT(LoadKeyFile(p, KeyKind::kHashing),
              StatusIs(absl::StatusCode::kFailedPrecondition, "chmod 600 " + p));
  ASSERT_EQ(::chmod(p.c_str(), 0640), 0);
  EXPECT_THAT(LoadKeyFile(p, KeyKind::kHashing), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(::chmod(p.c_str(), 0400), 0);
  EXPECT_OK(LoadKeyFile(p, KeyKind::kHashing));
}

TEST(KeyFileTest, RefusesASymbolicLinkToAKey) {
  std::string p = TempPath("real.key"), link = TempPath("link.key");
  ASSERT_OK(GenerateKeyFile(p, KeyKind::kHashing, 1));
  std::filesystem::create_symlink(p, link);
  EXPECT_THAT(LoadKeyFile(link, KeyKind::kHashing),
              StatusIs(absl::StatusCode::kFailedPrecondition, "symbolic link"));
  EXPECT_THAT(CheckPrivateFile(link), StatusIs(absl::StatusCode::kFailedPrecondition, "symbolic link"));
  EXPECT_THAT(ReadPrivateFile(link), StatusIs(absl::StatusCode::kFailedPrecondition, "symbolic link"));
  EXPECT_OK(LoadKeyFile(p, KeyKind::kHashing));
}

TEST(KeyFileTest, RefusesAKeyOwnedByAnotherUser) {
  std::string p = TempPath("foreign.key");
  ASSERT_OK(GenerateKeyFile(p, KeyKind::kHashing, 1));
  if (::chown(p.c_str(), 54321, 54321) != 0) GTEST_SKIP() << "chown needs root";
  EXPECT_THAT(LoadKeyFile(p, KeyKind::kHashing),
              StatusIs(absl::StatusCode::kFailedPrecondition, "owned by user id 54321"));
  EXPECT_THAT(ReadPrivateFile(p), StatusIs(absl::StatusCode::kFailedPrecondition, "chown"));
}

TEST(KeyFileTest, ReadPrivateFileReadsTheWholeFileIntoSecureMemory) {
  std::string p = TempPath("tls.key");
  {
    std::ofstream out(p);
    out << "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n";
  }
  ASSERT_EQ(::chmod(p.c_str(), 0600), 0);
  ASSERT_OK_AND_ASSIGN(SecretBytes b, ReadPrivateFile(p));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.unsafe_bytes()), b.size()),
            "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n");
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  EXPECT_THAT(ReadPrivateFile(p), StatusIs(absl::StatusCode::kFailedPrecondition, "chmod 600"));
}

TEST(KeyFileTest, WrongKindMissingAndMalformed) {
  std::string p = TempPath("sign.key");
  ASSERT_OK_AND_ASSIGN(std::string pub, GenerateKeyFile(p, KeyKind::kSigning));
  EXPECT_FALSE(pub.empty());
  EXPECT_THAT(LoadKeyFile(p, KeyKind::kHashing), StatusIs(absl::StatusCode::kInvalidArgument, "ed25519"));
  EXPECT_THAT(LoadKeyFile(TempPath("missing.key"), KeyKind::kHashing),
              StatusIs(absl::StatusCode::kNotFound));
  std::string bad = TempPath("bad.key");
  { std::ofstream(bad) << "samenzicht-key v1 hashing 1 AAAA\n"; }
  ::chmod(bad.c_str(), 0600);
  EXPECT_THAT(LoadKeyFile(bad, KeyKind::kHashing), StatusIs(absl::StatusCode::kInvalidArgument, "32 bytes"));
}

}  // namespace
}  // namespace samenzicht::crypto
