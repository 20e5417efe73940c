#include "aggregator/admin/retention.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/settings.h"
#include "audit/aggregator_events.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"

namespace samenzicht::aggregator {

uint32_t CutoffMonth(uint32_t now_month, uint32_t retention_months) {
  if (retention_months == 0) return 0;
  int64_t index = static_cast<int64_t>(now_month / 100) * 12 + (now_month % 100 - 1);
  index -= retention_months;
  if (index < 0) return 0;
  return static_cast<uint32_t>((index / 12) * 100 + index % 12 + 1);
}

int64_t MonthStartUnix(uint32_t yyyymm) {
  if (yyyymm == 0) return 0;
  std::tm tm{};
  tm.tm_year = static_cast<int>(yyyymm / 100) - 1900;
  tm.tm_mon = static_cast<int>(yyyymm % 100) - 1;
  tm.tm_mday = 1;
  return static_cast<int64_t>(timegm(&tm));
}

uint32_t CurrentMonth() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  return static_cast<uint32_t>((tm.tm_year + 1900) * 100 + tm.tm_mon + 1);
}

absl::StatusOr<PurgeResult> RunPurge(Store* store, uint32_t retention_months, uint32_t now_month,
                                     const std::string& actor) {
  const uint32_t cutoff = CutoffMonth(now_month, retention_months);
  if (cutoff == 0) return PurgeResult{};
  ASSIGN_OR_RETURN(PurgeResult r, store->Purge(cutoff, MonthStartUnix(cutoff), actor));
  RETURN_IF_ERROR(store->ReclaimSpace());
  spdlog::info(
      "retention: deleted {} report(s) and {} token(s) of signal months before {:04d}-{:02d}",
      r.reports, r.tokens, cutoff / 100, cutoff % 100);
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
