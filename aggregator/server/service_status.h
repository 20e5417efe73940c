// The steps every RPC method of the aggregator's services shares, written once:
//
//   WithPeer   the verified peer of the call (rpc::PeerOf), then the method's own steps; a
//              call without a verified client certificate ends UNAUTHENTICATED before them.
//   Answer     a unary method: WithPeer, then the layer's StatusOr<Response>; its value is
//              the response, its error the answer through ServiceStatus or AsIs.
//   ServiceStatus  the layer's status as it is (rpc::ToGrpcStatus), except a full disk
//              (common/disk_full.h), which is logged at error level with its cause and
//              answered with "the aggregator's disk is full", never a file name.
//
//   grpc::Status QueryService::Totals(grpc::ServerContext* context, const v1::TotalsRequest* r,
//                                     v1::TotalsResponse* response) {
//     return Answer(context, "Query.Totals", response,
//                   [&](const rpc::Peer& peer) { return query_->Totals(peer, *r); });
//   }
#ifndef SAMENZICHT_AGGREGATOR_SERVER_SERVICE_STATUS_H_
#define SAMENZICHT_AGGREGATOR_SERVER_SERVICE_STATUS_H_

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/disk_full.h"
#include "rpc/peer.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {

inline constexpr char kDiskFullMessage[] =
    "the aggregator's disk is full; nothing was stored, try again once the administrator has "
    "freed space";

// `call` names the RPC in the log ("Intake.SubmitBatches").
inline grpc::Status ServiceStatus(const absl::Status& s, std::string_view call) {
  if (disk_full::Is(s)) {
    spdlog::error(
        "{}: the aggregator's disk is full: {}; free space on the disk of the data folder", call,
        std::string(s.message()));
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, kDiskFullMessage);
  }
  return rpc::ToGrpcStatus(s);
}

// The layer's status as it is, a full disk included (the Audit and Admin services).
inline grpc::Status AsIs(const absl::Status& s, std::string_view /*call*/) {
  return rpc::ToGrpcStatus(s);
}

// `steps(peer)` -> grpc::Status with the verified peer of the call. Without one the call
// ends with PeerOf's status (UNAUTHENTICATED) and `steps` is not run.
template <typename Steps>
grpc::Status WithPeer(const grpc::ServerContext* context, Steps&& steps) {
  absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
  if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
  return std::forward<Steps>(steps)(*peer);
}

// A unary method: `fn(peer)` -> absl::StatusOr<Response> with the verified peer of the call
// (WithPeer). OK with `*response` set to its value, or its error through `map(status,
// call)`; `call` names the RPC ("Query.Totals").
template <typename Response, typename Fn>
grpc::Status Answer(const grpc::ServerContext* context, std::string_view call, Response* response,
                    Fn&& fn,
                    grpc::Status (*map)(const absl::Status&, std::string_view) = ServiceStatus) {
  return WithPeer(context, [&](const rpc::Peer& peer) {
    absl::StatusOr<Response> r = std::forward<Fn>(fn)(peer);
    if (!r.ok()) return map(r.status(), call);
    *response = *std::move(r);
    return grpc::Status::OK;
  });
}

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_SERVICE_STATUS_H_
