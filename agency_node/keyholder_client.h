// The node's side of the key service: a TokenOracle that blinds each input (one value part,
// Tokeniser::OracleInput; RFC 9497 OPRF, crypto/oprf.h), has the key service evaluate the
// batch in one call over mutual TLS with the node's agency certificate (with two key
// services, 2-of-2: the first service's answer, checked, is evaluated by the second, each
// with its share of the key; the first's signed receipt for its answer goes with it, as the
// second may require), unblinds, and
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
// InvalidArgument when the address or epoch is missing, or when a second service is named
// without an address or with the first one's address or server_name.
absl::StatusOr<v1::KeyholderClientConfig> LoadKeyholderClientConfig(const std::string& path);

class KeyholderOracle : public TokenOracle {
 public:
  // Connects lazily (the first call fails Unavailable when the service is unreachable).
  // The errors of rpc::Connect (TLS files).
  static absl::StatusOr<std::unique_ptr<KeyholderOracle>> New(const v1::KeyholderClientConfig& config);

  uint32_t epoch() const override { return config_.epoch(); }
  size_t max_inputs_per_call() const override;
  // The errors of a service keep its code (UNAVAILABLE when unreachable or its certificate
  // does not match, RESOURCE_EXHAUSTED, NOT_FOUND, ...) and name it: "key service at
  // ADDRESS: ...", with two services "first key service at ADDRESS: ..." or "second key
  // service at ADDRESS: ...". An answer of the wrong size or with an invalid element is
  // INTERNAL. Nothing is returned unless every service answered.
  absl::StatusOr<std::string> Evaluate(const std::vector<std::string_view>& inputs) const override;

 private:
  struct Service {
    std::string name;  // "key service at ADDRESS", "first ..." / "second key service at ADDRESS"
    std::unique_ptr<v1::KeyHolder::Stub> stub;
  };
  explicit KeyholderOracle(v1::KeyholderClientConfig config) : config_(std::move(config)) {}
  const v1::KeyholderClientConfig config_;
  std::vector<Service> services_;  // in the order they apply their keys
};

// True for an error of a key service (unreachable, refused: RESOURCE_EXHAUSTED at its
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
