#include "keyholder/key_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"

namespace samenzicht::keyholder {
namespace {

constexpr int64_t kHourMs = int64_t{3600} * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
constexpr char kEvaluation[] = "evaluation";

constexpr char kSchema[] =
    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, "
    "event TEXT NOT NULL, actor TEXT NOT NULL, details TEXT NOT NULL, prev_hash BLOB NOT NULL, "
    "hash BLOB NOT NULL, signature BLOB NOT NULL);"
    "CREATE TABLE IF NOT EXISTS settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS refusals_pending(node TEXT PRIMARY KEY, limit_kind TEXT NOT NULL, "
    "window_start_ms INTEGER NOT NULL, epoch INTEGER NOT NULL, calls INTEGER NOT NULL, "
    "asked INTEGER NOT NULL, first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL);"
    // On a second service: the first service's receipts already used (one call each).
    "CREATE TABLE IF NOT EXISTS receipts_used(signature BLOB PRIMARY KEY, node TEXT NOT NULL, "
    "first_seq INTEGER NOT NULL, time_ms INTEGER NOT NULL);";

// "2026-01-01T00:25:00Z" for the service log.
std::string UtcTime(int64_t ms) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(ms), absl::UTCTimeZone());
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::unique_ptr<sqlite::Database>> OpenDb(const std::string& data_dir, bool read_only) {
  sqlite::OpenOptions o;
  o.label = (std::filesystem::path(data_dir) / kDatabaseFileName).string();
  o.read_only = read_only;
  o.create = !read_only;
  if (!read_only) {
    o.file_mode = 0600;
    o.pragmas = {"journal_mode=WAL", "synchronous=FULL"};
  }
  return sqlite::Database::Open(o.label, o);
}

}  // namespace

Limits LimitsOf(const v1::KeyholderConfig& config) {
  Limits l;
  if (config.max_evaluations_per_node_per_hour() > 0) l.per_hour = config.max_evaluations_per_node_per_hour();
  if (config.max_evaluations_per_node_per_day() > 0) l.per_day = config.max_evaluations_per_node_per_day();
  if (config.max_elements_per_call() > 0) l.max_elements_per_call = config.max_elements_per_call();
  return l;
}

absl::StatusOr<std::unique_ptr<KeyService>> KeyService::FromConfig(const v1::KeyholderConfig& config,
                                                                   const crypto::Signer* signer, Clock clock) {
  if (config.keys_size() == 0) return absl::InvalidArgumentError("keys: no OPRF key file configured");
  if (config.data_dir().empty()) return absl::InvalidArgumentError("data_dir is empty");
  std::vector<crypto::oprf::EpochKey> keys;
  for (const auto& k : config.keys()) {
    ASSIGN_OR_RETURN(crypto::oprf::EpochKey key, crypto::oprf::LoadServerKeyFile(k.key_file()));
    keys.push_back(std::move(key));
  }
  std::optional<crypto::Verifier> first_service;
  if (!config.first_service_public_key().empty()) {
    absl::StatusOr<crypto::Verifier> v = crypto::Verifier::FromBase64(config.first_service_public_key());
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "first_service_public_key: not a public key as `keyholder audit-keygen` prints it: ",
          v.status().message()));
    }
    first_service = std::move(*v);
  }
  return Open(std::move(keys), config.data_dir(), LimitsOf(config), signer, std::move(clock),
              std::move(first_service));
}

