#include "rpc/tls.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <vector>

#include <grpcpp/resource_quota.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"

namespace samenzicht::rpc {
namespace {

// The PEM texts of one party. The private key is read into secure memory and copied into
// `key` only for gRPC's API, which takes a std::string; every copy is wiped when it goes.
struct Pem {
  std::string ca, cert, key;
  Pem() = default;
  Pem(Pem&& o) noexcept : ca(std::move(o.ca)), cert(std::move(o.cert)), key(std::move(o.key)) {
    Wipe(o.key);
  }
  Pem(const Pem&) = delete;
  ~Pem() { Wipe(key); }
  static void Wipe(std::string& s) {
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
  }
};

absl::StatusOr<Pem> ReadPem(const v1::TlsFiles& tls) {
  if (tls.ca_cert_file().empty() || tls.cert_file().empty() || tls.key_file().empty()) {
    return absl::InvalidArgumentError("tls needs ca_cert_file, cert_file and key_file");
  }
  ASSIGN_OR_RETURN(crypto::SecretBytes key, crypto::ReadPrivateFile(tls.key_file()));
  Pem p;
  ASSIGN_OR_RETURN(p.ca, files::ReadFile(tls.ca_cert_file()));
  ASSIGN_OR_RETURN(p.cert, files::ReadFile(tls.cert_file()));
  p.key.assign(reinterpret_cast<const char*>(key.unsafe_bytes()), key.size());
  return p;
}

absl::Status CheckCrlDirectory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("crl_directory ", dir,
                                            " is not a folder; copy the CA's crl/ folder there (samenzicht-pki crl CA_DIR "
                                            "writes it)"));
  }
  return absl::OkStatus();
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
    RETURN_IF_ERROR(CheckCrlDirectory(tls.crl_directory()));
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs{{p.key, p.cert}};
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(p.ca, pairs);
    Pem::Wipe(pairs[0].private_key);
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
  std::shared_ptr<grpc::ServerCredentials> creds = grpc::SslServerCredentials(opts);
  Pem::Wipe(opts.pem_key_cert_pairs[0].private_key);
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Connect(const std::string& address,
                                                       const v1::TlsFiles& tls,
                                                       const std::string& server_name) {
  if (address.empty()) return absl::InvalidArgumentError("aggregator_address is empty");
  ASSIGN_OR_RETURN(Pem p, ReadPem(tls));
  grpc::ChannelArguments args;
  if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (!tls.crl_directory().empty()) {
    // The server's certificate is checked against the revocation list too: a revoked
    // aggregator certificate is refused in the handshake (UNAVAILABLE), host name checked.
    RETURN_IF_ERROR(CheckCrlDirectory(tls.crl_directory()));
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs{{p.key, p.cert}};
    auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(p.ca, pairs);
    Pem::Wipe(pairs[0].private_key);
    grpc::experimental::TlsChannelCredentialsOptions opts;
    opts.set_certificate_provider(provider);
    opts.watch_root_certs();
    opts.watch_identity_key_cert_pairs();
    opts.set_verify_server_certs(true);
    opts.set_check_call_host(true);
    opts.set_crl_directory(tls.crl_directory());
    return grpc::CreateCustomChannel(address, grpc::experimental::TlsCredentials(opts), args);
  }
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = p.ca;
  opts.pem_private_key = p.key;
  opts.pem_cert_chain = p.cert;
  std::shared_ptr<grpc::ChannelCredentials> creds = grpc::SslCredentials(opts);
  Pem::Wipe(opts.pem_private_key);
  return grpc::CreateCustomChannel(address, creds, args);
}

namespace {

// The text of every entry of `nid` in `name`, as UTF-8.
std::vector<std::string> EntriesOf(const X509_NAME* name, int nid) {
  std::vector<std::string> out;
  for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
       i = X509_NAME_get_index_by_NID(name, nid, i)) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
    unsigned char* utf8 = nullptr;
    int n = ASN1_STRING_to_UTF8(&utf8, data);
    out.push_back(n < 0 ? std::string() : std::string(reinterpret_cast<char*>(utf8), n));
    OPENSSL_free(utf8);
  }
  return out;
}

bool IsPartyName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<Peer> PeerFromCertificate(const x509_st* cert) {
  if (cert == nullptr) return absl::UnauthenticatedError("no client certificate");
  const X509_NAME* subject = X509_get_subject_name(cert);
  if (subject == nullptr) return absl::UnauthenticatedError("client certificate has no subject");
  std::vector<std::string> cns = EntriesOf(subject, NID_commonName);
  std::vector<std::string> ous = EntriesOf(subject, NID_organizationalUnitName);
  if (cns.empty()) return absl::UnauthenticatedError("client certificate has no common name");
  if (cns.size() > 1) {
    return absl::UnauthenticatedError(absl::StrCat(
        "client certificate has ", cns.size(), " common names; exactly one is accepted"));
  }
  if (!IsPartyName(cns[0])) {
    return absl::UnauthenticatedError(
        "client certificate's common name may hold only A-Z a-z 0-9 . _ - (at most 64)");
  }
  const std::string& cn = cns[0];
  if (ous.size() != 1) {
    return absl::PermissionDeniedError(absl::StrCat(
        "client certificate of '", cn, "' has ", ous.size(),
        " organisational units; exactly one, naming its role, is accepted"));
  }
  Peer peer{cn, Role::kAgency};
  const std::string& ou = ous[0];
  if (ou == "agency") peer.role = Role::kAgency;
  else if (ou == "analyst") peer.role = Role::kAnalyst;
  else if (ou == "privacy_officer") peer.role = Role::kPrivacyOfficer;
  else if (ou == "admin") peer.role = Role::kAdmin;
  else return absl::PermissionDeniedError(absl::StrCat("client certificate of '", cn, "' carries no known role"));
  return peer;
}

absl::StatusOr<Peer> PeerFromPem(std::string_view pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::ResourceExhaustedError("out of memory reading a certificate");
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return absl::InvalidArgumentError("the peer certificate does not parse");
  absl::StatusOr<Peer> peer = PeerFromCertificate(cert);
  X509_free(cert);
  return peer;
}

absl::StatusOr<Peer> PeerOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    return absl::UnauthenticatedError("a verified client certificate is required");
  }
  // The leaf certificate the TLS layer verified, not its printed subject.
  std::vector<grpc::string_ref> pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.size() != 1) return absl::UnauthenticatedError("no verified client certificate");
  return PeerFromPem(std::string_view(pems[0].data(), pems[0].size()));
}

void ApplyServerLimits(grpc::ServerBuilder& builder, const ServerLimits& limits) {
  grpc::ResourceQuota quota("samenzicht-server");
  quota.SetMaxThreads(limits.max_threads);
  quota.Resize(static_cast<size_t>(limits.memory_bytes));
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(limits.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, limits.max_concurrent_streams);
  builder.AddChannelArgument(GRPC_ARG_MAX_METADATA_SIZE, limits.max_metadata_bytes);
  // Idle or half-open connections do not hold a slot for ever.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, 5 * 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60 * 1000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace samenzicht::rpc
