// Mutual-TLS plumbing shared by the agency node and the aggregator: credentials from PEM
// files, the caller's identity from its verified client certificate, and the one place
// that maps absl::Status to grpc::Status.
//
// Roles travel in the certificate: the subject's OU is one of "agency", "analyst",
// "privacy_officer", "admin" (see deploy/pki.sh), and the CN names the party (for an
// agency, its node id).
#ifndef SAMENZICHT_RPC_TLS_H_
#define SAMENZICHT_RPC_TLS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "samenzicht/v1/config.pb.h"

struct x509_st;  // OpenSSL's X509

namespace samenzicht::rpc {

enum class Role { kAgency, kAnalyst, kPrivacyOfficer, kAdmin };
const char* RoleName(Role r);

struct Peer {
  std::string common_name;
  Role role;
};

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
// is no verified client certificate; otherwise as PeerFromCertificate.
absl::StatusOr<Peer> PeerOf(const grpc::ServerContextBase& context);

// The identity in a (verified) certificate, read with OpenSSL's name API entry by entry,
// never by parsing a printed subject: the subject must hold exactly one CN made of
// A-Z a-z 0-9 . _ - (the names deploy/pki.sh issues; Unauthenticated otherwise) and
// exactly one OU naming a known role (PermissionDenied otherwise). Other attributes (O)
// are ignored, whatever they hold.
absl::StatusOr<Peer> PeerFromCertificate(const x509_st* cert);
// The same for one PEM certificate (InvalidArgument when it does not parse).
absl::StatusOr<Peer> PeerFromPem(std::string_view pem);

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
