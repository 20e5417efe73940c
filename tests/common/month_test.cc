// The one month type (common/month.h): parsing, text, arithmetic across years, the UTC
// month of a time and its first second.
#include "common/month.h"

#include <gtest/gtest.h>

namespace samenzicht {
namespace {

TEST(MonthTest, ParsesBothSpellingsAndRefusesEverythingElse) {
  EXPECT_EQ(Month::Parse("2024-03").value_or(Month(1)).yyyymm(), 202403u);
  EXPECT_EQ(Month::Parse("202403").value_or(Month(1)).yyyymm(), 202403u);
  EXPECT_EQ(Month::Parse("").value_or(Month(1)).yyyymm(), 0u);
  for (const char* bad : {"2024-13", "2024-00", "1899-12", "3000-01", "2024-3", "24-03", "2024/03",
                          "march", "2024-03-01", "000000"}) {
    EXPECT_FALSE(Month::Parse(bad).has_value()) << bad;
  }
}

TEST(MonthTest, TextIsYearDashTwoDigitMonth) {
  EXPECT_EQ(Month(202403).Text(), "2024-03");
  EXPECT_EQ(Month(199912).Text(), "1999-12");
  EXPECT_EQ(Month().Text(), "");
  EXPECT_TRUE(Month().none());
  EXPECT_TRUE(Month().IsValid());
  EXPECT_FALSE(Month(202413).IsValid());
  EXPECT_EQ(Month(202403).year(), 2024u);
  EXPECT_EQ(Month(202403).month(), 3u);
}

TEST(MonthTest, PlusCrossesYearsBothWays) {
  EXPECT_EQ(Month(202412).Plus(1).yyyymm(), 202501u);
  EXPECT_EQ(Month(202401).Plus(-1).yyyymm(), 202312u);
  EXPECT_EQ(Month(202403).Plus(-24).yyyymm(), 202203u);
  EXPECT_EQ(Month(202403).Plus(-27).yyyymm(), 202112u);
  EXPECT_EQ(Month(202403).Plus(0).yyyymm(), 202403u);
  EXPECT_EQ(Month().Plus(5).yyyymm(), 0u);
  EXPECT_EQ(Month(1).Plus(-1).yyyymm(), 0u);  // before year 0: no month
  EXPECT_LT(Month(202312), Month(202401));
}

TEST(MonthTest, TheUtcMonthOfATimeAndItsFirstSecond) {
  // 2024-02-29T23:59:59Z and 2024-03-01T00:00:00Z.
  EXPECT_EQ(Month::OfUnixSeconds(1709251199).yyyymm(), 202402u);
  EXPECT_EQ(Month::OfUnixSeconds(1709251200).yyyymm(), 202403u);
  EXPECT_EQ(Month::OfUnixMs(int64_t{1709251200} * 1000 - 1).yyyymm(), 202402u);
  EXPECT_EQ(Month(202403).StartUnix(), 1709251200);
  EXPECT_EQ(Month(197001).StartUnix(), 0);
  EXPECT_EQ(Month().StartUnix(), 0);
  EXPECT_TRUE(Month::Now().IsValid());
  EXPECT_FALSE(Month::Now().none());
}

}  // namespace
}  // namespace samenzicht
