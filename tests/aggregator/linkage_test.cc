#include "aggregator/linkage/linkage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <tuple>

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

// --- Probe rules: rule 1 is a probe rule (e.g. name + postcode, probe = no date of
// birth), rule 0 an ordinary one.
constexpr TokenRole kAnchor = TokenRole::kAnchor;
constexpr TokenRole kProbe = TokenRole::kProbe;

TEST(LinkageTest, TokenTableKeepsRuleAndRoleApart) {
  TokenTable t;
  t.Add(0, kMaxRules - 1, Tok(1), kProbe);
  t.Add(1, 3, Tok(1), kAnchor);
  t.Add(2, 3, Tok(1));
  EXPECT_EQ(t.rule(0), kMaxRules - 1);
  EXPECT_EQ(t.role(0), kProbe);
  EXPECT_EQ(t.rule(1), 3);
  EXPECT_EQ(t.role(1), kAnchor);
  EXPECT_EQ(t.role(2), TokenRole::kOrdinary);
  EXPECT_TRUE(t.Equal(1, 2));  // the role does not make another token
}

TEST(LinkageTest, TwoAnchorsWithDifferentDatesOfBirthAndAProbeStayApart) {
  // Two Merve Dijkstras at one postcode (r0 born 2001, r1 born 2009: no ordinary token in
  // common) and a record of that name and postcode without a date of birth (r2).
  TokenTable t;
  t.Add(0, 1, Tok(50), kAnchor);
  t.Add(1, 1, Tok(50), kAnchor);
  t.Add(2, 1, Tok(50), kProbe);
  LinkResult r = Link(3, t, 50, 2);
  EXPECT_EQ(r.persons, 3u);
  EXPECT_EQ(r.ambiguous_probe_reports, 1u);
}

TEST(LinkageTest, AnchorsAloneNeverJoinThroughAProbeRule) {
  TokenTable t;
  t.Add(0, 1, Tok(50), kAnchor);
  t.Add(1, 1, Tok(50), kAnchor);
  LinkResult r = Link(2, t, 50, 2);
  EXPECT_EQ(r.persons, 2u);
  EXPECT_EQ(r.ambiguous_probe_reports, 0u);
}

TEST(LinkageTest, AProbeJoinsTheOnePersonItsAnchorsBelongTo) {
  // r0 and r1 are one person by rule 0 and both anchors of token 50; r2 is a probe of it,
  // r3 has a probe token nobody else carries.
  TokenTable t;
  t.Add(0, 0, Tok(1));
  t.Add(0, 1, Tok(50), kAnchor);
  t.Add(1, 0, Tok(1));
  t.Add(1, 1, Tok(50), kAnchor);
  t.Add(2, 1, Tok(50), kProbe);
  t.Add(3, 1, Tok(51), kProbe);
  LinkResult r = Link(4, t, 50, 2);
  EXPECT_EQ(r.person, (std::vector<uint32_t>{0, 0, 0, 1}));
  EXPECT_EQ(r.ambiguous_probe_reports, 0u);
}

TEST(LinkageTest, ProbesJoinEachOther) {
  // Two records without a date of birth, one name and postcode, no anchor: one person. A
  // third joins them through another probe rule (rule 2) token of r1.
  TokenTable t;
  t.Add(0, 1, Tok(50), kProbe);
  t.Add(1, 1, Tok(50), kProbe);
  t.Add(1, 2, Tok(60), kProbe);
  t.Add(2, 2, Tok(60), kProbe);
  LinkResult r = Link(3, t, 50, 3);
  EXPECT_EQ(r.persons, 1u);
}

TEST(LinkageTest, AProbeAlreadyWithOnePersonDoesNotBridgeToAnother) {
  // r2 has no date of birth but shares a phone (rule 0) with r0; its probe token is also
  // anchored by r1, another person: r0 and r1 must stay apart.
  TokenTable t;
  t.Add(0, 0, Tok(1));
  t.Add(0, 1, Tok(50), kAnchor);
  t.Add(1, 1, Tok(50), kAnchor);
  t.Add(2, 0, Tok(1));
  t.Add(2, 1, Tok(50), kProbe);
  LinkResult r = Link(3, t, 50, 2);
  EXPECT_EQ(r.person, (std::vector<uint32_t>{0, 1, 0}));
}

