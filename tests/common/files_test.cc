#include "common/files.h"

#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::files {
namespace {

using ::samenzicht::testing::StatusIs;

std::string Dir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/files_test/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

TEST(WriteFileAtomicTest, WritesWithTheModeAsked) {
  std::string d = Dir("mode");
  ASSERT_OK(WriteFileAtomic(d + "/a", "hello", 0600));
  EXPECT_EQ(*ReadFile(d + "/a"), "hello");
  struct stat st;
  ASSERT_EQ(::stat((d + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(d + "/a.tmp"));
}

TEST(WriteFileAtomicTest, ALinkAtTheTemporaryNameIsNotWrittenThrough) {
  std::string d = Dir("tmp_link");
  ASSERT_OK(WriteFileAtomic(d + "/victim", "untouched", 0644));
  std::filesystem::create_symlink(d + "/victim", d + "/out.tmp");
  ASSERT_OK(WriteFileAtomic(d + "/out", "new contents", 0600));
  EXPECT_EQ(*ReadFile(d + "/victim"), "untouched");
  EXPECT_EQ(*ReadFile(d + "/out"), "new contents");
  EXPECT_FALSE(std::filesystem::is_symlink(d + "/out"));
}

TEST(WriteFileAtomicTest, ASymbolicLinkAtThePathIsRefused) {
  std::string d = Dir("path_link");
  ASSERT_OK(WriteFileAtomic(d + "/victim", "untouched", 0644));
  std::filesystem::create_symlink(d + "/victim", d + "/out");
  EXPECT_THAT(WriteFileAtomic(d + "/out", "new", 0600),
              StatusIs(absl::StatusCode::kFailedPrecondition, "symbolic link"));
  EXPECT_EQ(*ReadFile(d + "/victim"), "untouched");
  EXPECT_TRUE(std::filesystem::is_symlink(d + "/out"));
}

}  // namespace
}  // namespace samenzicht::files
