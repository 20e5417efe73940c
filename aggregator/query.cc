#include "aggregator/query.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "aggregator/disclosure.h"
#include "aggregator/probabilistic_linkage.h"
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
  std::unique_ptr<Query> q(
      new Query(store, std::move(domains), profile, model::MaxReportsPerToken(profile),
                config.min_cell_size() == 0 ? kDefaultMinCellSize : config.min_cell_size()));
  ASSIGN_OR_RETURN(q->history_,
                   QueryHistory::Open(config.data_dir().empty()
                                          ? std::string()
                                          : config.data_dir() + "/query_history.tsv"));
  q->estimator_ = DefaultEstimator();
  return q;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Query::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t generation = store_->generation();
  if (cached_ != nullptr && cached_->generation == generation) return cached_;
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  // Load with the agency's index in place of its domain, then put the domain back: this
  // keeps which agency sent each report (for "known to 1, 2, 3+ agencies").
  std::vector<std::string> agencies;
  ASSIGN_OR_RETURN(snap->dataset, store_->LoadDataset([&agencies](const std::string& agency) {
    auto it = std::find(agencies.begin(), agencies.end(), agency);
    if (it != agencies.end()) return static_cast<int>(it - agencies.begin()) + 1;
    if (agencies.size() >= 255) return 0;
    agencies.push_back(agency);
    return static_cast<int>(agencies.size());
  }));
  snap->agency_of_report.reserve(snap->dataset.reports.size());
  std::vector<uint8_t> domain_of_index(agencies.size() + 1, 0);
  for (size_t i = 0; i < agencies.size(); ++i) {
    auto it = domains_.find(agencies[i]);
    domain_of_index[i + 1] = static_cast<uint8_t>(it == domains_.end() ? 0 : it->second);
  }
  for (ReportFacts& f : snap->dataset.reports) {
    snap->agency_of_report.push_back(f.domain);
    f.domain = domain_of_index[f.domain];
  }
  snap->agencies = std::move(agencies);
  {
    ProbabilisticLinkResult linked = LinkWithProfile(
        static_cast<uint32_t>(snap->dataset.reports.size()), snap->dataset.tokens, profile_,
        snap->dataset.rules);
    snap->link = std::move(linked.link);
    if (profile_.method() == v1::LINKAGE_METHOD_FELLEGI_SUNTER) {
      spdlog::info("linkage: {} persons from {} candidate pairs; estimated {:.1f} person(s) "
                   "counted twice and {:.1f} wrong link(s)",
                   snap->link.persons, linked.candidate_pairs, linked.estimated_missed_links,
                   linked.estimated_false_links);
    }
  }
  for (size_t r = 0; r < snap->link.oversized_tokens.size(); ++r) {
    if (snap->link.oversized_tokens[r] > 0) {
      spdlog::warn("linkage: {} token(s) of rule '{}' are shared by more than {} reports and "
                   "were not used to join reports (a weak rule colliding)",
                   snap->link.oversized_tokens[r], snap->dataset.rules[r], threshold_);
    }
  }
  if (snap->link.ambiguous_probe_reports > 0) {
    spdlog::info("linkage: {} report(s) without the field of a probe rule met more than one "
                 "person through it and were left unattached",
                 snap->link.ambiguous_probe_reports);
  }
  snap->totals_index = TotalsIndex::Build(snap->dataset, snap->link);
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
  // The same result as ComputeTotals, from the snapshot's index when it can (issue 8).
  ASSIGN_OR_RETURN(RawTotals raw,
                   snap->totals_index->RawTotalsFor(snap->dataset, snap->link, request));
  v1::TotalsResponse resp = ProtectTotals(raw, k_);
  {
    AskedQuery asked{peer.common_name, {}, request.from_month(), request.to_month(),
                     absl::ToUnixSeconds(absl::Now())};
    for (int d : request.by()) asked.by.push_back(static_cast<v1::Dimension>(d));
    RETURN_IF_ERROR(CheckAndRecord(*snap, {asked}));
  }
  std::string by;
  for (int d : request.by()) {
    absl::StrAppend(&by, by.empty() ? "" : ",", model::DimensionName(static_cast<v1::Dimension>(d)));
  }
  spdlog::info("totals analyst={} by={} from={} to={} rows={}", peer.common_name,
               by.empty() ? "-" : by, request.from_month(), request.to_month(), resp.rows_size());
  return resp;
}

absl::Status Query::CheckAndRecord(const Snapshot& snap, const std::vector<AskedQuery>& asked) {
  std::lock_guard<std::mutex> lock(history_mu_);
  for (const AskedQuery& q : asked) {
    RETURN_IF_ERROR(CheckDifferencing(
        [&](const v1::TotalsRequest& req) {
          return snap.totals_index->RawTotalsFor(snap.dataset, snap.link, req);
        },
        history_->Of(q.analyst), q, k_));
  }
  for (const AskedQuery& q : asked) RETURN_IF_ERROR(history_->Record(q));
  return absl::OkStatus();
}

absl::StatusOr<v1::InsightResponse> Query::Insight(const rpc::Peer& peer,
                                                   const v1::InsightRequest& request) {
  if (peer.role != rpc::Role::kAnalyst) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only the municipality analyst may query the overview; caller has role ",
        rpc::RoleName(peer.role)));
  }
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snap, Current());
  // The estimate is slow (a bootstrap): cache it per store generation and period.
  Estimator cached = nullptr;
  if (estimator_) {
    cached = [this, snap, &request](const CaptureHistories& h) {
      auto key = std::make_tuple(snap->generation, request.from_month(), request.to_month());
      std::lock_guard<std::mutex> lock(estimate_mu_);
      auto it = estimates_.find(key);
      if (it == estimates_.end()) it = estimates_.emplace(key, estimator_(h)).first;
      return it->second;
    };
  }
  ASSIGN_OR_RETURN(v1::InsightResponse resp,
                   ComputeInsight(snap->dataset, snap->link, snap->agency_of_report, request,
                                  k_, cached));
  int64_t now = absl::ToUnixSeconds(absl::Now());
  std::vector<AskedQuery> asked = {
      {peer.common_name, {}, request.from_month(), request.to_month(), now},
      {peer.common_name, {v1::DIMENSION_DOMAIN}, request.from_month(), request.to_month(), now},
      {peer.common_name, {v1::DIMENSION_SIGNAL_MONTH}, request.from_month(), request.to_month(),
       now}};
  RETURN_IF_ERROR(CheckAndRecord(*snap, asked));
  spdlog::info("insight analyst={} from={} to={} withheld={}", peer.common_name,
               request.from_month(), request.to_month(), SuppressedCells(resp).size());
  return resp;
}

}  // namespace samenzicht::aggregator
