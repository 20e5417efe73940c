#include "aggregator/intake/intake.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <bitset>
#include <chrono>
#include <set>

#include <google/protobuf/arena.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "common/month.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "model/ack_notes.h"
#include "model/config.h"
#include "model/tokens.h"
#include "samenzicht/v1/categories.pb.h"

namespace samenzicht::aggregator {
namespace {

int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

v1::BatchAck Refuse(v1::BatchAck ack, absl::StatusCode code, std::string message) {
  ack.set_code(static_cast<int>(code));
  ack.set_message(std::move(message));
  return ack;
}

template <typename Repeated, typename IsValid>
absl::Status CheckRepeatedEnum(const Repeated& values, IsValid is_valid, const char* field,
                               std::string* bad_field) {
  for (int i = 0; i < values.size(); ++i) {
    if (!is_valid(values.Get(i))) {
      *bad_field = absl::StrCat(field, "[", i, "]");
      return absl::InvalidArgumentError(
          absl::StrCat(*bad_field, " is not a known value of the category"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckEnum(bool valid, const char* field, std::string* bad_field) {
  if (valid) return absl::OkStatus();
  *bad_field = field;
  return absl::InvalidArgumentError(absl::StrCat(field, " is not a known value of the category"));
}

}  // namespace

bool IsValidId(const std::string& id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

absl::StatusOr<std::unique_ptr<Intake>> Intake::New(const v1::AggregatorConfig& config,
                                                    const v1::LinkageProfile& profile,
                                                    Store* store) {
  if (store == nullptr) return absl::InvalidArgumentError("intake needs a store");
  RETURN_IF_ERROR(model::ValidateProfile(profile));  // e.g. at most kMaxProfileRules rules
  RETURN_IF_ERROR(model::ValidateAreas(config.areas()));  // never free text
  std::map<std::string, Agency> agencies;
  for (const v1::AgencyEntry& a : config.agencies()) {
    if (a.node_id().empty()) return absl::InvalidArgumentError("an agency has no node_id");
    auto verifier = crypto::Verifier::FromBase64(a.signing_public_key());
    if (!verifier.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "agency '", a.node_id(), "': signing_public_key is not a base64 Ed25519 public key"));
    }
    if (!agencies.emplace(a.node_id(), Agency{a, *std::move(verifier)}).second) {
      return absl::InvalidArgumentError(absl::StrCat("agency '", a.node_id(), "' is listed twice"));
    }
  }
  return std::unique_ptr<Intake>(new Intake(config, profile, store, std::move(agencies)));
}

Intake::Intake(const v1::AggregatorConfig& config, const v1::LinkageProfile& profile,
               Store* store, std::map<std::string, Agency> agencies)
    : store_(store),
      agencies_(std::move(agencies)),
      fingerprint_(model::ProfileFingerprint(profile)),
      key_epoch_(config.key_epoch()),
      max_batch_reports_(config.max_batch_reports() == 0 ? kDefaultMaxBatchReports
                                                         : config.max_batch_reports()),
      rules_([&] {
        std::vector<std::string> r;
        for (const auto& rule : profile.rules()) r.push_back(rule.name());
        return r;
      }()),
      probe_rules_([&] {
        std::vector<bool> r;
        for (const auto& rule : profile.rules()) {
          r.push_back(rule.probe_when_missing() != v1::FIELD_UNSPECIFIED);
        }
        return r;
      }()),
      multi_rules_([&] {
        std::vector<bool> r;
        for (const auto& rule : profile.rules()) {
          r.push_back(std::any_of(rule.fields().begin(), rule.fields().end(), [](int f) {
            return model::IsMultiValuedField(static_cast<v1::Field>(f));
          }));
        }
        return r;
      }()),
      tokens_per_person_([&] {
        uint32_t n = 0;
        for (bool multi : multi_rules_) {
          n += multi ? static_cast<uint32_t>(model::kMaxDeletionNeighbourhoodLength + 1) : 1;
        }
        return n;
      }()),
      areas_(config.areas().begin(), config.areas().end()),
      clock_(SystemNow),
      previous_key_epoch_(config.previous_key_epoch()),
      switchover_month_(config.key_switchover_month()) {}

bool Intake::AcceptsPreviousEpoch(uint32_t epoch, int64_t now_unix) const {
  if (previous_key_epoch_ == 0 || epoch != previous_key_epoch_) return false;
  if (switchover_month_ == 0) return true;  // until the configuration drops it
  return Month::OfUnixSeconds(now_unix).yyyymm() < switchover_month_;
}

absl::Status Intake::Authorize(const rpc::Peer& peer, std::string_view asked) const {
  absl::Status denied;
  if (peer.role != rpc::Role::kAgency) {
    denied = absl::PermissionDeniedError(
        absl::StrCat("only agency nodes may submit or retract; caller has role ",
                     rpc::RoleName(peer.role)));
  } else if (agencies_.count(peer.common_name) == 0) {
    denied = absl::PermissionDeniedError(
        absl::StrCat("agency '", peer.common_name, "' is not configured on this aggregator"));
  }
  if (!denied.ok()) RecordPermissionDenied(store_, peer, asked, denied);
  return denied;
}

absl::Status Intake::CheckReport(const v1::Report& r, std::string* field) const {
  if (!IsValidId(r.report_id())) {
    *field = "report_id";
    return absl::InvalidArgumentError("report_id must be 32 lower-case hex characters");
  }
  if (!Month(r.signal_month()).IsValid()) {
    *field = "signal_month";
    return absl::InvalidArgumentError("signal_month must be YYYYMM (or 0 when not known)");
  }
  RETURN_IF_ERROR(CheckEnum(v1::Form_IsValid(r.form()), "form", field));
  RETURN_IF_ERROR(CheckEnum(v1::Contact_IsValid(r.contact()), "contact", field));
  RETURN_IF_ERROR(CheckEnum(v1::AgeBand_IsValid(r.age_band()), "age_band", field));
  RETURN_IF_ERROR(CheckEnum(v1::Gender_IsValid(r.gender()), "gender", field));
  RETURN_IF_ERROR(CheckEnum(v1::Background_IsValid(r.background()), "background", field));
  RETURN_IF_ERROR(CheckRepeatedEnum(r.living_situation(), v1::LivingSituation_IsValid,
                                    "living_situation", field));
  RETURN_IF_ERROR(CheckRepeatedEnum(r.recruitment_location(), v1::RecruitmentLocation_IsValid,
                                    "recruitment_location", field));
  RETURN_IF_ERROR(CheckRepeatedEnum(r.coercion(), v1::Coercion_IsValid, "coercion", field));
  RETURN_IF_ERROR(
      CheckRepeatedEnum(r.forced_crime(), v1::ForcedCrime_IsValid, "forced_crime", field));
  if (!r.area().empty() && std::find(areas_.begin(), areas_.end(), r.area()) == areas_.end()) {
    *field = "area";
    return absl::InvalidArgumentError("area is not a district configured on the aggregator");
  }
  if (r.tokens_size() > 0 && !r.packed_tokens().empty()) {
    *field = "packed_tokens";
    return absl::InvalidArgumentError("a report carries tokens or packed_tokens, not both");
  }
  if (r.packed_tokens().size() % model::kPackedTokenBytes != 0) {
    *field = "packed_tokens";
    return absl::InvalidArgumentError(
        absl::StrCat("packed_tokens must be whole ", model::kPackedTokenBytes,
                     "-byte entries, got ", r.packed_tokens().size(), " bytes"));
  }
  const char* tokens = r.tokens_size() > 0 ? "tokens" : "packed_tokens";
  std::bitset<model::kMaxProfileRules> seen_rules;  // ValidateProfile: no more rules
  // A rule with a multi-valued field (a deletion neighbourhood) yields several tokens per
  // report, each value once, at most model::kMaxTokensPerMultiValuedRule of them.
  std::array<uint8_t, model::kMaxProfileRules> per_rule{};
  std::vector<std::pair<size_t, std::string_view>> multi_values;
  absl::Status bad;
  model::ForEachToken(r, rules_, [&](const model::TokenRef& t) {
    if (!bad.ok()) return;
    auto refuse = [&](const char* part, auto&&... reason) {
      *field = absl::StrCat(tokens, "[", t.index, "].", part);
      bad = absl::InvalidArgumentError(absl::StrCat(*field, reason...));
    };
    if (t.rule < 0 || static_cast<size_t>(t.rule) >= rules_.size()) {
      return refuse("rule", " is not a rule of the linkage profile");
    }
    const size_t rule = static_cast<size_t>(t.rule);
    if (multi_rules_[rule]) {
      if (++per_rule[rule] > model::kMaxTokensPerMultiValuedRule) {
        return refuse("rule", " has more than ", model::kMaxTokensPerMultiValuedRule,
                      " tokens of one rule in the same report");
      }
      for (const auto& [r2, v] : multi_values) {
        if (r2 == rule && v == t.value) return refuse("value", " repeats a token of the same report");
      }
      multi_values.emplace_back(rule, t.value);
    } else if (seen_rules.test(rule)) {
      return refuse("rule", " repeats a rule of the same report");
    }
    seen_rules.set(rule);
    if (probe_rules_[rule] ? (t.role != v1::TOKEN_ROLE_ANCHOR && t.role != v1::TOKEN_ROLE_PROBE)
                           : t.role != v1::TOKEN_ROLE_UNSPECIFIED) {
      return refuse("role", " must be ", probe_rules_[rule] ? "ANCHOR or PROBE" : "unset",
                    " for this rule of the linkage profile");
    }
    if (t.value.size() != crypto::kTokenBytes) {
      refuse("value", " must be exactly ", crypto::kTokenBytes, " bytes, got ", t.value.size());
    }
  });
  return bad;
}

absl::StatusOr<v1::BatchAck> Intake::Submit(const rpc::Peer& peer, const v1::SignedBatch& batch) {
  RETURN_IF_ERROR(Authorize(peer));
  const Agency& agency = agencies_.at(peer.common_name);
  const std::string& payload_bytes = batch.payload();
  v1::BatchAck ack;
  ack.set_batch_digest(crypto::Digest(kBatchContext, payload_bytes));

  int report_count = 0;  // known once the payload parses
  bool stored = false;   // the batch reached the store (its audit entry is written there)
  auto finish = [&](v1::BatchAck a) {
    if (!stored) {
      const BatchRefusedEvent d{
          peer.common_name, a.batch_id(),
          absl::StatusCodeToString(static_cast<absl::StatusCode>(a.code())), a.message(),
          crypto::ToHex(store_->KeyedBatchDigest(a.batch_digest()))};
      if (absl::Status s = store_->AppendAudit(kEventBatchRefused, peer.common_name, d.ToJson());
          !s.ok()) {
        spdlog::error("audit: could not record a refused batch: {}", s.ToString());
      }
    }
    spdlog::info("batch agency={} batch={} reports={} accepted={} duplicates={} refused={} code={}",
                 peer.common_name, a.batch_id().empty() ? "-" : a.batch_id(), report_count,
                 a.accepted(), a.duplicates(),
                 a.errors_size(), absl::StatusCodeToString(static_cast<absl::StatusCode>(a.code())));
    return a;
  };

  if (!agency.verifier.Verify(kBatchContext, payload_bytes, batch.signature()).ok()) {
    return finish(Refuse(ack, absl::StatusCode::kUnauthenticated,
                         "batch signature does not verify with the agency's configured key"));
  }
  // The payload's thousands of small messages and strings live in one arena (a few large
  // blocks) instead of one heap allocation each; freed at once when Submit returns.
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = std::max<size_t>(4096, 2 * payload_bytes.size());
  arena_options.max_block_size = arena_options.start_block_size;
  google::protobuf::Arena arena(arena_options);
  v1::BatchPayload& payload = *google::protobuf::Arena::CreateMessage<v1::BatchPayload>(&arena);
  if (!payload.ParseFromString(payload_bytes)) {
    return finish(Refuse(ack, absl::StatusCode::kInvalidArgument, "batch payload does not parse"));
  }
  if (!IsValidId(payload.batch_id())) {
    return finish(Refuse(ack, absl::StatusCode::kInvalidArgument,
                         "batch_id must be 32 lower-case hex characters"));
  }
  ack.set_batch_id(payload.batch_id());
  report_count = payload.reports_size();
  if (payload.node_id() != peer.common_name) {
    return finish(Refuse(ack, absl::StatusCode::kPermissionDenied,
                         "node_id in the batch differs from the client certificate"));
  }
  if (!crypto::ConstantTimeEquals(payload.profile_fingerprint(), fingerprint_)) {
    return finish(Refuse(ack, absl::StatusCode::kFailedPrecondition,
                         "the batch was made with another linkage profile (fingerprint differs); "
                         "install the deployment's profile on the node"));
  }
  if (payload.key_epoch() != key_epoch_.load() &&
      !AcceptsPreviousEpoch(payload.key_epoch(), clock_())) {
    std::string also;
    if (previous_key_epoch_ != 0) {
      also = absl::StrCat(" (epoch ", previous_key_epoch_, " only before ",
                          Month(switchover_month_).Text(), ")");
    }
    return finish(Refuse(ack, absl::StatusCode::kFailedPrecondition,
                         absl::StrCat("the batch was made with key epoch ", payload.key_epoch(),
                                      "; this aggregator accepts epoch ", key_epoch_.load(), also)));
  }
  if (payload.nonce().size() > kMaxBatchNonceBytes) {
    return finish(Refuse(ack, absl::StatusCode::kInvalidArgument,
                         absl::StrCat("nonce is ", payload.nonce().size(),
                                      " bytes; at most ", kMaxBatchNonceBytes)));
  }
  if (static_cast<uint32_t>(payload.reports_size()) > max_batch_reports_) {
    ack.set_max_batch_reports(max_batch_reports_);
    return finish(Refuse(ack, absl::StatusCode::kResourceExhausted,
                         absl::StrCat("batch holds ", payload.reports_size(),
                                      " reports; the maximum is ", max_batch_reports_,
                                      ": split it")));
  }

  BatchToStore to_store;
  to_store.batch_id = payload.batch_id();
  to_store.agency = peer.common_name;
  to_store.digest = ack.batch_digest();
  to_store.received_unix = clock_();
  to_store.report_count = static_cast<uint32_t>(payload.reports_size());
  to_store.reports.reserve(payload.reports_size());
  std::vector<v1::ReportError> errors;
  absl::flat_hash_map<absl::string_view, uint32_t> first_index;  // views into `payload`
  first_index.reserve(payload.reports_size());
  for (int i = 0; i < payload.reports_size(); ++i) {
    const v1::Report& r = payload.reports(i);
    std::string field;
    absl::Status s = CheckReport(r, &field);
    if (s.ok()) {
      auto [it, inserted] = first_index.emplace(r.report_id(), static_cast<uint32_t>(i));
      if (!inserted) {
        field = "report_id";
        s = absl::InvalidArgumentError(
            absl::StrCat("report_id repeats report ", it->second, " of this batch"));
      }
    }
    if (!s.ok()) {
      v1::ReportError e;
      // A malformed id is not echoed: it could be anything the node put there.
      if (IsValidId(r.report_id())) e.set_report_id(r.report_id());
      e.set_index(static_cast<uint32_t>(i));
      e.set_code(static_cast<int>(s.code()));
      e.set_field(std::move(field));
      e.set_message(std::string(s.message()));
      errors.push_back(std::move(e));
      continue;
    }
    to_store.reports.push_back({static_cast<uint32_t>(i), &r});
    const uint32_t tokens = static_cast<uint32_t>(model::TokenCount(r));
    to_store.tokens += tokens;
    to_store.max_tokens_per_report = std::max(to_store.max_tokens_per_report, tokens);
    if (tokens > tokens_per_person_) ++to_store.reports_beyond_profile;
  }

  to_store.key_epoch = payload.key_epoch();
  to_store.refused_before_store = static_cast<uint32_t>(errors.size());
  ASSIGN_OR_RETURN(CommitResult result, store_->CommitBatch(to_store));
  stored = !result.replayed;
  if (result.replayed) {
    bool same = crypto::ConstantTimeEquals(result.previous_digest,
                                           store_->KeyedBatchDigest(ack.batch_digest()));
    if (same) {
      // The node sends a batch again when its acknowledgement was lost: it gets the counts
      // of the first commit (nothing is counted again), so its sent log keeps them.
      ack.set_accepted(result.first_accepted);
      ack.set_duplicates(result.first_duplicates);
    }
    return finish(Refuse(
        ack, absl::StatusCode::kAlreadyExists,
        same ? "batch already committed; nothing changed"
             : "batch id already committed with different content; nothing changed "
               "(a new batch needs a new batch id)"));
  }
  for (const StoreRefusal& r : result.refused) {
    v1::ReportError e;
    e.set_report_id(payload.reports(static_cast<int>(r.index)).report_id());
    e.set_index(r.index);
    e.set_code(static_cast<int>(r.code));
    e.set_field("report_id");  // stored by another agency, or retracted
    e.set_message(r.message);
    errors.push_back(std::move(e));
  }
  std::sort(errors.begin(), errors.end(),
            [](const v1::ReportError& a, const v1::ReportError& b) { return a.index() < b.index(); });
  ack.set_accepted(result.accepted);
  ack.set_duplicates(result.duplicates);
  ack.set_corrected(result.corrected);
  ack.set_rekeyed(result.replaced);
  for (auto& e : errors) *ack.add_errors() = std::move(e);
  // A correction is named first, in a form the node reads back: "corrected N report(s)".
  std::string notes;
  if (result.corrected > 0) {
    notes = absl::StrCat(model::kCorrectedAckPrefix, result.corrected,
                         " report(s): a new version replaces the stored one");
  }
  if (ack.errors_size() == 0) {
    ack.set_code(static_cast<int>(absl::StatusCode::kOk));
    if (result.replaced > 0) {
      absl::StrAppend(&notes, notes.empty() ? "" : "; ", result.replaced,
                      " report(s) already stored under an older key epoch now carry epoch ",
                      payload.key_epoch(), " tokens");
    }
    ack.set_message(notes);
  } else if (result.accepted + result.duplicates + result.replaced > 0) {
    // Partial acceptance: stored, except the reports listed. Not a refusal of the batch.
    ack.set_code(static_cast<int>(absl::StatusCode::kOk));
    ack.set_partially_accepted(true);
    ack.set_message(absl::StrCat(notes, notes.empty() ? "" : "; ", ack.errors_size(),
                                 " report(s) refused; the others are stored"));
  } else {
    ack.set_code(static_cast<int>(absl::StatusCode::kInvalidArgument));
    ack.set_message(absl::StrCat("all ", ack.errors_size(), " report(s) refused; nothing stored"));
  }
  return finish(std::move(ack));
}

absl::StatusOr<v1::RetractResponse> Intake::Retract(const rpc::Peer& peer,
                                                    const v1::RetractRequest& request) {
  RETURN_IF_ERROR(Authorize(peer, "Intake.Retract"));
  std::vector<std::string> ids;
  std::set<std::string> seen;
  v1::RetractResponse resp;
  for (const std::string& id : request.report_ids()) {
    if (!seen.insert(id).second) continue;
    if (!IsValidId(id)) {
      resp.add_not_found(id.substr(0, 64));
      continue;
    }
    ids.push_back(id);
  }
  ASSIGN_OR_RETURN(RetractResult r, store_->Retract(peer.common_name, ids, clock_()));
  resp.set_retracted(r.retracted);
  for (auto& id : r.not_found) resp.add_not_found(std::move(id));
  spdlog::info("retract agency={} requested={} retracted={} not_found={}", peer.common_name,
               request.report_ids_size(), resp.retracted(), resp.not_found_size());
  return resp;
}

}  // namespace samenzicht::aggregator
