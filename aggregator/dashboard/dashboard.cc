#include "aggregator/dashboard/dashboard.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <string_view>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/insight_format.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "crypto/secret_bytes.h"
#include "aggregator/totals_format.h"
#include "model/vocabulary.h"
#include "presentation/labels.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {
namespace dashboard_assets {
const char* Find(std::string_view path);
}  // namespace dashboard_assets

namespace {

absl::StatusOr<rpc::Peer> PeerOfRequest(const httplib::Request& req) {
  if (req.ssl == nullptr) return absl::UnauthenticatedError("no TLS session");
  X509* cert = SSL_get1_peer_certificate(req.ssl);
  if (cert == nullptr) return absl::UnauthenticatedError("no client certificate");
  if (SSL_get_verify_result(req.ssl) != X509_V_OK) {
    X509_free(cert);
    return absl::UnauthenticatedError("client certificate not verified");
  }
  absl::StatusOr<rpc::Peer> peer = rpc::PeerFromCertificate(cert);
  X509_free(cert);
  return peer;
}

constexpr size_t kMaxBodyBytes = 64 << 10;

std::string JsonError(const std::string& message) {
  std::string out = "{\"error\": \"";
  for (char c : message) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"}\n";
}

int HttpStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound: return 400;
    case absl::StatusCode::kUnauthenticated: return 401;
    case absl::StatusCode::kPermissionDenied: return 403;
    case absl::StatusCode::kFailedPrecondition: return 409;
    default: return 500;
  }
}

void Secure(httplib::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                 "connect-src 'self'; frame-ancestors 'none'");
}

// The route a request asked for, as the audit entry names it: one of the dashboard's own
// paths, else "(another path)". The path itself is the caller's text and is never recorded.
std::string RouteName(const std::string& path) {
  for (const char* known : {"/", "/index.html", "/app.js", "/style.css", "/labels.json",
                            "/api/insight", "/api/totals"}) {
    if (path == known) return known;
  }
  return "(another path)";
}

void Fail(httplib::Response& res, const absl::Status& s) {
  res.status = HttpStatus(s);
  res.set_content(JsonError(std::string(s.message())), "application/json");
}

absl::StatusOr<uint32_t> Month(const httplib::Request& req, const char* name) {
  return ParseMonthFlag(name, req.has_param(name) ? req.get_param_value(name) : "");
}

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
absl::Status LoadCrls(SSL_CTX& ctx, const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("dashboard: crl_directory ", dir,
                                            " is not a folder; create it with deploy/pki.sh crl"));
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
  if (ec) return absl::PermissionDeniedError(absl::StrCat("dashboard: cannot read ", dir, ": ", ec.message()));
  if (loaded == 0) {
    return absl::NotFoundError(absl::StrCat("dashboard: no revocation list in crl_directory ", dir,
                                            "; create one with deploy/pki.sh crl"));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  return absl::OkStatus();
}

