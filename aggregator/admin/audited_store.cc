#include "aggregator/admin/audited_store.h"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/aggregator_events.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"

namespace samenzicht::aggregator {
namespace fs = std::filesystem;

absl::Status CheckDatabaseNotLost(const std::string& data_dir) {
  const fs::path dir(data_dir);
  std::error_code ec;
  if (fs::exists(dir / kDatabaseFileName, ec)) return absl::OkStatus();
  int checkpoints = 0;
  for (const auto& e : fs::directory_iterator(dir / kCheckpointDirName, ec)) {
    checkpoints += e.path().extension() == ".checkpoint";
  }
  const bool marker = fs::exists(dir / kDatabaseMarkerName, ec);
  if (checkpoints == 0 && !marker) return absl::OkStatus();  // a new deployment
  return absl::FailedPreconditionError(absl::StrCat(
      (dir / kDatabaseFileName).string(), " is missing, but the data folder had a database (",
      marker ? kDatabaseMarkerName : "", marker && checkpoints > 0 ? " and " : "",
      checkpoints > 0 ? absl::StrCat(checkpoints, " audit checkpoint(s)") : "",
      "); the aggregator will not start on an empty database. Restore the latest backup with "
      "`aggregator restore --backup FILE --data-dir NEW_FOLDER` and point data_dir at the new "
      "folder (the nodes resend what was not acknowledged since the backup); check the trail "
      "with `aggregator audit verify`"));
}

absl::StatusOr<AuditedStore> OpenAuditedStore(const v1::AggregatorConfig& config) {
  AuditedStore out;
  RETURN_IF_ERROR(CheckDatabaseNotLost(config.data_dir()));
  ASSIGN_OR_RETURN(out.profile, model::LoadProfile(config.profile_file()));
  std::vector<std::string> rules;
  for (const auto& r : out.profile.rules()) rules.push_back(r.name());
  {
    ASSIGN_OR_RETURN(crypto::LoadedKey key,
                     crypto::LoadKeyFile(config.store_key_file(), crypto::KeyKind::kStore));
    ASSIGN_OR_RETURN(out.store, Store::Open(config.data_dir(), key.bytes, rules));
  }  // the key bytes are wiped here; the store keeps only its derived subkeys
  {
    const std::string marker = (fs::path(config.data_dir()) / kDatabaseMarkerName).string();
    std::error_code ec;
    if (!fs::exists(marker, ec)) {
      RETURN_IF_ERROR(files::WriteFileAtomic(
          marker, "aggregator.db lives in this folder; without it the aggregator will not start\n",
          0600));
    }
  }
  out.store->SetKnownAreas({config.areas().begin(), config.areas().end()});
  ASSIGN_OR_RETURN(out.signer, LoadAuditSigner(config));
  RETURN_IF_ERROR(out.store->AttachAudit(AuditOptionsFor(config, out.signer.get())));
  return out;
}

absl::StatusOr<std::unique_ptr<crypto::Signer>> LoadAuditSigner(
    const v1::AggregatorConfig& config) {
  // The audit key never lives in the data folder: whoever can change that folder (or holds
  // a backup of it) could otherwise re-sign the trail.
  std::error_code ec;
  const fs::path data = fs::weakly_canonical(fs::absolute(config.data_dir()), ec);
  auto inside_data = [&](const std::string& p) {
    fs::path k = fs::weakly_canonical(fs::absolute(p), ec);
    auto [d, kk] = std::mismatch(data.begin(), data.end(), k.begin(), k.end());
    return d == data.end();
  };
  std::string path = config.audit_key_file();
  if (path.empty()) {
    const std::string old_default = (fs::path(config.data_dir()) / kDefaultAuditKeyName).string();
    if (fs::exists(old_default, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat("the audit key ", old_default,
                       " is inside data_dir; move it out of the data folder "
                       "(and its backups) and set audit_key_file to its new place"));
    }
    // Next to the store key, which is kept outside the data folder and its backups.
    path = (fs::path(config.store_key_file()).parent_path() / kDefaultAuditKeyName).string();
    if (config.store_key_file().empty() || inside_data(path)) {
      return absl::FailedPreconditionError(
          "audit_key_file is not set; create a key outside data_dir with `aggregator "
          "audit-keygen` and set audit_key_file");
    }
    if (!fs::exists(path, ec)) {
      RETURN_IF_ERROR(crypto::GenerateKeyFile(path, crypto::KeyKind::kSigning).status());
    }
    spdlog::warn(
        "audit_key_file is not set: the audit trail is signed with {}, next to the store "
        "key; set audit_key_file to keep it elsewhere (`aggregator audit-keygen`)",
        path);
  } else if (inside_data(path)) {
    return absl::FailedPreconditionError(
        absl::StrCat("audit_key_file ", path, " is inside data_dir ", config.data_dir(),
                     "; keep the audit key outside the data folder and its backups"));
  }
  return crypto::Signer::FromKeyFile(path);
}

AuditOptions AuditOptionsFor(const v1::AggregatorConfig& config, const crypto::Signer* signer) {
  AuditOptions o;
  o.signer = signer;
  o.checkpoint_dir = (fs::path(config.data_dir()) / kCheckpointDirName).string();
  o.checkpoint_every = config.audit_checkpoint_every() == 0 ? kDefaultCheckpointEvery
                                                            : config.audit_checkpoint_every();
  return o;
}

void RecordPermissionDenied(Store* store, const rpc::Peer& peer, std::string_view asked,
                            const absl::Status& refusal) {
  if (store == nullptr) return;
  // The reason is written even for a refusal without a message ("reason":"").
  PermissionDeniedEvent d{Request::Of(rpc::RoleName(peer.role), asked, refusal)};
  d.request.reason = std::string(refusal.message());
  if (absl::Status s = store->AppendAudit(kEventPermissionDenied, peer.common_name, d.ToJson());
      !s.ok()) {
    spdlog::error("audit: could not record a refused call: {}", s.ToString());
  }
}

std::string LocalOperator() {
  const struct passwd* pw = ::getpwuid(::getuid());
  return absl::StrCat("local:", pw != nullptr && pw->pw_name != nullptr
                                    ? std::string(pw->pw_name)
                                    : absl::StrCat("uid ", ::getuid()));
}

Request OperatorRequest(std::string_view asked, const absl::Status& outcome) {
  return Request::Of(kRoleLocalOperator, asked, outcome);
}

absl::Status RecordOperatorEvent(const v1::AggregatorConfig& config, const std::string& event,
                                 const std::string& details_json) {
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  return opened.store->AppendAudit(event, LocalOperator(), details_json);
}

}  // namespace samenzicht::aggregator
