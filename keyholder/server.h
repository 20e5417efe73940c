// `keyholder serve`: the KeyHolder gRPC service over mutual TLS (rpc/tls.h: the caller's
// role from its verified certificate) in front of a KeyService.
//
// Thread-safety: Start, then Shutdown/Wait from any one thread.
#ifndef SAMENZICHT_KEYHOLDER_SERVER_H_
#define SAMENZICHT_KEYHOLDER_SERVER_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "crypto/signature.h"
#include "keyholder/key_service.h"
#include "samenzicht/v1/keyholder.grpc.pb.h"

namespace samenzicht::keyholder {

// Loads a KeyholderConfig (text format) and resolves its paths against the file's folder.
absl::StatusOr<v1::KeyholderConfig> LoadKeyholderConfig(const std::string& path);

class Server {
 public:
  // Loads the keys and the trail signing key, opens the trail, listens. InvalidArgument
  // for a missing listen_address, audit_key_file or key; the errors of KeyService and of
  // the TLS files; Unavailable when the address cannot be bound. `clock` (tests): the
  // service's clock for its limit windows and trail; the system clock when empty.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const v1::KeyholderConfig& config,
                                                       KeyService::Clock clock = nullptr);
  ~Server();

  int port() const { return port_; }
  KeyService* service() { return key_service_.get(); }
  void Shutdown();
  void Wait();

 private:
  Server() = default;
  std::unique_ptr<crypto::Signer> signer_;
  std::unique_ptr<KeyService> key_service_;
  std::unique_ptr<v1::KeyHolder::Service> grpc_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace samenzicht::keyholder

#endif  // SAMENZICHT_KEYHOLDER_SERVER_H_