absl::StatusOr<std::unique_ptr<KeyService>> KeyService::Open(std::vector<crypto::oprf::EpochKey> keys,
                                                            const std::string& data_dir, Limits limits,
                                                            const crypto::Signer* signer, Clock clock,
                                                            std::optional<crypto::Verifier> first_service) {
  if (signer == nullptr) return absl::InvalidArgumentError("no trail signing key");
  if (keys.empty()) return absl::InvalidArgumentError("no OPRF key");
  std::unique_ptr<KeyService> s(
      new KeyService(limits, signer, clock ? std::move(clock) : Clock(SystemNowMs), data_dir));
  s->first_service_ = std::move(first_service);
  for (auto& k : keys) {
    if (!s->keys_.emplace(k.epoch, std::move(k.key)).second) {
      return absl::InvalidArgumentError(absl::StrCat("two keys for epoch ", k.epoch));
    }
  }
  RETURN_IF_ERROR(files::MakeDirs(data_dir));
  ASSIGN_OR_RETURN(s->db_, OpenDb(data_dir, /*read_only=*/false));
  RETURN_IF_ERROR(s->db_->Exec(kSchema));
  const std::string pk = crypto::Base64Encode(signer->public_key());
  {
    ASSIGN_OR_RETURN(sqlite::Statement st, s->db_->Prepare("SELECT value FROM settings WHERE name = 'audit_public_key'"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row && st.Text(0) != pk) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the trail in ", data_dir, " is signed with another key (", st.Text(0),
          "); configure the key that signed it as audit_key_file"));
    }
    if (!row) {
      ASSIGN_OR_RETURN(sqlite::Statement ins, s->db_->Prepare(
          "INSERT INTO settings(name, value) VALUES('audit_public_key', ?)"));
      RETURN_IF_ERROR(ins.Bind(1, pk).Run());
    }
  }
  uint64_t last_seq = 0;
  std::string last_hash;
  {
    ASSIGN_OR_RETURN(sqlite::Statement st, s->db_->Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (row) {
      last_seq = static_cast<uint64_t>(st.Int(0));
      last_hash = st.Blob(1);
    }
  }
  s->chain_ = std::make_unique<audit::AuditChain>(signer, last_seq, last_hash);
  const int64_t now = s->clock_();
  RETURN_IF_ERROR(s->LoadUsage(now));
  {
    std::lock_guard<std::mutex> lock(s->mu_);
    RETURN_IF_ERROR(s->FlushStoredRepeated(now));
  }
  std::string epochs;
  for (const auto& [e, k] : s->keys_) absl::StrAppend(&epochs, epochs.empty() ? "" : ",", e);
  std::lock_guard<std::mutex> lock(s->mu_);
  // A second service names the first one's key: the officer sees from which start on the
  // second service refused calls without the first's receipt.
  const std::string receipts =
      s->first_service_ ? absl::StrCat(",\"receipts_from\":\"", crypto::Base64Encode(s->first_service_->public_key()), "\"")
                        : "";
  RETURN_IF_ERROR(s->Append("start", "keyholder",
                            absl::StrCat("{\"epochs\":[", epochs, "],\"per_hour\":", limits.per_hour,
                                         ",\"per_day\":", limits.per_day, receipts, "}"),
                            now));
  return s;
}

absl::Status KeyService::LoadUsage(int64_t now) {
  const int64_t day_start = now / kDayMs * kDayMs;
  ASSIGN_OR_RETURN(sqlite::Statement st, db_->Prepare(
      "SELECT time_ms, actor, details FROM audit WHERE event = ? AND time_ms >= ?"));
  st.Bind(1, kEvaluation).Bind(2, day_start);
  while (true) {
    ASSIGN_OR_RETURN(bool row, st.Step());
    if (!row) break;
    const int64_t t = st.Int(0);
    Usage& u = usage_[st.Text(1)];
    Roll(&u, now);
    const uint64_t n = JsonCount(st.Text(2), "evaluations");
    u.in_day += n;
    if (t / kHourMs == now / kHourMs) u.in_hour += n;
  }
  return absl::OkStatus();
}

absl::Status KeyService::WriteRepeated(const std::string& node, const Repeated& r, int64_t now) {
  RETURN_IF_ERROR(Append("limit_refused_repeated", node,
                         absl::StrCat("{\"limit\":\"", r.limit, "\",\"window_start_ms\":", r.window_start,
                                      ",\"epoch\":", r.epoch, ",\"refused_calls\":", r.calls,
                                      ",\"asked\":", r.asked, ",\"first_ms\":", r.first_ms,
                                      ",\"last_ms\":", r.last_ms, "}"),
                         now));
  // The service log's one line for the window, like the trail's entry: a node that retries
  // at its limit does not fill the log with a line per call.
  spdlog::warn("evaluation for {} refused {} more time(s) at the {} limit from {} to {} ({} "
               "evaluation(s) asked, epoch {}); trail entry limit_refused_repeated",
               node, r.calls, r.limit == "hour" ? "hourly" : "daily", UtcTime(r.first_ms),
               UtcTime(r.last_ms), r.asked, r.epoch);
  ASSIGN_OR_RETURN(sqlite::Statement del, db_->Prepare("DELETE FROM refusals_pending WHERE node = ?"));
  return del.Bind(1, node).Run();
}

absl::Status KeyService::FlushRepeated(const std::string& node, int64_t now) {
  auto it = repeated_.find(node);
  if (it == repeated_.end()) return absl::OkStatus();
  const Repeated r = it->second;
  repeated_.erase(it);
  if (r.calls == 0) return absl::OkStatus();
  return WriteRepeated(node, r, now);
}

