#include "aggregator/linkage.h"

#include <gtest/gtest.h>

#include "tests/aggregator/test_util.h"

namespace samenzicht::aggregator {
namespace {

using testing::Tok;

TEST(LinkageTest, JoinsTransitivelyAcrossRules) {
  // r0 ~ r1 by rule 0, r1 ~ r2 by rule 1, r3 alone, r4 without tokens, r5 ~ r3 by rule 2.
  TokenTable t;
  t.Add(0, 0, Tok(1));
  t.Add(1, 0, Tok(1));
  t.Add(1, 1, Tok(2));
  t.Add(2, 1, Tok(2));
  t.Add(3, 2, Tok(3));
  t.Add(5, 2, Tok(3));
  t.Add(2, 2, Tok(9));
  LinkResult r = Link(6, t, 50, 3);
  EXPECT_EQ(r.persons, 3u);
  EXPECT_EQ(r.person, (std::vector<uint32_t>{0, 0, 0, 1, 2, 1}));
  EXPECT_EQ(r.unlinkable_reports, 1u);
  EXPECT_EQ(r.oversized_tokens, (std::vector<uint64_t>{0, 0, 0}));
}

TEST(LinkageTest, SameValueUnderAnotherRuleDoesNotJoin) {
  TokenTable t;
  t.Add(0, 0, Tok(7));
  t.Add(1, 1, Tok(7));
  LinkResult r = Link(2, t, 50, 2);
  EXPECT_EQ(r.persons, 2u);
}

TEST(LinkageTest, OversizedTokenIsNotUsedToJoinAndIsCounted) {
  // Four reports share a weak token (threshold 3): not joined by it. r0 and r1 also share a
  // strong token, so they stay together.
  TokenTable t;
  for (uint32_t i = 0; i < 4; ++i) t.Add(i, 1, Tok(100));
  t.Add(0, 0, Tok(1));
  t.Add(1, 0, Tok(1));
  // Exactly at the threshold (3 reports) still joins.
  t.Add(4, 2, Tok(200));
  t.Add(5, 2, Tok(200));
  t.Add(6, 2, Tok(200));
  LinkResult r = Link(7, t, 3, 3);
  EXPECT_EQ(r.person, (std::vector<uint32_t>{0, 0, 1, 2, 3, 3, 3}));
  EXPECT_EQ(r.persons, 4u);
  EXPECT_EQ(r.oversized_tokens, (std::vector<uint64_t>{0, 1, 0}));
}

TEST(LinkageTest, ARepeatedTokenInOneReportCountsThatReportOnce) {
  TokenTable t;
  t.Add(0, 0, Tok(5));
  t.Add(0, 0, Tok(5));
  t.Add(1, 0, Tok(5));
  LinkResult r = Link(2, t, 2, 1);
  EXPECT_EQ(r.persons, 1u);
  EXPECT_EQ(r.oversized_tokens[0], 0u);
}

TEST(LinkageTest, LinksManyReportsInAChain) {
  // A chain r0-r1-...-r9999 by alternating rules: one person.
  const uint32_t n = 10000;
  TokenTable t;
  t.Reserve(2 * n);
  for (uint32_t i = 0; i + 1 < n; ++i) {
    t.Add(i, i % 2, Tok(static_cast<int>(i)));
    t.Add(i + 1, i % 2, Tok(static_cast<int>(i)));
  }
  LinkResult r = Link(n, t, 50, 2);
  EXPECT_EQ(r.persons, 1u);
}

TEST(LinkageTest, EmptyInput) {
  LinkResult r = Link(0, TokenTable(), 50, 0);
  EXPECT_EQ(r.persons, 0u);
  EXPECT_TRUE(r.person.empty());
}

}  // namespace
}  // namespace samenzicht::aggregator
