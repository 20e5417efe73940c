#include "rpc/https_server.h"

#include <chrono>
#include <thread>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "crypto/secret_bytes.h"

namespace samenzicht::rpc {
namespace {

// TLS 1.2 only with ECDHE and an AEAD; TLS 1.3's suites are all AEAD.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:"
    "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kTls13Suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

std::string OpenSslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

// Loads every CRL in `dir` into the context's store and turns on revocation checking of the
// client's certificate. The folder is read once, at start, as the gRPC server does.
absl::Status LoadCrls(SSL_CTX& ctx, const std::string& label, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(label, ": crl_directory ", dir,
                                            " is not a folder; create it with samenzicht-pki crl"));
  }
  X509_STORE* store = SSL_CTX_get_cert_store(&ctx);
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;  // the hashed names are links to the file
    BIO* bio = BIO_new_file(entry.path().c_str(), "r");
    if (bio == nullptr) continue;
    while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr)) {
      if (X509_STORE_add_crl(store, crl) == 1) ++loaded;
      X509_CRL_free(crl);
    }
    ERR_clear_error();  // the end of each file reads as an error
    BIO_free(bio);
  }
  if (ec) {
    return absl::PermissionDeniedError(absl::StrCat(label, ": cannot read ", dir, ": ", ec.message()));
  }
  if (loaded == 0) {
    return absl::NotFoundError(absl::StrCat(label, ": no revocation list in crl_directory ", dir,
                                            "; create one with samenzicht-pki crl"));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return absl::OkStatus();
}

absl::Status SetUpTls(SSL_CTX& ctx, const HttpsServerOptions& o, const crypto::SecretBytes& key) {
  const std::string& label = o.label;
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE |
                                SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(&ctx, kTls13Suites) != 1) {
    return absl::InternalError(absl::StrCat(label, ": cannot restrict TLS: ", OpenSslError()));
  }
  if (SSL_CTX_use_certificate_chain_file(&ctx, o.cert_file.c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": cannot load certificate ",
                                                   o.cert_file, ": ", OpenSslError()));
  }
  BIO* bio = BIO_new_mem_buf(key.unsafe_bytes(), static_cast<int>(key.size()));
  EVP_PKEY* pkey = bio == nullptr ? nullptr : PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bool key_ok = pkey != nullptr && SSL_CTX_use_PrivateKey(&ctx, pkey) == 1 &&
                SSL_CTX_check_private_key(&ctx) == 1;
  EVP_PKEY_free(pkey);
  if (!key_ok) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": cannot use private key ",
                                                   o.key_file, ": ", OpenSslError()));
  }
  if (!o.require_client_certificate) {
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_NONE, nullptr);
    return absl::OkStatus();
  }
  if (SSL_CTX_load_verify_locations(&ctx, o.ca_cert_file.c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": cannot load CA ",
                                                   o.ca_cert_file, ": ", OpenSslError()));
  }
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(o.ca_cert_file.c_str())) {
    SSL_CTX_set_client_CA_list(&ctx, names);
  }
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (!o.crl_directory.empty()) RETURN_IF_ERROR(LoadCrls(ctx, label, o.crl_directory));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpsServer>> HttpsServer::New(const HttpsServerOptions& o) {
  const std::string& address = o.listen_address;
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.address_setting, " must be HOST:PORT, not '", address, "'"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::vector<std::string> needed = {o.cert_file, o.key_file};
  if (o.require_client_certificate) needed.push_back(o.ca_cert_file);
  for (const std::string& f : needed) {
    if (f.empty() || !std::filesystem::exists(f)) {
      return absl::NotFoundError(absl::StrCat(o.label, ": TLS file not found: '", f, "'"));
    }
  }
  // The private key goes from secure memory straight into OpenSSL, never via a std::string.
  ASSIGN_OR_RETURN(crypto::SecretBytes key, crypto::ReadPrivateFile(o.key_file));
  absl::Status tls_status;
  std::unique_ptr<HttpsServer> s(new HttpsServer());
  s->options_ = o;
  s->host_ = host;
  s->requested_port_ = port;
  s->server_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    tls_status = SetUpTls(ctx, o, key);
    return tls_status.ok();
  });
  if (!tls_status.ok()) return tls_status;
  if (!s->server_->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat(o.label, ": cannot set up TLS"));
  }
  httplib::SSLServer& h = *s->server_;
  // Bounded requests: a body over the limit is refused with 413 before it is buffered;
  // slow or idle connections are closed.
  h.set_payload_max_length(o.max_body_bytes);
  h.set_read_timeout(10, 0);
  h.set_write_timeout(10, 0);
  h.set_keep_alive_timeout(5);
  h.set_keep_alive_max_count(100);
  return s;
}

absl::Status HttpsServer::Start() {
  if (requested_port_ == 0) {
    port_ = server_->bind_to_any_port(host_.c_str());
  } else {
    port_ = server_->bind_to_port(host_.c_str(), requested_port_) ? requested_port_ : -1;
  }
  if (port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat(options_.label, ": cannot listen on ", options_.listen_address));
  }
  thread_ = std::thread([srv = server_.get()] { srv->listen_after_bind(); });
  // httplib's stop() does nothing before the listening thread has marked the server
  // running, and that thread would then accept forever: Stop right after Start hung. So
  // Start returns only once the server runs.
  for (int i = 0; i < 10000 && !server_->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server_->is_running()) {
    return absl::UnavailableError(absl::StrCat(options_.label, ": the listener did not start"));
  }
  return absl::OkStatus();
}

void HttpsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

HttpsServer::~HttpsServer() { Stop(); }

}  // namespace samenzicht::rpc
