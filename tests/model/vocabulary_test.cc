#include "model/vocabulary.h"

#include <gtest/gtest.h>

#include "samenzicht/v1/categories.pb.h"
#include "tests/testing/status_matchers.h"

namespace samenzicht::model {
namespace {

using ::samenzicht::testing::StatusIs;

TEST(VocabularyTest, WordsOfTheCsvContract) {
  EXPECT_EQ(*ParseWord(v1::DIMENSION_FORM, "sexual_and_criminal"), v1::FORM_SEXUAL_AND_CRIMINAL);
  EXPECT_EQ(*ParseWord(v1::DIMENSION_AGE_BAND, "0_12"), v1::AGE_BAND_0_12);
  EXPECT_EQ(*ParseWord(v1::DIMENSION_AGE_BAND, "27_plus"), v1::AGE_BAND_27_PLUS);
  EXPECT_EQ(*ParseWord(v1::DIMENSION_GENDER, "female"), v1::GENDER_FEMALE);
  EXPECT_EQ(*ParseWord(v1::DIMENSION_DOMAIN, "youth_care"), v1::DOMAIN_YOUTH_CARE);
  EXPECT_EQ(*ParseWord(v1::DIMENSION_GENDER, ""), 0);
  EXPECT_EQ(*ParseWord(v1::DIMENSION_GENDER, "unknown"), 0);
  EXPECT_EQ(Word(v1::DIMENSION_FORM, v1::FORM_LABOUR), "labour");
  EXPECT_EQ(Word(v1::DIMENSION_FORM, 0), "unknown");
  EXPECT_EQ(Words(v1::DIMENSION_FORM),
            (std::vector<std::string>{"sexual", "criminal", "sexual_and_criminal", "labour", "other"}));
}

TEST(VocabularyTest, UnknownWordIsNotFoundAndListsValidOnes) {
  EXPECT_THAT(ParseWord(v1::DIMENSION_FORM, "sexueel"), StatusIs(absl::StatusCode::kNotFound, "valid: sexual"));
  // Case systems export in all sorts of case; words are matched case-insensitively.
  EXPECT_EQ(*ParseWord(v1::DIMENSION_FORM, "Sexual"), v1::FORM_SEXUAL);
  EXPECT_THAT(ParseWord(v1::DIMENSION_FORM, "unspecified"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(VocabularyTest, Dimensions) {
  EXPECT_EQ(*ParseDimension("form"), v1::DIMENSION_FORM);
  EXPECT_EQ(*ParseDimension("domain"), v1::DIMENSION_DOMAIN);
  EXPECT_EQ(DimensionName(v1::DIMENSION_LIVING_SITUATION), "living_situation");
  EXPECT_THAT(ParseDimension("colour"), StatusIs(absl::StatusCode::kInvalidArgument, "colour"));
  EXPECT_TRUE(IsMultiValued(v1::DIMENSION_COERCION));
  EXPECT_FALSE(IsMultiValued(v1::DIMENSION_FORM));
  EXPECT_EQ(MonthWord(202403), "2024-03");
}

}  // namespace
}  // namespace samenzicht::model