absl::Status KeyService::FlushStoredRepeated(int64_t now) {
  std::vector<std::pair<std::string, Repeated>> rows;
  {
    ASSIGN_OR_RETURN(sqlite::Statement st, db_->Prepare(
        "SELECT node, limit_kind, window_start_ms, epoch, calls, asked, first_ms, last_ms "
        "FROM refusals_pending ORDER BY node"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      Repeated r;
      r.limit = st.Text(1);
      r.window_start = st.Int(2);
      r.epoch = static_cast<uint32_t>(st.Int(3));
      r.calls = static_cast<uint64_t>(st.Int(4));
      r.asked = static_cast<uint64_t>(st.Int(5));
      r.first_ms = st.Int(6);
      r.last_ms = st.Int(7);
      rows.emplace_back(st.Text(0), std::move(r));
    }
  }
  for (const auto& [node, r] : rows) RETURN_IF_ERROR(WriteRepeated(node, r, now));
  return absl::OkStatus();
}

KeyService::~KeyService() {
  if (chain_ == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = clock_();
  while (!repeated_.empty()) {
    const std::string node = repeated_.begin()->first;
    absl::Status s = FlushRepeated(node, now);
    // The count stays in refusals_pending and is written at the next start.
    if (!s.ok()) spdlog::warn("trail: repeated refusals of {} not written at stop: {}", node, s.ToString());
  }
}

void KeyService::Roll(Usage* u, int64_t now) {
  const int64_t hour = now / kHourMs, day = now / kDayMs;
  if (u->hour != hour) { u->hour = hour; u->in_hour = 0; }
  if (u->day != day) { u->day = day; u->in_day = 0; }
}

absl::Status KeyService::Append(const std::string& event, const std::string& actor,
                                 const std::string& details, int64_t now, uint64_t* seq) {
  audit::Entry e = chain_->Next(event, actor, details, now);
  ASSIGN_OR_RETURN(sqlite::Statement st, db_->Prepare(
      "INSERT INTO audit(seq, time_ms, event, actor, details, prev_hash, hash, signature) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
  st.Bind(1, static_cast<int64_t>(e.seq)).Bind(2, e.time_ms).Bind(3, e.event).Bind(4, e.actor)
      .Bind(5, e.details).BindBlob(6, e.prev_hash).BindBlob(7, e.hash).BindBlob(8, e.signature);
  RETURN_IF_ERROR(st.Run());
  chain_->Commit(e);
  if (seq != nullptr) *seq = e.seq;
  if (limits_.checkpoint_every > 0 && e.seq % limits_.checkpoint_every == 0) {
    const std::string folder = (std::filesystem::path(data_dir_) / "checkpoints").string();
    char name[32];
    std::snprintf(name, sizeof name, "%012llu.checkpoint", static_cast<unsigned long long>(e.seq));
    absl::Status w = files::MakeDirs(folder);
    if (w.ok()) {
      w = files::WriteFileAtomic((std::filesystem::path(folder) / name).string(),
                                 chain_->MakeCheckpoint(now).Serialize() + "\n", 0644);
    }
    // The entry is stored; a checkpoint that could not be written is only a warning.
    if (!w.ok()) spdlog::warn("trail checkpoint {}: {}", e.seq, w.ToString());
  }
  return absl::OkStatus();
}

absl::Status KeyService::CheckReceipt(const std::string& node, uint32_t epoch, std::string_view blinded,
                                      const crypto::EvaluationReceipt* presented) {
  const uint64_t n = blinded.size() / crypto::oprf::kElementBytes;
  const char* reason = nullptr;
  if (presented == nullptr || presented->signature.empty()) {
    reason = "missing";
  } else if (presented->node != node) {
    reason = "other_node";
  } else if (presented->epoch != epoch) {
    reason = "other_epoch";
  } else if (presented->elements != n || presented->elements_digest.size() != crypto::kDigestBytes ||
             !crypto::ConstantTimeEquals(presented->elements_digest, crypto::ReceiptElementsDigest(blinded))) {
    reason = "other_elements";
  } else if (!crypto::VerifyReceipt(*first_service_, *presented).ok()) {
    reason = "bad_signature";
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (reason == nullptr) {
    // A receipt is good for one call: the same answer of the first service evaluated again
    // would count here without counting there.
    ASSIGN_OR_RETURN(sqlite::Statement st, db_->Prepare(
        "INSERT INTO receipts_used(signature, node, first_seq, time_ms) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(signature) DO NOTHING"));
    st.BindBlob(1, presented->signature).Bind(2, node).Bind(3, static_cast<int64_t>(presented->trail_seq))
        .Bind(4, clock_());
    RETURN_IF_ERROR(st.Run());
    if (db_->Changes() == 1) return absl::OkStatus();
    reason = "reused";
  }
  {
    absl::Status rec = Append("receipt_refused", node,
                              absl::StrCat("{\"epoch\":", epoch, ",\"asked\":", n, ",\"reason\":\"", reason, "\"}"),
                              clock_());
    if (!rec.ok()) return absl::UnavailableError(absl::StrCat("cannot record in the trail: ", rec.message()));
  }
  const std::string r = reason;
  const char* why = r == "missing"          ? "the call carries none"
                    : r == "other_node"     ? "the receipt was given to another node"
                    : r == "other_epoch"    ? "the receipt is for another epoch"
                    : r == "other_elements" ? "the receipt is for other elements than those sent"
                    : r == "reused"         ? "the receipt was used before (one call each)"
                                            : "the receipt is not signed by the first key service's key";
  return absl::PermissionDeniedError(absl::StrCat(
      "this key service is the second of two and evaluates only what the first key service "
      "evaluated for the same node and epoch, shown by its receipt; ",
      why, " (send the batch to the first key service and its answer with its receipt here)"));
}

absl::StatusOr<std::string> KeyService::Evaluate(const rpc::Peer& caller, uint32_t epoch,
                                                 std::string_view blinded) {
  ASSIGN_OR_RETURN(Evaluation e, EvaluateBatch(caller, epoch, blinded, nullptr));
  return std::move(e.elements);
}

absl::StatusOr<KeyService::Evaluation> KeyService::EvaluateBatch(const rpc::Peer& caller, uint32_t epoch,
                                                                std::string_view blinded,
                                                                const crypto::EvaluationReceipt* presented) {
  const std::string& node = caller.common_name;
  if (caller.role != rpc::Role::kAgency) {
    std::lock_guard<std::mutex> lock(mu_);
    absl::Status rec = Append("permission_denied", node,
                              absl::StrCat("{\"role\":\"", rpc::RoleName(caller.role),
                                           "\",\"asked\":\"KeyHolder.Evaluate\"}"),
                              clock_());
    if (!rec.ok()) return absl::UnavailableError(absl::StrCat("cannot record in the trail: ", rec.message()));
    return absl::PermissionDeniedError(absl::StrCat(
        "only agency nodes may evaluate; this certificate's role is ", rpc::RoleName(caller.role)));
  }
  auto key = keys_.find(epoch);
  if (key == keys_.end()) {
    return absl::NotFoundError(absl::StrCat("the key service has no key for epoch ", epoch));
  }
  if (blinded.size() % crypto::oprf::kElementBytes != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "blinded elements must be 32 bytes each, got ", blinded.size(), " bytes"));
  }
  const uint64_t n = blinded.size() / crypto::oprf::kElementBytes;
  if (n == 0) return Evaluation{};
  if (n > limits_.max_elements_per_call) {
    return absl::InvalidArgumentError(absl::StrCat(n, " elements in one call; at most ",
                                                   limits_.max_elements_per_call, " are evaluated per call"));
  }
  if (first_service_) RETURN_IF_ERROR(CheckReceipt(node, epoch, blinded, presented));
  int64_t hour = 0, day = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_();
    Usage& u = usage_[node];
    Roll(&u, now);
    if (u.in_hour + n > limits_.per_hour || u.in_day + n > limits_.per_day) {
      const bool hourly = u.in_hour + n > limits_.per_hour;
      const char* limit = hourly ? "hour" : "day";
      const int64_t window_start = hourly ? now / kHourMs * kHourMs : now / kDayMs * kDayMs;
      absl::Status rec;
      auto it = repeated_.find(node);
      if (it != repeated_.end() && it->second.limit == limit && it->second.window_start == window_start) {
        // A further refusal in the same window: counted, in the chain once the window is over.
        Repeated& r = it->second;
        if (r.calls == 0) r.first_ms = now;
        ++r.calls;
        r.asked += n;
        r.last_ms = now;
        r.epoch = epoch;
        rec = [&]() -> absl::Status {
          ASSIGN_OR_RETURN(sqlite::Statement st, db_->Prepare(
              "INSERT INTO refusals_pending(node, limit_kind, window_start_ms, epoch, calls, asked, "
              "first_ms, last_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(node) DO UPDATE SET "
              "limit_kind = excluded.limit_kind, window_start_ms = excluded.window_start_ms, "
              "epoch = excluded.epoch, calls = excluded.calls, asked = excluded.asked, "
              "first_ms = excluded.first_ms, last_ms = excluded.last_ms"));
          st.Bind(1, node).Bind(2, r.limit).Bind(3, r.window_start).Bind(4, static_cast<int64_t>(r.epoch))
              .Bind(5, static_cast<int64_t>(r.calls)).Bind(6, static_cast<int64_t>(r.asked))
              .Bind(7, r.first_ms).Bind(8, r.last_ms);
          return st.Run();
        }();
      } else {
        rec = FlushRepeated(node, now);
        if (rec.ok()) {
          rec = Append(
              "limit_refused", node,
              absl::StrCat("{\"epoch\":", epoch, ",\"asked\":", n, ",\"node_hour\":", u.in_hour,
                           ",\"node_day\":", u.in_day, ",\"limit\":\"", limit, "\"}"),
              now);
        }
        if (rec.ok()) repeated_[node] = Repeated{limit, window_start, epoch, 0, 0, 0, 0};
      }
      if (!rec.ok()) return absl::UnavailableError(absl::StrCat("cannot record in the trail: ", rec.message()));
      absl::Status refused = absl::ResourceExhaustedError(absl::StrCat(
          "node ", node, " asked for ", n, " evaluations; ",
          hourly ? absl::StrCat(u.in_hour, " of its ", limits_.per_hour, " this hour")
                 : absl::StrCat(u.in_day, " of its ", limits_.per_day, " today"),
          " are used; nothing was evaluated, try again in the next ", hourly ? "hour" : "day"));
      // The service log, like the trail: the first refusal of the window is a line of its
      // own; the further ones are one line when the window's count is written.
      if (repeated_[node].calls == 0) {
        spdlog::warn("evaluation for {} refused: {} (further refusals of {} at this limit "
                     "until the {} ends are counted and logged as one line)",
                     node, refused.ToString(), node, hourly ? "hour" : "day");
      }
      return refused;
    }
    u.in_hour += n;  // reserved before evaluating, so parallel calls cannot overrun
    u.in_day += n;
    hour = u.hour;
    day = u.day;
  }
  absl::StatusOr<std::string> evaluated = key->second.BlindEvaluate(blinded);
  std::lock_guard<std::mutex> lock(mu_);
  Usage& u = usage_[node];
  if (!evaluated.ok()) {
    if (u.hour == hour) u.in_hour -= n;
    if (u.day == day) u.in_day -= n;
    return evaluated.status();
  }
  const int64_t now = clock_();
  absl::Status rec = FlushRepeated(node, now);
  uint64_t seq = 0;
  if (rec.ok()) {
    // On a second service, the first service's entry of the same evaluation: the officer
    // joins the two trails on it.
    const std::string first = first_service_ ? absl::StrCat(",\"receipt_seq\":", presented->trail_seq) : "";
    rec = Append(kEvaluation, node,
                 absl::StrCat("{\"epoch\":", epoch, ",\"evaluations\":", n, ",\"node_hour\":", u.in_hour,
                              ",\"node_day\":", u.in_day, first, "}"),
                 now, &seq);
  }
  if (!rec.ok()) {
    // Not in the trail, so not handed out; the reservation stays (counted, to be safe).
    return absl::UnavailableError(absl::StrCat("cannot record in the trail: ", rec.message()));
  }
  Evaluation out;
  out.receipt = crypto::EvaluationReceipt{node, epoch, n, crypto::ReceiptElementsDigest(*evaluated), seq, now, ""};
  crypto::SignReceipt(*signer_, &out.receipt);
  out.elements = std::move(*evaluated);
  return out;
}

uint64_t KeyService::UsedThisHour(const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  Usage& u = usage_[node];
  Roll(&u, clock_());
  return u.in_hour;
}

uint64_t KeyService::UsedToday(const std::string& node) {
  std::lock_guard<std::mutex> lock(mu_);
  Usage& u = usage_[node];
  Roll(&u, clock_());
  return u.in_day;
}

absl::StatusOr<Trail> ReadTrail(const std::string& data_dir) {
  return audit::ReadKeyholderTrail(data_dir);
}

uint64_t JsonCount(const std::string& details, const std::string& key) {
  return audit::DetailCount(details, key);
}

}  // namespace samenzicht::keyholder
