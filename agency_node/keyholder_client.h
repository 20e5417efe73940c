// The node's side of the key service: a TokenOracle that blinds each input (one value part,
// Tokeniser::OracleInput; RFC 9497 OPRF, crypto/oprf.h), has the key service evaluate the
// batch in one call over mutual TLS with the node's agency certificate, unblinds, and
// hashes each 64-byte output to 32 bytes: BLAKE2b-256 with the domain
// "samenzicht.value-output.oprf.v2" (crypto::Digest), which the tokeniser combines into
// tokens. The node keeps no key: copied elsewhere, its files compute no token without the
// service.
//
//   ASSIGN_OR_RETURN(auto tokeniser, TokeniserFromKeyholder(profile, "keyholder.textproto"));
//
// Thread-safety: `Evaluate` may be called concurrently (the gRPC stub is thread-safe).
#ifndef SAMENZICHT_AGENCY_NODE_KEYHOLDER_CLIENT_H_
#define SAMENZICHT_AGENCY_NODE_KEYHOLDER_CLIENT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agency_node/tokeniser.h"
#include "samenzicht/v1/keyholder.grpc.pb.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::agency_node {

inline constexpr size_t kDefaultElementsPerCall = 20000;

// Loads a KeyholderClientConfig (text format), paths resolved against its folder.
// InvalidArgument when the address or epoch is missing.
absl::StatusOr<v1::KeyholderClientConfig> LoadKeyholderClientConfig(const std::string& path);

class KeyholderOracle : public TokenOracle {
 public:
  // Connects lazily (the first call fails Unavailable when the service is unreachable).
  // The errors of rpc::Connect (TLS files).
  static absl::StatusOr<std::unique_ptr<KeyholderOracle>> New(const v1::KeyholderClientConfig& config);

  uint32_t epoch() const override { return config_.epoch(); }
  size_t max_inputs_per_call() const override;
  absl::StatusOr<std::string> Evaluate(const std::vector<std::string_view>& inputs) const override;

 private:
  explicit KeyholderOracle(v1::KeyholderClientConfig config) : config_(std::move(config)) {}
  const v1::KeyholderClientConfig config_;
  std::unique_ptr<v1::KeyHolder::Stub> stub_;
};

// True for an error of the key service (unreachable, refused: RESOURCE_EXHAUSTED at its
// rate limit, PERMISSION_DENIED, NOT_FOUND for an unknown epoch, ...; or an answer that
// does not check out) as returned by KeyholderOracle::Evaluate, also after PrepareReports
// and Delivery::Import passed it on: the export is not at fault, it is imported again
// once the service answers (the daemon keeps it in the import folder).
bool IsKeyServiceError(const absl::Status& status);

// A tokeniser in OPRF mode for `profile` with the key service of `config_path`.
absl::StatusOr<std::unique_ptr<Tokeniser>> TokeniserFromKeyholder(const v1::LinkageProfile& profile,
                                                                  const std::string& config_path);

}  // namespace samenzicht::agency_node

#endif  // SAMENZICHT_AGENCY_NODE_KEYHOLDER_CLIENT_H_