absl::Status SetUpTls(SSL_CTX& ctx, const v1::TlsFiles& tls, const crypto::SecretBytes& key) {
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE |
                                SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_cipher_list(&ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(&ctx, kTls13Suites) != 1) {
    return absl::InternalError(absl::StrCat("dashboard: cannot restrict TLS: ", OpenSslError()));
  }
  if (SSL_CTX_use_certificate_chain_file(&ctx, tls.cert_file().c_str()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("dashboard: cannot load certificate ",
                                                   tls.cert_file(), ": ", OpenSslError()));
  }
  BIO* bio = BIO_new_mem_buf(key.unsafe_bytes(), static_cast<int>(key.size()));
  EVP_PKEY* pkey = bio == nullptr ? nullptr : PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  bool key_ok = pkey != nullptr && SSL_CTX_use_PrivateKey(&ctx, pkey) == 1 &&
                SSL_CTX_check_private_key(&ctx) == 1;
  EVP_PKEY_free(pkey);
  if (!key_ok) {
    return absl::InvalidArgumentError(absl::StrCat("dashboard: cannot use private key ",
                                                   tls.key_file(), ": ", OpenSslError()));
  }
  if (SSL_CTX_load_verify_locations(&ctx, tls.ca_cert_file().c_str(), nullptr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("dashboard: cannot load CA ",
                                                   tls.ca_cert_file(), ": ", OpenSslError()));
  }
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.ca_cert_file().c_str())) {
    SSL_CTX_set_client_CA_list(&ctx, names);
  }
  SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  if (!tls.crl_directory().empty()) RETURN_IF_ERROR(LoadCrls(ctx, tls.crl_directory()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dashboard>> Dashboard::Start(const std::string& address,
                                                            const v1::TlsFiles& tls,
                                                            Query* query) {
  size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("dashboard_listen_address must be HOST:PORT, not '", address, "'"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  for (const std::string& f : {tls.cert_file(), tls.key_file(), tls.ca_cert_file()}) {
    if (f.empty() || !std::filesystem::exists(f)) {
      return absl::NotFoundError(absl::StrCat("dashboard: TLS file not found: '", f, "'"));
    }
  }
  // The private key goes from secure memory straight into OpenSSL, never via a std::string.
  ASSIGN_OR_RETURN(crypto::SecretBytes key, crypto::ReadPrivateFile(tls.key_file()));
  absl::Status tls_status;
  std::unique_ptr<Dashboard> d(new Dashboard());
  d->server_ = std::make_unique<httplib::SSLServer>([&](SSL_CTX& ctx) {
    tls_status = SetUpTls(ctx, tls, key);
    return tls_status.ok();
  });
  if (!tls_status.ok()) return tls_status;
  if (!d->server_->is_valid()) {
    return absl::InvalidArgumentError("dashboard: cannot set up TLS");
  }
  httplib::SSLServer& s = *d->server_;

  // Bounded requests: the API takes no body (GET only), so a body over 64 KiB is refused
  // with 413 before it is buffered; slow or idle connections are closed.
  s.set_payload_max_length(kMaxBodyBytes);
  s.set_read_timeout(10, 0);
  s.set_write_timeout(10, 0);
  s.set_keep_alive_timeout(5);
  s.set_keep_alive_max_count(100);

  // Every request: verified analyst certificate, else 401/403 before anything else.
  s.set_pre_routing_handler([query](const httplib::Request& req, httplib::Response& res) {
    Secure(res);
    // Runs before any body is read: a body (of any length, chunked too) is refused here,
    // and the connection closed so its bytes are never read.
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Transfer-Encoding") ||
        (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0")) {
      res.status = 413;
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    absl::StatusOr<rpc::Peer> peer = PeerOfRequest(req);
    if (!peer.ok()) {
      Fail(res, peer.status());
      return httplib::Server::HandlerResponse::Handled;
    }
    // The query layer checks the role and writes the refusal to the audit trail. (Without a
    // query layer, only the static pages are served, to the analyst only.)
    const bool admitted =
        query != nullptr
            ? query->Admit(*peer, absl::StrCat("the dashboard ", RouteName(req.path)),
                           FrontEnd::kDashboard).ok()
            : peer->role == rpc::Role::kAnalyst;
    if (!admitted) {
      Fail(res, absl::PermissionDeniedError(absl::StrCat(
                    "the dashboard is for the municipality analyst only; your certificate has "
                    "role ", rpc::RoleName(peer->role))));
      spdlog::warn("dashboard: refused {} (role {})", peer->common_name, rpc::RoleName(peer->role));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  // The one label table, shared with the council report (presentation/labels.h).
  s.Get("/labels.json", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(presentation::LabelsJson(), "application/json");
  });

  s.Get(R"(/(|index\.html|app\.js|style\.css))",
        [](const httplib::Request& req, httplib::Response& res) {
          std::string path = req.path == "/" ? "/index.html" : req.path;
          const char* body = dashboard_assets::Find(path);
          if (body == nullptr) {
            res.status = 404;
            return;
          }
          std::string type = path.ends_with(".js")    ? "text/javascript; charset=utf-8"
                             : path.ends_with(".css") ? "text/css; charset=utf-8"
                                                      : "text/html; charset=utf-8";
          res.set_content(body, type);
        });

  s.Get("/api/insight", [query](const httplib::Request& req, httplib::Response& res) {
    if (query == nullptr) return Fail(res, absl::UnavailableError("no query layer"));
    absl::StatusOr<rpc::Peer> peer = PeerOfRequest(req);
    if (!peer.ok()) return Fail(res, peer.status());
    v1::InsightRequest r;
    absl::StatusOr<uint32_t> from = Month(req, "from");
    if (!from.ok()) return Fail(res, from.status());
    absl::StatusOr<uint32_t> to = Month(req, "to");
    if (!to.ok()) return Fail(res, to.status());
    r.set_from_month(*from);
    r.set_to_month(*to);
    std::string g = req.has_param("granularity") ? req.get_param_value("granularity") : "month";
    if (g != "month" && g != "quarter") {
      return Fail(res, absl::InvalidArgumentError("granularity must be month or quarter"));
    }
    r.set_granularity(g == "quarter" ? v1::TREND_GRANULARITY_QUARTER
                                     : v1::TREND_GRANULARITY_MONTH);
    r.set_include_estimate(req.has_param("estimate") && req.get_param_value("estimate") == "1");
    absl::StatusOr<v1::InsightResponse> out = query->Insight(*peer, r, FrontEnd::kDashboard);
    if (!out.ok()) return Fail(res, out.status());
    res.set_content(FormatInsightJson(*out), "application/json");
  });

  s.Get("/api/totals", [query](const httplib::Request& req, httplib::Response& res) {
    if (query == nullptr) return Fail(res, absl::UnavailableError("no query layer"));
    absl::StatusOr<rpc::Peer> peer = PeerOfRequest(req);
    if (!peer.ok()) return Fail(res, peer.status());
    v1::TotalsRequest r;
    std::string by = req.has_param("by") ? req.get_param_value("by") : "";
    for (absl::string_view name : absl::StrSplit(by, ',', absl::SkipWhitespace())) {
      absl::StatusOr<v1::Dimension> d = model::ParseDimension(std::string(name));
      if (!d.ok()) return Fail(res, d.status());
      r.add_by(*d);
    }
    absl::StatusOr<uint32_t> from = Month(req, "from");
    if (!from.ok()) return Fail(res, from.status());
    absl::StatusOr<uint32_t> to = Month(req, "to");
    if (!to.ok()) return Fail(res, to.status());
    r.set_from_month(*from);
    r.set_to_month(*to);
    absl::StatusOr<v1::TotalsResponse> out = query->Totals(*peer, r, FrontEnd::kDashboard);
    if (!out.ok()) return Fail(res, out.status());
    res.set_content(FormatTotalsJson(*out), "application/json");
  });

  if (port == 0) {
    d->port_ = s.bind_to_any_port(host.c_str());
  } else {
    d->port_ = s.bind_to_port(host.c_str(), port) ? port : -1;
  }
  if (d->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("dashboard: cannot listen on ", address));
  }
  d->thread_ = std::thread([srv = d->server_.get()] { srv->listen_after_bind(); });
  spdlog::info("dashboard listening on https://{}:{}/ (analyst certificates only)", host,
               d->port_);
  return d;
}

void Dashboard::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

Dashboard::~Dashboard() { Stop(); }

}  // namespace samenzicht::aggregator
