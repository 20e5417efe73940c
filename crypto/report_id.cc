#include "crypto/report_id.h"

#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"

namespace samenzicht::crypto {

absl::StatusOr<std::unique_ptr<ReportIdDeriver>> ReportIdDeriver::FromSigningKeyFile(
    const std::string& path) {
  ASSIGN_OR_RETURN(LoadedKey key, LoadKeyFile(path, KeyKind::kSigning));
  return New(key.bytes);
}

absl::StatusOr<std::unique_ptr<ReportIdDeriver>> ReportIdDeriver::New(
    const SecretBytes& node_secret) {
  if (node_secret.size() < kTokenBytes) {
    return absl::InvalidArgumentError("a report id secret needs at least 32 bytes");
  }
  ASSIGN_OR_RETURN(SecretBytes seed, SecretBytes::CopyFrom(node_secret.unsafe_bytes(), kTokenBytes));
  ASSIGN_OR_RETURN(auto hasher, KeyedHasher::New(seed, kReportIdPurpose, 0, {"report_id"}));
  return std::unique_ptr<ReportIdDeriver>(new ReportIdDeriver(std::move(hasher)));
}

std::string ReportIdDeriver::Derive(std::string_view record_id) const {
  return ToHex(hasher_->Hash(0, record_id).substr(0, 16));
}

}  // namespace samenzicht::crypto
