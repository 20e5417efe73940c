// The aggregator server: the store, the intake and query logic, and their gRPC services
// behind mutual TLS on one port.
//
//   ASSIGN_OR_RETURN(auto server, Server::Start(config));
//   std::cout << server->port();      // the bound port (listen_address may say port 0)
//   ...
//   server->Shutdown();               // graceful: in-flight batches finish
//
// Start returns the errors of loading the profile and the store key (NotFound,
// FailedPrecondition for a key file readable by others or kept inside data_dir,
// InvalidArgument), of Store::Open (FailedPrecondition, DataLoss), of the TLS files, and
// Unavailable when the address cannot be bound.
//
// Audit and retention: the store records its audit trail (signed with `audit_key_file`;
// see aggregator/admin/audited_store.h), `start` and configuration / key epoch changes are
// recorded at Start, `stop` and a checkpoint at Shutdown. With a retention period, expired
// reports are purged at Start and then every hour. The Audit (privacy officer) and Admin
// (administrator) services run on the same port.
//
// Concurrency: gRPC's synchronous server runs calls on its own threads; writes to the
// store are serialised by the store, queries run concurrently.
// Thread-safety: `Shutdown` may be called from any thread, more than once.
#ifndef SAMENZICHT_AGGREGATOR_SERVER_SERVER_H_
#define SAMENZICHT_AGGREGATOR_SERVER_SERVER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "aggregator/admin/admin.h"
#include "aggregator/server/admin_service.h"
#include "aggregator/intake/intake.h"
#include "aggregator/server/intake_service.h"
#include "aggregator/query/query.h"
#include "aggregator/server/query_service.h"
#include "aggregator/store/store.h"
#include "samenzicht/v1/config.pb.h"

namespace samenzicht::aggregator {

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(const v1::AggregatorConfig& config);
  ~Server();

  int port() const { return port_; }
  // Stops accepting calls, lets running calls finish (streams still open after a grace
  // period are cancelled; every batch already read is committed and acknowledged first).
  void Shutdown();
  // Blocks until the server has shut down.
  void Wait();

  Store* store() { return store_.get(); }
  Query* query() { return query_.get(); }
  Administration* admin() { return admin_.get(); }
  // Runs the retention purge now (it also runs at Start and hourly). OK when no retention
  // period is set.
  absl::StatusOr<PurgeResult> PurgeNow();

 private:
  Server() = default;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Intake> intake_;
  std::unique_ptr<Query> query_;
  std::unique_ptr<IntakeService> intake_service_;
  std::unique_ptr<RateLimiter> limiter_;
  int shutdown_grace_seconds_ = 10;
  std::unique_ptr<QueryService> query_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::once_flag shutdown_once_;
  // Audit and retention.
  std::unique_ptr<crypto::Signer> audit_signer_;
  std::unique_ptr<Administration> admin_;
  std::unique_ptr<AuditAccess> audit_access_;
  std::unique_ptr<AuditService> audit_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::thread purge_thread_;
  std::mutex purge_mu_;
  std::condition_variable purge_cv_;
  bool stopping_ = false;  // guarded by purge_mu_
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_SERVER_H_
