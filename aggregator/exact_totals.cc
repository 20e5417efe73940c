#include "aggregator/exact_totals.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/linkage/probabilistic_linkage.h"
#include "aggregator/store/store.h"
#include "aggregator/query/totals.h"
#include "common/status_macros.h"
#include "model/vocabulary.h"

namespace samenzicht::aggregator {

namespace {

absl::StatusOr<v1::TotalsResponse> Count(const v1::AggregatorConfig& config,
                                         const v1::LinkageProfile& profile, Store& store,
                                         const v1::TotalsRequest& request) {
  RETURN_IF_ERROR(CheckTotalsRequest(request).status());
  ASSIGN_OR_RETURN(Dataset dataset, store.LoadDataset([&config](const std::string& agency) {
    for (const auto& a : config.agencies()) {
      if (a.node_id() == agency) return static_cast<int>(a.domain());
    }
    return 0;
  }));
  ProbabilisticLinkResult linked = LinkWithProfile(
      static_cast<uint32_t>(dataset.reports.size()), dataset.tokens, profile, dataset.rules);
  ASSIGN_OR_RETURN(RawTotals raw, ComputeRawTotals(dataset, linked.link, request));
  // k = 1: no count is withheld (primary suppression takes 1..k-1, none; secondary needs a
  // primary).
  v1::TotalsResponse resp = ProtectTotals(raw, 1);
  resp.set_counting_rules(absl::StrCat(kExactTotalsNotice, "\n", resp.counting_rules()));
  resp.set_from_month(request.from_month());
  resp.set_to_month(request.to_month());
  return resp;
}

}  // namespace

absl::StatusOr<v1::TotalsResponse> ExactTotals(const v1::AggregatorConfig& config,
                                               const v1::TotalsRequest& request) {
  // Opened with the audit trail attached: the answer (or refusal) is written to it before
  // anything is returned.
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  absl::StatusOr<v1::TotalsResponse> resp = Count(config, opened.profile, *opened.store, request);
  std::string by;
  for (int d : request.by()) {
    absl::StrAppend(&by, by.empty() ? "" : ",",
                    model::DimensionName(static_cast<v1::Dimension>(d)));
  }
  QueryEvent d{.role = kRoleLocalOperator,
               .via = kExactTotalsVia,
               .view = "totals",
               .by = by,
               .from = MonthText(request.from_month()),
               .to = MonthText(request.to_month()),
               .method = "none: exact, unpublished",
               .answered = resp.ok()};
  d.exact_cells = resp.ok() ? resp->rows_size() * 2 + 3 : 0;
  if (!resp.ok()) d.refused = absl::StatusCodeToString(resp.status().code());
  absl::Status audited = opened.store->AppendAudit(kEventQuery, LocalOperator(), d.ToJson());
  if (!audited.ok()) {
    return absl::Status(audited.code(),
                        absl::StrCat("exact totals not shown because their audit entry could "
                                     "not be written: ", audited.message()));
  }
  return resp;
}

}  // namespace samenzicht::aggregator
