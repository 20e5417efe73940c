#include "agency_node/key_ceremony.h"

#include "common/files.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "crypto/sealed_key.h"

namespace samenzicht::agency_node {

absl::Status BoxKeygenCommand(const std::string& out, std::ostream& os) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string pub, crypto::GenerateKeyFile(out, crypto::KeyKind::kBox));
  os << "box key written to " << out << " (mode 0600); send this public key to the administrator:\n"
     << pub << "\n";
  return absl::OkStatus();
}

absl::Status KeySealCommand(const std::string& key_file, const std::string& recipient_b64,
                            const std::string& out, std::ostream& os) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string sealed, crypto::SealHashingKey(key_file, recipient_b64));
  RETURN_IF_ERROR(files::WriteFileAtomic(out, sealed, 0644));
  ASSIGN_OR_RETURN(std::string fp, crypto::HashingKeyFingerprint(key_file));
  os << "sealed key written to " << out << "; only the holder of the matching box key can open it\n"
     << "key fingerprint: " << fp << "\n";
  return absl::OkStatus();
}

absl::Status KeyOpenCommand(const std::string& sealed_file, const std::string& box_key,
                            const std::string& out, std::ostream& os) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string sealed, files::ReadFile(sealed_file));
  RETURN_IF_ERROR(crypto::OpenSealedHashingKey(sealed, box_key, out));
  ASSIGN_OR_RETURN(std::string fp, crypto::HashingKeyFingerprint(out));
  os << "hashing key written to " << out << " (mode 0600)\n"
     << "key fingerprint: " << fp << " (must equal the one the administrator printed)\n";
  return absl::OkStatus();
}

absl::Status KeyFingerprintCommand(const std::string& key_file, std::ostream& os) {
  process::DisableCoreDumps();  // the shared hashing key is loaded to compute its fingerprint
  ASSIGN_OR_RETURN(std::string fp, crypto::HashingKeyFingerprint(key_file));
  os << fp << "\n";
  return absl::OkStatus();
}

}  // namespace samenzicht::agency_node
