#include "aggregator/admin/admin.h"

#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/settings.h"
#include "audit/aggregator_events.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::aggregator {
namespace {

// Who asked at start about a change the aggregator found: the process's user (the change
// itself was made in the files).
Request AtStart() { return Request::AtStart(LocalOperator()); }

// A setting `from` -> `to` found at start (source "configuration") or asked for by the
// administrator (`request`, source "administrator").
SettingChangeEvent Change(Request request, int64_t from, int64_t to, std::string source) {
  SettingChangeEvent d{.request = std::move(request)};
  d.from = from;
  d.to = to;
  d.source = std::move(source);
  return d;
}

// The administrator's change `asked`, made or refused.
SettingChangeEvent AdminChange(const rpc::Peer& peer, std::string_view asked,
                               const absl::Status& outcome, int64_t from, int64_t to) {
  return Change(Request::Of(rpc::RoleName(peer.role), asked, outcome), from, to, "administrator");
}

// A stored setting that overrides the configuration's value, found at start.
SettingChangeEvent Overridden(int64_t configured, int64_t effective) {
  SettingChangeEvent d{.request = AtStart()};
  d.configured = configured;
  d.effective = effective;
  d.source = "stored setting overrides the configuration";
  return d;
}

// Records the administrator's refused change (the caller is refused either way).
void RecordRefusedChange(Store* store, const char* event, const rpc::Peer& peer,
                         std::string_view asked, const absl::Status& refusal, int64_t from,
                         int64_t to) {
  const SettingChangeEvent d = AdminChange(peer, asked, refusal, from, to);
  if (absl::Status s = store->AppendAudit(event, peer.common_name, d.ToJson()); !s.ok()) {
    spdlog::error("audit: could not record a refused {}: {}", asked, s.ToString());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<Administration>> Administration::Start(
    const v1::AggregatorConfig& config, Store* store, KeyEpochListener on_key_epoch) {
  if (store == nullptr) return absl::InvalidArgumentError("administration needs a store");
  std::unique_ptr<Administration> a(new Administration(store, std::move(on_key_epoch)));
  ASSIGN_OR_RETURN(auto stored, store->LoadSettings());
  const v1::Settings eff = EffectiveSettings(config, stored);
  if (eff.key_epoch() != config.key_epoch()) {
    // An epoch set with Admin.SetKeyEpoch outlives the configuration it was set against:
    // said loudly at every start, and audited, so a rotation done in the configuration file
    // is not silently undone.
    spdlog::error(
        "key_epoch {} set by an administrator (Admin.SetKeyEpoch) overrides key_epoch "
        "{} of the configuration: batches of epoch {} are refused. Put key_epoch: {} in "
        "the configuration, or set the epoch again with the admin service",
        eff.key_epoch(), config.key_epoch(), config.key_epoch(), eff.key_epoch());
    RETURN_IF_ERROR(store->AppendAudit(kEventKeyEpochChange, kActorAggregator,
                                       Overridden(config.key_epoch(), eff.key_epoch()).ToJson()));
  }
  if (eff.retention_months() != config.retention_months()) {
    // The same for the retention period: a stored value (for example 0, no limit) must not
    // quietly beat the period the configuration states.
    spdlog::error(
        "retention_months {} set by an administrator (Admin.SetRetention) overrides "
        "retention_months {} of the configuration{}. Put retention_months: {} in the "
        "configuration, or set the period again with the admin service",
        eff.retention_months(), config.retention_months(),
        eff.retention_months() == 0 ? " (0: reports are kept without limit)" : "",
        eff.retention_months());
    RETURN_IF_ERROR(
        store->AppendAudit(kEventRetentionChange, kActorAggregator,
                           Overridden(config.retention_months(), eff.retention_months()).ToJson()));
  }

  const std::string digest = ConfigDigest(config);
  auto prev = stored.find(kSettingConfigDigest);
  // The files the configuration names, compared by content with those of the last start: a
  // key or certificate replaced at the same path is a change although no line of the
  // configuration file changed.
  using FileChange = ConfigChangeEvent::ChangedFile;  // field, path, previous, current
  std::vector<FileChange> file_changes;
  {
    const std::string prefix = kSettingConfigFilePrefix;
    std::map<std::string, std::string> before;  // field -> fingerprint
    for (const auto& [name, value] : stored) {
      if (name.compare(0, prefix.size(), prefix) == 0 && !value.empty()) {
        before[name.substr(prefix.size())] = value;
      }
    }
    std::set<std::string> named;
    for (const ConfigFile& f : ConfigFiles(config)) {
      named.insert(f.field);
      auto it = before.find(f.field);
      const std::string previous = it == before.end() ? "" : it->second;
      if (previous != f.fingerprint)
        file_changes.push_back({f.field, f.path, previous, f.fingerprint});
    }
    for (const auto& [field, fp] : before) {
      if (named.count(field) == 0) file_changes.push_back({field, "", fp, ""});
    }
  }
  if (prev == stored.end() || prev->second != digest || !file_changes.empty()) {
    ConfigChangeEvent d{.request = AtStart()};
    d.previous_digest = prev == stored.end() ? "" : prev->second;
    d.digest = digest;
    d.changed_files = file_changes;
    d.key_epoch = config.key_epoch();
    d.retention_months = config.retention_months();
    d.min_cell_size = config.min_cell_size();
    d.max_batch_reports = config.max_batch_reports();
    for (const auto& ag : config.agencies()) d.agencies.push_back(ag.node_id());
    d.areas = {config.areas().begin(), config.areas().end()};
    RETURN_IF_ERROR(store->SetSetting(kSettingConfigDigest, digest, kEventConfigChange,
                                      kActorAggregator, d.ToJson()));
    // The entry names them; the next start compares with these.
    for (const FileChange& f : file_changes) {
      RETURN_IF_ERROR(store->SetSetting(std::string(kSettingConfigFilePrefix) + f.field,
                                        f.fingerprint, "", "", ""));
    }
  }
  // Agency signing keys: a changed key names the agency and both fingerprints; an agency
  // added has no previous fingerprint, one removed no new one.
  {
    std::map<std::string, std::string> now;  // node id -> fingerprint
    for (const auto& ag : config.agencies()) {
      auto pk = crypto::Base64Decode(ag.signing_public_key());
      now[ag.node_id()] = pk.ok() ? crypto::PublicKeyFingerprint(*pk) : "";
    }
    std::map<std::string, std::string> before;
    const std::string prefix = kSettingAgencyKeyPrefix;
    for (const auto& [name, value] : stored) {
      if (name.compare(0, prefix.size(), prefix) == 0 && !value.empty()) {
        before[name.substr(prefix.size())] = value;
      }
    }
    // The first start's configuration_change lists the agencies: their keys are noted
    // without an entry each.
    const bool first_start = stored.count(kSettingConfigDigest) == 0;
    auto record = [&](const std::string& agency, const std::string& previous,
                      const std::string& current) -> absl::Status {
      if (first_start) return store->SetSetting(prefix + agency, current, "", "", "");
      const AgencyKeyChangeEvent d{AtStart(), agency, previous, current, "configuration"};
      return store->SetSetting(prefix + agency, current, kEventAgencyKeyChange, kActorAggregator,
                               d.ToJson());
    };
    for (const auto& [agency, fp] : now) {
      auto it = before.find(agency);
      const std::string previous = it == before.end() ? "" : it->second;
      if (previous != fp) RETURN_IF_ERROR(record(agency, previous, fp));
    }
    for (const auto& [agency, fp] : before) {
      if (now.count(agency) == 0) RETURN_IF_ERROR(record(agency, fp, ""));
    }
  }
  // A restore (`aggregator restore` left a note in the restored database).
  if (auto p = stored.find(kSettingPendingRestore); p != stored.end() && !p->second.empty()) {
    auto who = stored.find(kSettingPendingRestoreOperator);
    RETURN_IF_ERROR(store->SetSetting(
        kSettingPendingRestore, "", kEventRestore,
        who == stored.end() || who->second.empty() ? std::string(kRoleLocalOperator) : who->second,
        p->second));
  }
  const uint32_t last_epoch = StoredNumber(stored, kSettingLastKeyEpoch, 0);
  if (last_epoch != eff.key_epoch()) {
    RETURN_IF_ERROR(store->SetSetting(
        kSettingLastKeyEpoch, absl::StrCat(eff.key_epoch()), kEventKeyEpochChange, kActorAggregator,
        Change(AtStart(), last_epoch, eff.key_epoch(), "configuration").ToJson()));
  }
  a->key_epoch_ = eff.key_epoch();
  a->retention_months_ = eff.retention_months();
  if (a->on_key_epoch_) a->on_key_epoch_(eff.key_epoch());
  if (eff.retention_months() == 0) {
    spdlog::warn(
        "retention_months is not set: reports are kept without limit (set it, "
        "for example to 24 months after the signal month)");
  }
  const StartEvent started{digest, eff.key_epoch(), eff.retention_months(), config.agencies_size()};
  RETURN_IF_ERROR(store->AppendAudit(kEventStart, kActorAggregator, started.ToJson()));
  return a;
}

absl::Status Administration::Authorize(const rpc::Peer& peer, std::string_view asked) const {
  if (peer.role != rpc::Role::kAdmin) {
    absl::Status denied = absl::PermissionDeniedError(
        absl::StrCat("only the administrator may read or change settings; caller has role ",
                     rpc::RoleName(peer.role)));
    RecordPermissionDenied(store_, peer, asked, denied);
    return denied;
  }
  return absl::OkStatus();
}

v1::Settings Administration::Current() const {
  v1::Settings s;
  s.set_key_epoch(key_epoch_.load());
  s.set_retention_months(retention_months_.load());
  return s;
}

absl::StatusOr<v1::Settings> Administration::GetSettings(const rpc::Peer& peer) const {
  RETURN_IF_ERROR(Authorize(peer, "Admin.GetSettings"));
  return Current();
}

absl::StatusOr<v1::Settings> Administration::SetRetention(const rpc::Peer& peer, uint32_t months) {
  RETURN_IF_ERROR(Authorize(peer, "Admin.SetRetention"));
  if (months > kMaxRetentionMonths) {
    absl::Status refused = absl::InvalidArgumentError(
        absl::StrCat("retention_months must be at most ", kMaxRetentionMonths));
    RecordRefusedChange(store_, kEventRetentionChange, peer, "Admin.SetRetention", refused,
                        retention_months_.load(), months);
    return refused;
  }
  const SettingChangeEvent d =
      AdminChange(peer, "Admin.SetRetention", absl::OkStatus(), retention_months_.load(), months);
  RETURN_IF_ERROR(store_->SetSetting(kSettingRetention, absl::StrCat(months), kEventRetentionChange,
                                     peer.common_name, d.ToJson()));
  retention_months_ = months;
  return Current();
}

absl::StatusOr<v1::Settings> Administration::SetKeyEpoch(const rpc::Peer& peer, uint32_t epoch) {
  RETURN_IF_ERROR(Authorize(peer, "Admin.SetKeyEpoch"));
  if (epoch == 0) {
    absl::Status refused = absl::InvalidArgumentError("key_epoch must be at least 1");
    RecordRefusedChange(store_, kEventKeyEpochChange, peer, "Admin.SetKeyEpoch", refused,
                        key_epoch_.load(), epoch);
    return refused;
  }
  const SettingChangeEvent d =
      AdminChange(peer, "Admin.SetKeyEpoch", absl::OkStatus(), key_epoch_.load(), epoch);
  RETURN_IF_ERROR(store_->SetSetting(kSettingKeyEpoch, absl::StrCat(epoch), kEventKeyEpochChange,
                                     peer.common_name, d.ToJson()));
  // Not recorded twice at the next start.
  RETURN_IF_ERROR(store_->SetSetting(kSettingLastKeyEpoch, absl::StrCat(epoch), "", "", ""));
  key_epoch_ = epoch;
  if (on_key_epoch_) on_key_epoch_(epoch);
  return Current();
}

absl::Status Administration::RecordStop() {
  RETURN_IF_ERROR(store_->AppendAudit(kEventStop, kActorAggregator, StopEvent{}.ToJson()));
  if (store_->audit_attached()) RETURN_IF_ERROR(store_->WriteCheckpoint().status());
  return absl::OkStatus();
}

absl::Status AuditAccess::Authorize(const rpc::Peer& peer, std::string_view asked) const {
  if (peer.role != rpc::Role::kPrivacyOfficer) {
    absl::Status denied = absl::PermissionDeniedError(
        absl::StrCat("only the privacy officer may read the audit trail; caller has role ",
                     rpc::RoleName(peer.role)));
    RecordPermissionDenied(store_, peer, asked, denied);
    return denied;
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::GetTrailResponse> AuditAccess::GetTrail(
    const rpc::Peer& peer, const v1::GetTrailRequest& request) const {
  RETURN_IF_ERROR(Authorize(peer, "Audit.GetTrail"));
  if (request.limit() > 10000) return absl::InvalidArgumentError("limit must be at most 10000");
  uint32_t limit = request.limit() == 0 ? 1000 : request.limit();
  ASSIGN_OR_RETURN(std::vector<audit::Entry> entries,
                   store_->ReadAudit(request.from_seq() == 0 ? 1 : request.from_seq(), limit));
  v1::GetTrailResponse resp;
  for (const audit::Entry& e : entries) {
    v1::AuditEntry* out = resp.add_entries();
    out->set_seq(e.seq);
    out->set_time_ms(e.time_ms);
    out->set_event(e.event);
    out->set_actor(e.actor);
    out->set_details_json(e.details);
    out->set_prev_hash(e.prev_hash);
    out->set_hash(e.hash);
    out->set_signature(e.signature);
  }
  resp.set_last_seq(store_->audit_last_seq());
  ASSIGN_OR_RETURN(auto settings, store_->LoadSettings());
  auto pk = crypto::Base64Decode(settings[kSettingAuditPublicKey]);
  if (pk.ok()) resp.set_public_key(*pk);
  return resp;
}

absl::StatusOr<v1::GetCheckpointResponse> AuditAccess::GetCheckpoint(const rpc::Peer& peer) const {
  RETURN_IF_ERROR(Authorize(peer, "Audit.GetCheckpoint"));
  ASSIGN_OR_RETURN(audit::Checkpoint c, store_->WriteCheckpoint());
  v1::GetCheckpointResponse resp;
  resp.set_checkpoint(c.Serialize());
  return resp;
}

}  // namespace samenzicht::aggregator
