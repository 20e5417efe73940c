#include "rpc/tls.h"

#include <filesystem>

#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"

namespace samenzicht::rpc {
namespace {

struct Pem {
  std::string ca, cert, key;
};

absl::StatusOr<Pem> ReadPem(const v1::TlsFiles& tls) {
  if (tls.ca_cert_file().empty() || tls.cert_file().empty() || tls.key_file().empty()) {
    return absl::InvalidArgumentError("tls needs ca_cert_file, cert_file and key_file");
  }
  RETURN_IF_ERROR(crypto::CheckPrivateFile(tls.key_file()));
  Pem p;
  ASSIGN_OR_RETURN(p.ca, files::ReadFile(tls.ca_cert_file()));
  ASSIGN_OR_RETURN(p.cert, files::ReadFile(tls.cert_file()));
  ASSIGN_OR_RETURN(p.key, files::ReadFile(tls.key_file()));
  return p;
}

}  // namespace

const char* RoleName(Role r) {
  switch (r) {
    case Role::kAgency: return "agency";
    case Role::kAnalyst: return "analyst";
    case Role::kPrivacyOfficer: return "privacy_officer";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(const v1::TlsFiles& tls) {
  ASSIGN_OR_RETURN(Pem p, ReadPem(tls));
  if (!tls.crl_directory().empty()) {
    // Revocation needs gRPC's TLS credentials API, the only one that takes CRLs.
    std::error_code ec;
    if (!std::filesystem::is_directory(tls.crl_directory(), ec)) {
      return absl::NotFoundError(absl::StrCat("crl_directory ", tls.crl_directory(),
                                              " is not a folder; create it with deploy/pki.sh crl"));
    }
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
        p.ca, std::vector<grpc::experimental::IdentityKeyCertPair>{{p.key, p.cert}});
    grpc::experimental::TlsServerCredentialsOptions opts(provider);
    opts.watch_root_certs();
    opts.watch_identity_key_cert_pairs();
    opts.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    opts.set_crl_directory(tls.crl_directory());
    return grpc::experimental::TlsServerCredentials(opts);
  }
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = p.ca;
  opts.pem_key_cert_pairs.push_back({p.key, p.cert});
  return grpc::SslServerCredentials(opts);
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const std::string& address,
                                                       const v1::TlsFiles& tls,
                                                       const std::string& server_name) {
  if (address.empty()) return absl::InvalidArgumentError("aggregator_address is empty");
  ASSIGN_OR_RETURN(Pem p, ReadPem(tls));
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = p.ca;
  opts.pem_private_key = p.key;
  opts.pem_cert_chain = p.cert;
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(opts), args);
}

absl::StatusOr<Peer> PeerFromSubject(const std::string& subject) {
  std::string cn, ou;
  for (absl::string_view part : absl::StrSplit(subject, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, "CN=")) cn = std::string(part);
    else if (absl::ConsumePrefix(&part, "OU=")) ou = std::string(part);
  }
  if (cn.empty()) return absl::UnauthenticatedError("client certificate has no common name");
  Peer peer{cn, Role::kAgency};
  if (ou == "agency") peer.role = Role::kAgency;
  else if (ou == "analyst") peer.role = Role::kAnalyst;
  else if (ou == "privacy_officer") peer.role = Role::kPrivacyOfficer;
  else if (ou == "admin") peer.role = Role::kAdmin;
  else return absl::PermissionDeniedError(absl::StrCat("client certificate of '", cn, "' carries no known role"));
  return peer;
}

absl::StatusOr<Peer> PeerOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a verified client certificate is required");
  }
  std::vector<grpc::string_ref> subjects = auth->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  if (subjects.empty()) return absl::UnauthenticatedError("client certificate has no subject");
  return PeerFromSubject(std::string(subjects[0].data(), subjects[0].size()));
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace samenzicht::rpc