TEST(LinkageTest, ProbesChainedBetweenTwoPersonsStayUnattached) {
  // r2 is a probe of r0's token, r3 of r1's, and r2 ~ r3 by another probe token: joining
  // the group to either person would make the other one reachable. Nothing joins.
  TokenTable t;
  t.Add(0, 1, Tok(50), kAnchor);
  t.Add(1, 1, Tok(51), kAnchor);
  t.Add(2, 1, Tok(50), kProbe);
  t.Add(2, 2, Tok(60), kProbe);
  t.Add(3, 1, Tok(51), kProbe);
  t.Add(3, 2, Tok(60), kProbe);
  LinkResult r = Link(4, t, 50, 3);
  EXPECT_EQ(r.persons, 4u);
  EXPECT_EQ(r.ambiguous_probe_reports, 2u);
}

TEST(LinkageTest, OversizedProbeTokenIsNotUsedAndIsCounted) {
  // One anchor and three probes share a probe token (threshold 3, four carriers): ignored.
  // Exactly at the threshold (three carriers) still joins.
  TokenTable t;
  t.Add(0, 1, Tok(50), kAnchor);
  for (uint32_t i = 1; i <= 3; ++i) t.Add(i, 1, Tok(50), kProbe);
  t.Add(4, 1, Tok(70), kAnchor);
  t.Add(5, 1, Tok(70), kProbe);
  t.Add(6, 1, Tok(70), kProbe);
  LinkResult r = Link(7, t, 3, 2);
  EXPECT_EQ(r.person, (std::vector<uint32_t>{0, 1, 2, 3, 4, 4, 4}));
  EXPECT_EQ(r.oversized_tokens, (std::vector<uint64_t>{0, 1}));
  EXPECT_EQ(r.ambiguous_probe_reports, 0u);
}

TEST(LinkageTest, TokenTableGroupsRunsAndKeepsHighRules) {
  // Reports 4, 4, 2, 4: three runs; rule 200 (above the 6 bits of the code byte) arrives
  // after low rules and leaves them as they were.
  TokenTable t;
  t.Add(4, 1, Tok(1), kAnchor);
  t.Add(4, 63, Tok(2));
  t.Add(2, 5, Tok(3), kProbe);
  t.Add(4, 200, Tok(4), kProbe);
  ASSERT_EQ(t.size(), 4u);
  ASSERT_EQ(t.runs(), 3u);
  EXPECT_EQ(t.run_report(0), 4u);
  EXPECT_EQ(t.run_begin(0), 0u);
  EXPECT_EQ(t.run_end(0), 2u);
  EXPECT_EQ(t.run_report(1), 2u);
  EXPECT_EQ(t.run_end(1), 3u);
  EXPECT_EQ(t.run_report(2), 4u);
  EXPECT_EQ(t.run_end(2), 4u);
  EXPECT_EQ((std::vector<uint32_t>{t.report(0), t.report(1), t.report(2), t.report(3)}),
            (std::vector<uint32_t>{4, 4, 2, 4}));
  EXPECT_EQ((std::vector<uint16_t>{t.rule(0), t.rule(1), t.rule(2), t.rule(3)}),
            (std::vector<uint16_t>{1, 63, 5, 200}));
  EXPECT_EQ(t.role(0), kAnchor);
  EXPECT_EQ(t.role(1), TokenRole::kOrdinary);
  EXPECT_EQ(t.role(2), kProbe);
  EXPECT_EQ(t.role(3), kProbe);
  EXPECT_EQ(t.fingerprint(3), TokenFingerprint(reinterpret_cast<const uint8_t*>(Tok(4).data())));
}

