// The keyholder commands as library functions; main.cc only parses flags and calls these.
#ifndef SAMENZICHT_KEYHOLDER_COMMANDS_H_
#define SAMENZICHT_KEYHOLDER_COMMANDS_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace samenzicht::keyholder {

// `keygen`: a new OPRF key for `epoch` (mode 0600). AlreadyExists if `out` exists.
absl::Status KeygenCommand(const std::string& out, uint32_t epoch, std::ostream& os);

// `audit-keygen`: the Ed25519 key that signs the trail (mode 0600; AlreadyExists if `out`
// exists); its base64 public key on `os`, for the privacy officer; what to do on `err`.
absl::Status AuditKeygenCommand(const std::string& out, std::ostream& os, std::ostream& err);

// `serve`: until SIGINT or SIGTERM. With `port_file`, writes the bound port there.
absl::Status ServeCommand(const std::string& config_path, const std::string& port_file);

// `audit verify`: the trail of `data_dir` offline (database opened read-only) with
// audit::Verify: sequence, chain, hashes, signatures, and each checkpoint line of
// `checkpoint_files`. The key trusted: `public_key_b64`, else the checkpoint's, else the
// one stored next to the trail (with a warning). DataLoss naming the first wrong entry.
absl::Status AuditVerifyCommand(const std::string& data_dir, const std::string& public_key_b64,
                                const std::vector<std::string>& checkpoint_files, std::ostream& os);

// `audit report`: evaluations and refused calls per day, node and epoch from the trail (after
// verifying it), as CSV: day,node,epoch,evaluations,refused_calls.
absl::Status AuditReportCommand(const std::string& data_dir, const std::string& public_key_b64,
                                std::ostream& os);

}  // namespace samenzicht::keyholder

#endif  // SAMENZICHT_KEYHOLDER_COMMANDS_H_
