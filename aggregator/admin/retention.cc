#include "aggregator/admin/retention.h"

#include <spdlog/spdlog.h>

#include "absl/strings/numbers.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/settings.h"
#include "aggregator/store/dataset.h"
#include "audit/aggregator_events.h"
#include "common/month.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"

namespace samenzicht::aggregator {

uint32_t CutoffMonth(uint32_t now_month, uint32_t retention_months) {
  if (retention_months == 0) return 0;
  return Month(now_month).Plus(-static_cast<int64_t>(retention_months)).yyyymm();
}

int64_t MonthStartUnix(uint32_t yyyymm) { return Month(yyyymm).StartUnix(); }

uint32_t CurrentMonth() { return Month::Now().yyyymm(); }

absl::StatusOr<PurgeResult> RunPurge(Store* store, uint32_t retention_months, uint32_t now_month,
                                     const std::string& actor) {
  const uint32_t cutoff = CutoffMonth(now_month, retention_months);
  if (cutoff == 0) return PurgeResult{};
  ASSIGN_OR_RETURN(PurgeResult r, store->Purge(cutoff, MonthStartUnix(cutoff), actor));
  // The departed records of the purged months (docs/disclosure.md section 3) go with their
  // months' reports: the purge's audit entry above covers them.
  ASSIGN_OR_RETURN(auto settings, store->LoadSettings());
  const std::string prefix = kDepartedSettingPrefix;
  for (const auto& [name, value] : settings) {
    uint32_t month = 0;
    if (name.rfind(prefix, 0) != 0 || value.empty() ||
        !absl::SimpleAtoi(name.substr(prefix.size()), &month) || month >= cutoff) {
      continue;
    }
    RETURN_IF_ERROR(store->SetSetting(name, "", "", "", ""));
  }
  RETURN_IF_ERROR(store->ReclaimSpace());
  spdlog::info("retention: deleted {} report(s) and {} token(s) of signal months before {}",
               r.reports, r.tokens, Month(cutoff).Text());
  return r;
}

absl::StatusOr<PurgeResult> PurgeOffline(const v1::AggregatorConfig& config, uint32_t now_month) {
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  Store* store = opened.store.get();
  ASSIGN_OR_RETURN(auto stored, store->LoadSettings());
  const uint32_t months = EffectiveSettings(config, stored).retention_months();
  if (months == 0) {
    return absl::FailedPreconditionError(
        "no retention period is set (retention_months in the configuration, or "
        "Admin.SetRetention)");
  }
  ASSIGN_OR_RETURN(PurgeResult r, RunPurge(store, months, now_month, "aggregator purge"));
  RETURN_IF_ERROR(store->WriteCheckpoint().status());
  return r;
}

}  // namespace samenzicht::aggregator
