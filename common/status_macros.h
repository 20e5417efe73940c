// Status propagation macros: Abseil 20220623 ships none.
//
//   RETURN_IF_ERROR(store.Commit());
//   ASSIGN_OR_RETURN(auto key, LoadKeyFile(path));
#ifndef SAMENZICHT_COMMON_STATUS_MACROS_H_
#define SAMENZICHT_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SZ_CONCAT_INNER_(a, b) a##b
#define SZ_CONCAT_(a, b) SZ_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status sz_status_ = (expr);              \
    if (!sz_status_.ok()) return sz_status_;         \
  } while (false)

#define SZ_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(*tmp)

#define ASSIGN_OR_RETURN(lhs, expr) \
  SZ_ASSIGN_OR_RETURN_IMPL_(SZ_CONCAT_(sz_statusor_, __LINE__), lhs, expr)

#endif  // SAMENZICHT_COMMON_STATUS_MACROS_H_
