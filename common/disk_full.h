// A full disk, said once: the storage layers mark the status of a write that failed for
// want of space (SQLite's SQLITE_FULL, ENOSPC/EDQUOT from write or fsync), and the
// services turn a marked status into one clear message ("the aggregator's disk is full")
// with an error-level log line naming the cause, instead of a file name.
//
//   if (errno == ENOSPC) return disk_full::Mark(absl::ResourceExhaustedError(...));
//   if (disk_full::Is(status)) { log; return the short message; }
//
// Thread-safety: free functions.
#ifndef SAMENZICHT_COMMON_DISK_FULL_H_
#define SAMENZICHT_COMMON_DISK_FULL_H_

#include <cerrno>

#include "absl/status/status.h"
#include "absl/strings/cord.h"

namespace samenzicht::disk_full {

inline constexpr char kPayloadUrl[] = "samenzicht/disk_full";

// `s` (not OK) marked as a full disk; the code becomes RESOURCE_EXHAUSTED.
inline absl::Status Mark(const absl::Status& s) {
  absl::Status out(absl::StatusCode::kResourceExhausted, s.message());
  out.SetPayload(kPayloadUrl, absl::Cord("1"));
  return out;
}

// True when `s` was marked by Mark.
inline bool Is(const absl::Status& s) { return s.GetPayload(kPayloadUrl).has_value(); }

// True for the errno values of a full disk or an exhausted quota.
inline bool IsErrno(int e) { return e == ENOSPC || e == EDQUOT; }

}  // namespace samenzicht::disk_full

#endif  // SAMENZICHT_COMMON_DISK_FULL_H_
