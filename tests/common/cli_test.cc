#include "common/cli.h"

#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace samenzicht::cli {
namespace {

using ::samenzicht::testing::StatusIs;

absl::StatusOr<Args> ParseAll(const Command& c, std::vector<std::string> v) {
  std::vector<char*> argv;
  for (auto& s : v) argv.push_back(s.data());
  return c.Parse(static_cast<int>(argv.size()), argv.data());
}

Command MakeCommand() {
  Command c("link", "link reports");
  c.Flag("out", "FILE", "output", true).Switch("keep-running", "stay up").Positional("IN", "inputs", 1);
  return c;
}

TEST(CliTest, ParsesFlagsBothFormsAndPositionals) {
  ASSERT_OK_AND_ASSIGN(Args a, ParseAll(MakeCommand(), {"link", "--out", "p.csv", "a.jsonl",
                                                        "--keep-running", "b.jsonl"}));
  EXPECT_EQ(a.Get("out"), "p.csv");
  EXPECT_TRUE(a.Has("keep-running"));
  EXPECT_EQ(a.positional, (std::vector<std::string>{"a.jsonl", "b.jsonl"}));
  ASSERT_OK_AND_ASSIGN(Args b, ParseAll(MakeCommand(), {"link", "--out=x", "a"}));
  EXPECT_EQ(b.Get("out"), "x");
}

TEST(CliTest, RepeatableFlagsKeepEveryValue) {
  Command c("retract", "r");
  c.Flag("record-id", "ID", "record");
  ASSERT_OK_AND_ASSIGN(Args a, ParseAll(c, {"retract", "--record-id", "A", "--record-id=B,C"}));
  EXPECT_EQ(a.GetAll("record-id"), (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(a.Get("record-id"), "B,C");
}

TEST(CliTest, UnknownFlagIsNamed) {
  EXPECT_THAT(ParseAll(MakeCommand(), {"link", "--out", "x", "--bogus", "a"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "--bogus"));
}

TEST(CliTest, MissingRequiredFlagAndValue) {
  EXPECT_THAT(ParseAll(MakeCommand(), {"link", "a"}), StatusIs(absl::StatusCode::kInvalidArgument, "--out"));
  EXPECT_THAT(ParseAll(MakeCommand(), {"link", "a", "--out"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "needs a value"));
  EXPECT_THAT(ParseAll(MakeCommand(), {"link", "--out", "x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, "at least 1"));
}

TEST(CliTest, HelpShortCircuitsRequiredChecks) {
  ASSERT_OK_AND_ASSIGN(Args a, ParseAll(MakeCommand(), {"link", "--help"}));
  EXPECT_TRUE(a.help);
  EXPECT_NE(MakeCommand().Usage().find("--out FILE"), std::string::npos);
}

}  // namespace
}  // namespace samenzicht::cli
