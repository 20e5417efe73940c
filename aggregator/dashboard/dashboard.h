// The municipality analyst's web dashboard, served by the aggregator over HTTPS with the
// same mutual TLS as the gRPC services: the server certificate of the aggregator, a client
// certificate issued by the deployment CA required (a handshake without one fails), and
// only OU=analyst answered (403 for every other role, with the role named). The role check
// and the audit entry of every answered and refused request are the query layer's
// (Query::Admit, Query::Totals, Query::Insight with FrontEnd::kDashboard).
//
//   ASSIGN_OR_RETURN(auto d, Dashboard::Start(config.dashboard_listen_address(),
//                                             config.tls(), server->query()));
//   d->port();   // the bound port (address may say port 0)
//   d->Stop();
//
// Pages: "/" (index.html), "/app.js", "/style.css": static, compiled in; "/labels.json": the
// label table the council report uses too (presentation/labels.h); the page draws its
// charts as SVG in the browser, nothing is fetched from elsewhere (Content-Security-Policy
// default-src 'self'). Numbers come from the same in-process query code as the gRPC
// service (one source of truth), as JSON:
//   GET /api/insight?from=YYYY-MM&to=YYYY-MM&granularity=month|quarter&estimate=0|1
//       -> FormatInsightJson (insight_format.h)
//   GET /api/totals?by=form[,age_band]&from=YYYY-MM&to=YYYY-MM -> FormatTotalsJson
// The overview's JSON carries "cell_key" {k, max_noise, tail_noise, tail_one_in}: the
// parameters the query layer applied, for the page's legend.
// Errors are {"error": "...", "code": "INVALID_ARGUMENT", "refusal": {"key", "values",
// "options"}} ("refusal" when the query layer gave one: a label of /labels.json and its
// values, so the page says it in its own language; disclosure.h Refusal), with 400 (InvalidArgument), 403 (PermissionDenied),
// 409 (FailedPrecondition: a differencing query refused), 500 otherwise. Every answer is
// `Cache-Control: no-store`.
//
// Start returns InvalidArgument for a malformed address, NotFound for missing TLS files,
// Unavailable when the address cannot be bound.
// Thread-safety: requests are served on the library's thread pool; `query` is thread-safe
// and not owned (null only in tests that fetch the static pages); Stop may be called more
// than once.
#ifndef SAMENZICHT_AGGREGATOR_DASHBOARD_DASHBOARD_H_
#define SAMENZICHT_AGGREGATOR_DASHBOARD_DASHBOARD_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "aggregator/query/query.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::rpc {
class HttpsServer;
}

namespace samenzicht::aggregator {

class Dashboard {
 public:
  static absl::StatusOr<std::unique_ptr<Dashboard>> Start(const std::string& listen_address,
                                                          const v1::TlsFiles& tls, Query* query);
  ~Dashboard();
  int port() const { return port_; }
  void Stop();

 private:
  Dashboard() = default;
  std::unique_ptr<rpc::HttpsServer> server_;
  int port_ = 0;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_DASHBOARD_DASHBOARD_H_
