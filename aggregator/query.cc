#include "aggregator/query.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "aggregator/totals.h"
#include "common/status_macros.h"
#include "model/config.h"
#include "model/vocabulary.h"

namespace samenzicht::aggregator {

absl::StatusOr<std::unique_ptr<Query>> Query::New(const v1::AggregatorConfig& config,
                                                  const v1::LinkageProfile& profile,
                                                  Store* store) {
  if (store == nullptr) return absl::InvalidArgumentError("query needs a store");
  std::map<std::string, int> domains;
  for (const auto& a : config.agencies()) domains[a.node_id()] = a.domain();
  return std::unique_ptr<Query>(
      new Query(store, std::move(domains), model::MaxReportsPerToken(profile),
                config.min_cell_size() == 0 ? kDefaultMinCellSize : config.min_cell_size()));
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Query::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t generation = store_->generation();
  if (cached_ != nullptr && cached_->generation == generation) return cached_;
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  ASSIGN_OR_RETURN(snap->dataset, store_->LoadDataset([this](const std::string& agency) {
    auto it = domains_.find(agency);
    return it == domains_.end() ? 0 : it->second;
  }));
  snap->link = Link(static_cast<uint32_t>(snap->dataset.reports.size()), snap->dataset.tokens,
                    threshold_, snap->dataset.rules.size());
  for (size_t r = 0; r < snap->link.oversized_tokens.size(); ++r) {
    if (snap->link.oversized_tokens[r] > 0) {
      spdlog::warn("linkage: {} token(s) of rule '{}' are shared by more than {} reports and "
                   "were not used to join reports (a weak rule colliding)",
                   snap->link.oversized_tokens[r], snap->dataset.rules[r], threshold_);
    }
  }
  cached_ = std::move(snap);
  return cached_;
}

absl::StatusOr<v1::TotalsResponse> Query::Totals(const rpc::Peer& peer,
                                                 const v1::TotalsRequest& request) {
  if (peer.role != rpc::Role::kAnalyst) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only the municipality analyst may query totals; caller has role ",
        rpc::RoleName(peer.role)));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snap, Current());
  ASSIGN_OR_RETURN(v1::TotalsResponse resp,
                   ComputeTotals(snap->dataset, snap->link, request, k_));
  std::string by;
  for (int d : request.by()) {
    absl::StrAppend(&by, by.empty() ? "" : ",", model::DimensionName(static_cast<v1::Dimension>(d)));
  }
  spdlog::info("totals analyst={} by={} from={} to={} rows={}", peer.common_name,
               by.empty() ? "-" : by, request.from_month(), request.to_month(), resp.rows_size());
  return resp;
}

}  // namespace samenzicht::aggregator
