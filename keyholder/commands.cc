#include "keyholder/commands.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <ctime>
#include <map>
#include <optional>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "audit/chain.h"
#include "audit/keyholder_trail.h"
#include "common/files.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/oprf.h"
#include "crypto/signature.h"
#include "keyholder/key_service.h"
#include "keyholder/server.h"

namespace samenzicht::keyholder {
namespace {

// The trail verified with the key to trust; the outcome's lines on `os`.
absl::StatusOr<Trail> VerifiedTrail(const std::string& data_dir, const std::string& public_key_b64,
                                    const std::vector<std::string>& checkpoint_files,
                                    std::ostream& os) {
  std::vector<audit::Checkpoint> checkpoints;
  for (const std::string& f : checkpoint_files) {
    ASSIGN_OR_RETURN(std::string text, files::ReadFile(f));
    for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipWhitespace())) {
      ASSIGN_OR_RETURN(audit::Checkpoint c, audit::Checkpoint::Parse(std::string(line)));
      RETURN_IF_ERROR(audit::VerifyCheckpointSignature(c));
      checkpoints.push_back(std::move(c));
    }
  }
  ASSIGN_OR_RETURN(Trail trail, ReadTrail(data_dir));
  std::string key;
  std::string source;
  if (!public_key_b64.empty()) {
    ASSIGN_OR_RETURN(key, crypto::Base64Decode(public_key_b64));
    source = "--public-key";
  } else if (!checkpoints.empty()) {
    key = checkpoints.front().public_key;
    source = "checkpoint";
  } else if (!trail.stored_public_key.empty()) {
    key = trail.stored_public_key;
    source = "data directory";
    os << "warning: no --public-key or checkpoint given: the key stored next to the trail is "
          "trusted only because it was found there (whoever can rewrite the database can "
          "replace it)\n";
  } else {
    return absl::FailedPreconditionError("no key to verify the trail with: give --public-key");
  }
  for (const auto& c : checkpoints) {
    if (c.public_key != key) {
      return absl::UnauthenticatedError("a checkpoint is signed with another key than the one trusted");
    }
  }
  ASSIGN_OR_RETURN(crypto::Verifier verifier, crypto::Verifier::New(key));
  std::optional<audit::Checkpoint> last;
  for (const auto& c : checkpoints) {
    ASSIGN_OR_RETURN(audit::VerifyResult r, audit::Verify(trail.entries, verifier, c));
    (void)r;
    if (!last || c.seq > last->seq) last = c;
  }
  ASSIGN_OR_RETURN(audit::VerifyResult r, audit::Verify(trail.entries, verifier, last));
  os << "trail verified: " << r.entries << " entries, head " << crypto::ToHex(r.head_hash).substr(0, 16)
     << ", " << checkpoints.size() << " checkpoint(s), key from " << source << " ("
     << crypto::Base64Encode(key) << ")\n";
  return trail;
}

}  // namespace

absl::Status KeygenCommand(const std::string& out, uint32_t epoch, std::ostream& os) {
  process::DisableCoreDumps();
  RETURN_IF_ERROR(crypto::oprf::GenerateServerKeyFile(out, epoch));
  os << "wrote a new OPRF key (epoch " << epoch << ") to " << out
     << " (mode 0600); it stays on the key service's host: no agency node or aggregator "
        "ever gets it\n";
  return absl::OkStatus();
}

absl::Status AuditKeygenCommand(const std::string& out, std::ostream& os, std::ostream& err) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(std::string pub, crypto::GenerateKeyFile(out, crypto::KeyKind::kSigning));
  err << "wrote the trail signing key " << out
      << " (mode 0600); set audit_key_file to it, keep it outside data_dir, and give the "
         "public key below to the privacy officer:\n";
  os << pub << "\n";
  return absl::OkStatus();
}

absl::Status ServeCommand(const std::string& config_path, const std::string& port_file) {
  process::DisableCoreDumps();
  ASSIGN_OR_RETURN(v1::KeyholderConfig config, LoadKeyholderConfig(config_path));
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  ASSIGN_OR_RETURN(std::unique_ptr<Server> server, Server::Start(config));
  if (!port_file.empty()) {
    RETURN_IF_ERROR(files::WriteFileAtomic(port_file, absl::StrCat(server->port(), "\n"), 0644));
  }
  int sig = 0;
  sigwait(&stop, &sig);
  spdlog::info("received {}; shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
  server->Shutdown();
  server->Wait();
  return absl::OkStatus();
}

absl::Status AuditVerifyCommand(const std::string& data_dir, const std::string& public_key_b64,
                                const std::vector<std::string>& checkpoint_files, std::ostream& os) {
  return VerifiedTrail(data_dir, public_key_b64, checkpoint_files, os).status();
}

absl::Status AuditReportCommand(const std::string& data_dir, const std::string& public_key_b64,
                                std::ostream& os) {
  ASSIGN_OR_RETURN(Trail trail, VerifiedTrail(data_dir, public_key_b64, {}, os));
  // (day, node, epoch) -> evaluations, refusals. The epoch keeps the evaluations of two
  // key services comparable row by row when the first also served an older epoch alone.
  // A refusal for the caller's role names no epoch: its row has none.
  std::map<std::tuple<std::string, std::string, uint64_t>, std::pair<uint64_t, uint64_t>> rows;
  for (const audit::KeyholderCount& c : audit::KeyholderCounts(trail.entries)) {
    const std::time_t t = static_cast<std::time_t>(c.time_ms / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char day[16];
    std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
    auto& r = rows[{day, c.node, c.epoch}];
    r.first += c.evaluations;
    r.second += c.refused_calls;
  }
  os << "day,node,epoch,evaluations,refused_calls\n";
  for (const auto& [k, v] : rows) {
    const auto& [day, node, epoch] = k;
    os << day << "," << node << "," << (epoch == 0 ? "" : absl::StrCat(epoch)) << "," << v.first << ","
       << v.second << "\n";
  }
  return absl::OkStatus();
}

}  // namespace samenzicht::keyholder
