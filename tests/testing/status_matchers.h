// GoogleTest matchers for absl::Status / StatusOr; Abseil 20220623 ships none.
//
//   EXPECT_THAT(LoadKeyFile(p, kind), StatusIs(absl::StatusCode::kFailedPrecondition));
//   ASSERT_OK(status);  ASSERT_OK_AND_ASSIGN(auto v, MakeThing());
#ifndef SAMENZICHT_TESTS_TESTING_STATUS_MATCHERS_H_
#define SAMENZICHT_TESTS_TESTING_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace samenzicht::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) { return s.status(); }

MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = ::samenzicht::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code;
}

MATCHER_P2(StatusIs, code, substring, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& s = ::samenzicht::testing::GetStatus(arg);
  *result_listener << "status is " << s.ToString();
  return s.code() == code && std::string(s.message()).find(substring) != std::string::npos;
}

}  // namespace samenzicht::testing

#define ASSERT_OK(expr) ASSERT_TRUE((expr).ok()) << ::samenzicht::testing::GetStatus(expr).ToString()
#define EXPECT_OK(expr) EXPECT_TRUE((expr).ok()) << ::samenzicht::testing::GetStatus(expr).ToString()

#define SZ_TEST_CONCAT_INNER_(a, b) a##b
#define SZ_TEST_CONCAT_(a, b) SZ_TEST_CONCAT_INNER_(a, b)
#define SZ_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  ASSERT_TRUE(tmp.ok()) << tmp.status().ToString();   \
  lhs = std::move(*tmp)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  SZ_ASSERT_OK_AND_ASSIGN_IMPL_(SZ_TEST_CONCAT_(sz_test_or_, __LINE__), lhs, expr)

#endif  // SAMENZICHT_TESTS_TESTING_STATUS_MATCHERS_H_
