#include "aggregator/dashboard/dashboard.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <string_view>

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "aggregator/present/error_format.h"
#include "aggregator/present/insight_format.h"
#include "common/status_macros.h"
#include "aggregator/present/totals_format.h"
#include "model/vocabulary.h"
#include "presentation/labels.h"
#include "rpc/https_server.h"
#include "rpc/peer.h"

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
  res.set_content(FormatErrorJson(s), "application/json");
}

absl::StatusOr<uint32_t> Month(const httplib::Request& req, const char* name) {
  return ParseMonthFlag(name, req.has_param(name) ? req.get_param_value(name) : "");
}

}  // namespace

absl::StatusOr<std::unique_ptr<Dashboard>> Dashboard::Start(const std::string& address,
                                                            const v1::TlsFiles& tls,
                                                            Query* query) {
  rpc::HttpsServerOptions o;
  o.label = "dashboard";
  o.address_setting = "dashboard_listen_address";
  o.listen_address = address;
  o.cert_file = tls.cert_file();
  o.key_file = tls.key_file();
  o.require_client_certificate = true;
  o.ca_cert_file = tls.ca_cert_file();
  o.crl_directory = tls.crl_directory();
  o.max_body_bytes = kMaxBodyBytes;
  std::unique_ptr<Dashboard> d(new Dashboard());
  ASSIGN_OR_RETURN(d->server_, rpc::HttpsServer::New(o));
  httplib::SSLServer& s = d->server_->http();

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

  RETURN_IF_ERROR(d->server_->Start());
  d->port_ = d->server_->port();
  spdlog::info("dashboard listening on https://{}:{}/ (analyst certificates only)", d->server_->host(),
               d->port_);
  return d;
}

void Dashboard::Stop() {
  if (server_) server_->Stop();
}

Dashboard::~Dashboard() { Stop(); }

}  // namespace samenzicht::aggregator
