#include "aggregator/admin/rotation.h"

#include <filesystem>
#include <map>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/settings.h"
#include "aggregator/store/offline.h"
#include "aggregator/store/store.h"
#include "common/month.h"
#include "common/status_macros.h"
#include "crypto/key_file.h"
#include "model/config.h"

namespace samenzicht::aggregator {
namespace {

std::string MonthOrDash(uint32_t m) { return m == 0 ? "-" : Month(m).Text(); }

}  // namespace

absl::StatusOr<KeyStatus> ReadKeyStatus(const v1::AggregatorConfig& config) {
  const std::string path = (std::filesystem::path(config.data_dir()) / kDatabaseFileName).string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return absl::NotFoundError(absl::StrCat(path, ": no database"));
  ASSIGN_OR_RETURN(auto db, OpenDatabaseReadOnly(config.data_dir()));
  ASSIGN_OR_RETURN(auto settings, ReadStoredSettings(*db));
  KeyStatus s;
  s.key_epoch = EffectiveSettings(config, settings).key_epoch();
  s.previous_key_epoch = config.previous_key_epoch();
  s.switchover_month = config.key_switchover_month();
  ASSIGN_OR_RETURN(std::vector<StoredEpochCount> counts, ReadEpochCounts(*db));
  for (StoredEpochCount& stored : counts) {
    EpochCount c;
    c.agency = std::move(stored.agency);
    c.epoch = stored.epoch;
    c.reports = stored.reports;
    c.linkable = stored.linkable;
    if (c.epoch < s.key_epoch) {
      s.old_epoch_reports += c.reports;
      s.old_epoch_linkable += c.linkable;
    }
    s.counts.push_back(std::move(c));
  }
  return s;
}

std::string FormatKeyStatus(const KeyStatus& s) {
  std::ostringstream o;
  o << "key epoch in force: " << s.key_epoch << "\n";
  if (s.previous_key_epoch != 0) {
    o << "previous epoch accepted: " << s.previous_key_epoch << " until the switch-over month "
      << MonthOrDash(s.switchover_month) << " begins\n";
  }
  o << "agency\tepoch\treports\tlinkable\tstate\n";
  for (const EpochCount& c : s.counts) {
    std::string state;
    if (c.epoch == s.key_epoch) {
      state = "current";
    } else if (c.epoch > s.key_epoch) {
      state = "newer than the epoch in force";
    } else if (c.linkable == 0) {
      state = "retired (unlinkable, counted as signals)";
    } else {
      state = "OLD: re-send under the new epoch, or retire after the switch-over";
    }
    o << c.agency << "\t" << c.epoch << "\t" << c.reports << "\t" << c.linkable << "\t" << state
      << "\n";
  }
  o << "reports below epoch " << s.key_epoch << ": " << s.old_epoch_reports
    << " (with tokens: " << s.old_epoch_linkable << ")\n";
  return o.str();
}

absl::StatusOr<RetireResult> RetireOldEpochsOffline(const v1::AggregatorConfig& config,
                                                    uint32_t now_month) {
  if (config.key_switchover_month() != 0 && now_month < config.key_switchover_month()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the switch-over month ", MonthOrDash(config.key_switchover_month()),
                     " has not begun; nodes may still re-send under the new epoch"));
  }
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  Store* store = opened.store.get();
  ASSIGN_OR_RETURN(auto stored, store->LoadSettings());
  const uint32_t epoch = EffectiveSettings(config, stored).key_epoch();
  if (epoch <= 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("the key epoch in force is ", epoch, ": there is no older epoch to retire"));
  }
  RetireResult r;
  r.before_epoch = epoch;
  ASSIGN_OR_RETURN(auto counts, store->RetireKeyEpochsBefore(epoch, "aggregator key-retire"));
  r.reports = counts.first;
  r.tokens = counts.second;
  RETURN_IF_ERROR(store->ReclaimSpace());
  RETURN_IF_ERROR(store->WriteCheckpoint().status());
  return r;
}

}  // namespace samenzicht::aggregator
