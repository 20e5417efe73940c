#include "aggregator/exact_totals.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "aggregator/probabilistic_linkage.h"
#include "aggregator/store.h"
#include "aggregator/totals.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"

namespace samenzicht::aggregator {

absl::StatusOr<v1::TotalsResponse> ExactTotals(const v1::AggregatorConfig& config,
                                               const v1::TotalsRequest& request) {
  RETURN_IF_ERROR(CheckTotalsRequest(request).status());
  ASSIGN_OR_RETURN(v1::LinkageProfile profile, model::LoadProfile(config.profile_file()));
  std::vector<std::string> rules;
  for (const auto& r : profile.rules()) rules.push_back(r.name());
  std::unique_ptr<Store> store;
  {
    ASSIGN_OR_RETURN(crypto::LoadedKey key,
                     crypto::LoadKeyFile(config.store_key_file(), crypto::KeyKind::kStore));
    ASSIGN_OR_RETURN(store, Store::Open(config.data_dir(), key.bytes, rules));
  }
  ASSIGN_OR_RETURN(Dataset dataset, store->LoadDataset([&config](const std::string& agency) {
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
  return resp;
}

}  // namespace samenzicht::aggregator
