// File helpers with Status errors that name the path.
#ifndef SAMENZICHT_COMMON_FILES_H_
#define SAMENZICHT_COMMON_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace samenzicht::files {

// NotFound when the file does not exist, PermissionDenied when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Writes `contents` to `path` atomically (temporary file `path`.tmp, fsync, rename) with
// `mode`. Follows no symbolic link: FailedPrecondition when `path` is one; a link at the
// temporary name is removed, never written through.
absl::Status WriteFileAtomic(const std::string& path, std::string_view contents,
                             unsigned mode = 0644);

// Creates `path` and its parents (mode 0700 for new folders).
absl::Status MakeDirs(const std::string& path);

// `path` if absolute, else joined with the folder of `relative_to_file`.
std::string ResolvePath(const std::string& path, const std::string& relative_to_file);

}  // namespace samenzicht::files

#endif  // SAMENZICHT_COMMON_FILES_H_
