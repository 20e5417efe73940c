// The identity of a caller and its role, read from its verified client certificate, with
// no gRPC header: code that only checks who is asking (the query side, administration,
// intake, the key service, the dashboard) includes this header alone. The gRPC-specific
// extraction of the certificate from a call (PeerOf) is in rpc/tls.h.
//
// Roles travel in the certificate: the subject's OU is one of "agency", "analyst",
// "privacy_officer", "admin" (see deploy/pki.sh), and the CN names the party (for an
// agency, its node id).
#ifndef SAMENZICHT_RPC_PEER_H_
#define SAMENZICHT_RPC_PEER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

struct x509_st;  // OpenSSL's X509

namespace samenzicht::rpc {

enum class Role { kAgency, kAnalyst, kPrivacyOfficer, kAdmin };
const char* RoleName(Role r);

struct Peer {
  std::string common_name;
  Role role;
};

// The identity in a (verified) certificate, read with OpenSSL's name API entry by entry,
// never by parsing a printed subject: the subject must hold exactly one CN made of
// A-Z a-z 0-9 . _ - (the names deploy/pki.sh issues; Unauthenticated otherwise) and
// exactly one OU naming a known role (PermissionDenied otherwise). Other attributes (O)
// are ignored, whatever they hold.
absl::StatusOr<Peer> PeerFromCertificate(const x509_st* cert);
// The same for one PEM certificate (InvalidArgument when it does not parse).
absl::StatusOr<Peer> PeerFromPem(std::string_view pem);

}  // namespace samenzicht::rpc

#endif  // SAMENZICHT_RPC_PEER_H_
