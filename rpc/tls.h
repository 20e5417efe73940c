// Mutual-TLS plumbing over gRPC shared by the agency node and the aggregator: credentials
// from PEM files, the caller's identity (rpc/peer.h) read from the verified client
// certificate of a gRPC call, server limits, and the one place that maps absl::Status to
// grpc::Status. Code that only checks a Peer's role includes rpc/peer.h, not this header.
#ifndef SAMENZICHT_RPC_TLS_H_
#define SAMENZICHT_RPC_TLS_H_

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rpc/peer.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::rpc {

// Server credentials that require and verify a client certificate issued by the CA, and,
// when `tls.crl_directory` is set, not revoked. NotFound / FailedPrecondition (private key
// readable by others) naming the file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const v1::TlsFiles& tls);

// A channel to `address` with this party's client certificate. `server_name`, when not
// empty, is the name the server certificate is checked against. When `tls.crl_directory`
// is set, a revoked server certificate is refused in the handshake (calls end UNAVAILABLE);
// NotFound when that folder does not exist.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const std::string& address,
                                                       const v1::TlsFiles& tls,
                                                       const std::string& server_name);

// The verified peer of a call, read from its leaf certificate. Unauthenticated when there
// is no verified client certificate; otherwise as PeerFromCertificate (rpc/peer.h).
absl::StatusOr<Peer> PeerOf(const grpc::ServerContextBase& context);

// Bounds on what callers can make a gRPC server hold: threads serving calls and memory
// (a gRPC ResourceQuota; a call beyond them ends RESOURCE_EXHAUSTED and a node retries it
// later), concurrent streams per connection (more wait at the client), message size
// (larger ones end RESOURCE_EXHAUSTED) and metadata size.
struct ServerLimits {
  int max_threads = 64;
  int64_t memory_bytes = int64_t{512} << 20;
  int max_concurrent_streams = 16;
  int max_receive_message_bytes = 16 << 20;
  int max_metadata_bytes = 16 << 10;
};
void ApplyServerLimits(grpc::ServerBuilder& builder, const ServerLimits& limits);

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace samenzicht::rpc

#endif  // SAMENZICHT_RPC_TLS_H_
