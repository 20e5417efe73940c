// gRPC adapter of the query service: identity from the client certificate, everything else
// in `Query` (query.h), which checks the role and writes every answer and refusal to the
// audit trail (a query that cannot be recorded is not answered: the store's error).
// PermissionDenied for every role but analyst; when `audit` is given, such a refusal is also
// recorded as a `permission_denied` entry naming the RPC.
//
// Thread-safety: thread-safe; `query` is not owned.
#ifndef SAMENZICHT_AGGREGATOR_SERVER_QUERY_SERVICE_H_
#define SAMENZICHT_AGGREGATOR_SERVER_QUERY_SERVICE_H_

#include "aggregator/query/query.h"
#include "samenzicht/v1/query.grpc.pb.h"

namespace samenzicht::aggregator {

class QueryService final : public v1::Query::Service {
 public:
  explicit QueryService(Query* query, Store* audit = nullptr) : query_(query), audit_(audit) {}

  grpc::Status Totals(grpc::ServerContext* context, const v1::TotalsRequest* request,
                      v1::TotalsResponse* response) override;
  grpc::Status Insight(grpc::ServerContext* context, const v1::InsightRequest* request,
                       v1::InsightResponse* response) override;

 private:
  Query* const query_;
  Store* const audit_;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_QUERY_SERVICE_H_
