// The gRPC status a service answers with: the layer's status as it is (rpc::ToGrpcStatus),
// except a full disk (common/disk_full.h), which is logged at error level with its cause
// and answered with "the aggregator's disk is full", never a file name.
#ifndef SAMENZICHT_AGGREGATOR_SERVER_SERVICE_STATUS_H_
#define SAMENZICHT_AGGREGATOR_SERVER_SERVICE_STATUS_H_

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "common/disk_full.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {

inline constexpr char kDiskFullMessage[] =
    "the aggregator's disk is full; nothing was stored, try again once the administrator has "
    "freed space";

// `call` names the RPC in the log ("Intake.SubmitBatches").
inline grpc::Status ServiceStatus(const absl::Status& s, std::string_view call) {
  if (disk_full::Is(s)) {
    spdlog::error("{}: the aggregator's disk is full: {}; free space on the disk of the data "
                  "folder", call, std::string(s.message()));
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, kDiskFullMessage);
  }
  return rpc::ToGrpcStatus(s);
}

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_SERVICE_STATUS_H_