TEST(LinkageTest, ScatteredTokensOfAReportLinkAsGroupedOnes) {
  // The same tokens added report by report (5 runs) and interleaved (7 runs) give the same
  // persons: r0 ~ r1 by rule 0, r1 ~ r3 by rule 70 (above the code byte's 6 bits).
  const std::vector<std::tuple<uint32_t, uint16_t, int>> scattered_order = {
      {1, 0, 1}, {0, 0, 1}, {4, 1, 6}, {1, 70, 2}, {3, 70, 2}, {4, 70, 9}, {2, 1, 5}};
  TokenTable grouped, scattered;
  for (uint32_t report = 0; report < 5; ++report) {
    for (const auto& [r, rule, value] : scattered_order) {
      if (r == report) grouped.Add(r, rule, Tok(value));
    }
  }
  for (const auto& [r, rule, value] : scattered_order) scattered.Add(r, rule, Tok(value));
  EXPECT_EQ(grouped.runs(), 5u);
  EXPECT_EQ(scattered.runs(), 7u);
  for (const TokenTable* t : {&grouped, &scattered}) {
    LinkResult r = Link(5, *t, 50, 71);
    EXPECT_EQ(r.person, (std::vector<uint32_t>{0, 0, 1, 0, 2}));
    EXPECT_EQ(r.persons, 3u);
    // Threshold 1: the two-carrier tokens of rules 0 and 70 are oversized, nothing joins.
    LinkResult strict = Link(5, *t, 1, 71);
    EXPECT_EQ(strict.persons, 5u);
    EXPECT_EQ(strict.oversized_tokens[0], 1u);
    EXPECT_EQ(strict.oversized_tokens[70], 1u);
    EXPECT_EQ(strict.oversized_tokens[1], 0u);
  }
}

// The same reports in another order (renumbered, tokens in the new report order) give the
// same partition into persons, and the same number of ambiguous probes.
TEST(LinkageTest, ProbeLinkageDoesNotDependOnReportOrder) {
  const uint32_t n = 600;
  std::mt19937 rng(7);
  // Per report: tokens (rule, value, role). Small value pools make chains, shared anchors,
  // ambiguous groups and probe-probe joins likely.
  std::vector<std::vector<std::tuple<uint16_t, int, TokenRole>>> tokens_of(n);
  for (uint32_t i = 0; i < n; ++i) {
    const bool has_dob = rng() % 3 != 0;
    if (rng() % 2 == 0) tokens_of[i].emplace_back(0, static_cast<int>(rng() % 350), TokenRole::kOrdinary);
    for (uint16_t rule : {uint16_t{1}, uint16_t{2}}) {
      if (rng() % 4 != 0) {
        tokens_of[i].emplace_back(rule, static_cast<int>(1000 * rule + rng() % 250),
                                  has_dob ? kAnchor : kProbe);
      }
    }
  }
  auto link = [&](const std::vector<uint32_t>& order) {
    // order[k] = the original report placed at position k.
    TokenTable t;
    for (uint32_t k = 0; k < n; ++k) {
      for (const auto& [rule, value, role] : tokens_of[order[k]]) t.Add(k, rule, Tok(value), role);
    }
    LinkResult r = Link(n, t, 50, 3);
    // Canonical labels by original report: the first original report of each person.
    std::vector<uint32_t> person_of(n), label(n), first(r.persons, n);
    for (uint32_t k = 0; k < n; ++k) person_of[order[k]] = r.person[k];
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t& f = first[person_of[i]];
      if (f == n) f = i;
      label[i] = f;
    }
    return std::make_pair(label, r.ambiguous_probe_reports);
  };
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  const auto expected = link(order);
  // The scenario has ambiguous probes and joins through probe rules.
  ASSERT_GT(expected.second, 0u);
  std::vector<uint32_t> labels = expected.first;
  std::sort(labels.begin(), labels.end());
  const size_t persons = std::unique(labels.begin(), labels.end()) - labels.begin();
  {
    TokenTable t;
    for (uint32_t i = 0; i < n; ++i) {
      for (const auto& [rule, value, role] : tokens_of[i]) {
        if (role == TokenRole::kOrdinary) t.Add(i, rule, Tok(value), role);
      }
    }
    ASSERT_LT(persons, Link(n, t, 50, 3).persons);
  }
  for (int round = 0; round < 20; ++round) {
    std::shuffle(order.begin(), order.end(), rng);
    EXPECT_EQ(link(order), expected) << "round " << round;
  }
}

}  // namespace
}  // namespace samenzicht::aggregator
