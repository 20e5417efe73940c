#include "rpc/tls.h"

#include <openssl/crypto.h>

#include <filesystem>
#include <vector>

#include <grpcpp/resource_quota.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

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
