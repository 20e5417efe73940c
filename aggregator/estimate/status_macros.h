// Local `absl::Status` helpers for the estimate module.
//
// Abseil 20220623 (Debian 12) ships no `status_macros.h`. These two macros
// are private to `aggregator/estimate/` and prefixed `MSE_` so that they cannot
// collide with the project-wide macros the lead may add to `common/`; when
// those exist, these can be replaced one for one.
#ifndef SAMENZICHT_AGGREGATOR_ESTIMATE_STATUS_MACROS_H_
#define SAMENZICHT_AGGREGATOR_ESTIMATE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the current function if `expr` yields a non-OK status.
#define MSE_RETURN_IF_ERROR(expr)               \
  do {                                          \
    ::absl::Status mse_status_ = (expr);        \
    if (!mse_status_.ok()) return mse_status_;  \
  } while (false)

#define MSE_CONCAT_INNER_(a, b) a##b
#define MSE_CONCAT_(a, b) MSE_CONCAT_INNER_(a, b)

// `MSE_ASSIGN_OR_RETURN(auto x, Foo());` declares `x` from the value of a
// `StatusOr`, or returns its status from the current function.
#define MSE_ASSIGN_OR_RETURN(lhs, expr) \
  MSE_ASSIGN_OR_RETURN_IMPL_(MSE_CONCAT_(mse_statusor_, __LINE__), lhs, expr)

#define MSE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return std::move(tmp).status();   \
  lhs = std::move(tmp).value()

#endif  // SAMENZICHT_AGGREGATOR_ESTIMATE_STATUS_MACROS_H_
