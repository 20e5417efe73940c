#include "agency_node/daemon.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "agency_node/batch.h"
#include "agency_node/keyholder_client.h"
#include "common/files.h"
#include "common/process.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "model/config.h"

namespace samenzicht::agency_node {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr int kBatchesPerStream = 50;
constexpr char kImportDigestDomain[] = "samenzicht.import.v1";
// What an import is remembered by: the file's content AND the key epoch and linkage profile
// its tokens were made with. After a key rotation or a move to a new profile the same
// export is read again and its reports queued under the new epoch and profile (the same
// report ids: the aggregator replaces their tokens and counts nothing twice).
constexpr char kImportKeyDomain[] = "samenzicht.import.v2";

std::string ImportKey(std::string_view bytes, uint32_t epoch, const std::string& profile_fp) {
  return crypto::ToHex(crypto::Digest(
      kImportKeyDomain, absl::StrCat(epoch, "\n", crypto::ToHex(profile_fp), "\n",
                                     crypto::Digest(kImportDigestDomain, bytes))));
}

milliseconds Or(uint32_t v, int64_t fallback) { return milliseconds(v == 0 ? fallback : v); }

// Moves `file` into `dir` (created if needed), never overwriting an earlier file there;
// its modification time becomes now, from which its retention counts. Returns where it went.
absl::StatusOr<fs::path> MoveInto(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(dir.string(), ": ", ec.message()));
  fs::path target = dir / file.filename();
  for (int n = 1; fs::exists(target); ++n) {
    target = dir / absl::StrCat(file.filename().string(), ".", n);
  }
  fs::rename(file, target, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot move ", file.string(), ": ", ec.message()));
  fs::last_write_time(target, fs::file_time_type::clock::now(), ec);
  return target;
}

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += "\"\"";
    else out.push_back(c);
  }
  return out + "\"";
}

// The rows of an export that did not arrive whole, next to it in failed/: one line per
// problem (line, record id, field, what, reason), never a field's value. Mode 0600.
absl::Status WriteFailedReport(const fs::path& moved, const PreparedReports* prepared,
                               const std::string& file_error) {
  std::string text = "line,record_id,field,outcome,reason\n";
  if (prepared == nullptr) {
    absl::StrAppend(&text, ",,,file not imported,", CsvCell(file_error), "\n");
  } else {
    for (const auto& n : prepared->notices) absl::StrAppend(&text, ",,,notice,", CsvCell(n), "\n");
    std::vector<std::pair<const RecordIssue*, const char*>> rows;
    for (const auto& i : prepared->skipped) rows.emplace_back(&i, "record not sent");
    for (const auto& i : prepared->warnings) rows.emplace_back(&i, "field not used");
    std::stable_sort(rows.begin(), rows.end(),
                     [](const auto& a, const auto& b) { return a.first->line < b.first->line; });
    for (const auto& [i, what] : rows) {
      absl::StrAppend(&text, i->line, ",", CsvCell(i->record_id), ",", i->field, ",", what, ",",
                      CsvCell(i->message), "\n");
    }
  }
  return files::WriteFileAtomic(moved.string() + ".report.csv", text, 0600);
}

// Overwrites `file` with zeros (synced) and deletes it. On a copy-on-write or journalling
// file system, or an SSD, old blocks may survive the overwrite: docs/operations.md says
// to keep import_dir on an encrypted volume.
absl::Status OverwriteAndDelete(const fs::path& file) {
  int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
      const std::string zeros(64 * 1024, '\0');
      for (off_t left = st.st_size; left > 0;) {
        const size_t n = static_cast<size_t>(std::min<off_t>(left, zeros.size()));
        const ssize_t w = ::write(fd, zeros.data(), n);
        if (w <= 0) break;
        left -= w;
      }
      ::fsync(fd);
    }
    ::close(fd);
  }
  std::error_code ec;
  fs::remove(file, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot delete ", file.string(), ": ", ec.message()));
  return absl::OkStatus();
}

// Overwrites and deletes the files in `dir` older than `days`; the number deleted.
int PurgeOlderThan(const fs::path& dir, uint32_t days, spdlog::logger& log) {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * days;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec) || e.last_write_time(ec) > cutoff || ec) continue;
    if (absl::Status s = OverwriteAndDelete(e.path()); !s.ok()) {
      log.error("{}", std::string(s.message()));
    } else {
      ++n;
    }
  }
  return n;
}

// True when a retraction waits for its batch (sent by DrainOnce once the batch has left).
bool RetractionsWaiting(StateStore& store) {
  auto waiting = store.QueuedRetractions();
  return waiting.ok() && !waiting->empty();
}

struct FileState {
  uintmax_t size = 0;
  fs::file_time_type mtime;
  bool operator==(const FileState& o) const { return size == o.size && mtime == o.mtime; }
};

}  // namespace

Backoff::Backoff(milliseconds initial, milliseconds max, uint64_t seed)
    : initial_(initial), max_(std::max(initial, max)), rng_(seed) {}

milliseconds Backoff::Next() {
  int64_t d = initial_.count();
  for (int i = 0; i < failures_ && d < max_.count(); ++i) d *= 2;
  d = std::min<int64_t>(d, max_.count());
  ++failures_;
  std::uniform_int_distribution<int64_t> jitter(d / 2, d);
  return milliseconds(jitter(rng_));
}

absl::Status CheckKeySource(const v1::NodeConfig& config, bool keyholder_flag) {
  const bool key = !config.hashing_key_file().empty();
  const bool service = !config.keyholder_config_file().empty();
  if (key && service) {
    return absl::InvalidArgumentError(
        "the node config names two key sources, hashing_key_file and keyholder_config_file: "
        "keep keyholder_config_file (the key service; the node then holds no hashing key) or "
        "hashing_key_file (the shared hashing key, for a deployment without a key service), "
        "not both");
  }
  if (!key && !service && !keyholder_flag) {
    return absl::InvalidArgumentError(
        "the node config names no key source: set keyholder_config_file (the key service's "
        "client configuration; the node then holds no hashing key) or hashing_key_file (the "
        "shared hashing key, for a deployment without a key service)");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Delivery>> Delivery::New(const v1::NodeConfig& config,
                                                        const Date& today,
                                                        const std::string& keyholder) {
  RETURN_IF_ERROR(CheckKeySource(config, !keyholder.empty()));
  std::unique_ptr<Delivery> d(new Delivery());
  d->config_ = config;
  d->today_ = today;
  ASSIGN_OR_RETURN(d->profile_, model::LoadProfile(config.profile_file()));
  const std::string& service = keyholder.empty() ? config.keyholder_config_file() : keyholder;
  if (!service.empty()) {
    ASSIGN_OR_RETURN(d->tokeniser_, TokeniserFromKeyholder(d->profile_, service));
  } else {
    ASSIGN_OR_RETURN(d->tokeniser_, TokeniserFromKeyFile(d->profile_, config.hashing_key_file()));
  }
  ASSIGN_OR_RETURN(d->signer_, crypto::Signer::FromKeyFile(config.signing_key_file()));
  ASSIGN_OR_RETURN(d->report_ids_,
                   crypto::ReportIdDeriver::FromSigningKeyFile(config.signing_key_file()));
  ASSIGN_OR_RETURN(d->normaliser_, Normaliser::New());
  ASSIGN_OR_RETURN(d->store_, StateStore::Open(config.state_dir()));
  ASSIGN_OR_RETURN(d->outbox_, Outbox::Open(config.state_dir()));
  return d;
}

uint32_t Delivery::key_epoch() const { return tokeniser_->epoch(); }

absl::StatusOr<ImportResult> Delivery::Import(const std::string& csv_path, bool once,
                                              bool resend_retracted) {
  ImportResult result;
  std::string digest;
  if (once) {
    ASSIGN_OR_RETURN(std::string bytes, files::ReadFile(csv_path));
    digest = ImportKey(bytes, tokeniser_->epoch(), model::ProfileFingerprint(profile_));
    ASSIGN_OR_RETURN(bool seen, outbox_->WasImported(digest));
    if (seen) {
      result.already_imported = true;
      return result;
    }
  }
  SignalOptions so;
  so.areas.assign(config_.areas().begin(), config_.areas().end());
  so.today = today_;
  ASSIGN_OR_RETURN(so.national_ids, NationalIds::FromProfile(profile_));
  ASSIGN_OR_RETURN(result.prepared, PrepareReports(csv_path, *normaliser_, *tokeniser_, so));
  PreparedReports& p = result.prepared;
  ASSIGN_OR_RETURN(std::vector<std::string> ids,
                   store_->AssignReportIds(p.record_ids, [this](const std::string& record_id) {
                     return report_ids_->Derive(record_id);
                   }));
  for (size_t i = 0; i < ids.size(); ++i) p.reports[i].set_report_id(ids[i]);
  // A record this node retracted stays retracted when the export is imported again.
  ASSIGN_OR_RETURN(std::set<std::string> retracted, store_->RetractedReportIds());
  std::vector<v1::Report> keep;
  keep.reserve(p.reports.size());
  for (size_t i = 0; i < p.reports.size(); ++i) {
    v1::Report& r = p.reports[i];
    if (retracted.count(r.report_id())) {
      if (!resend_retracted) {
        ++result.retracted_dropped;
        continue;
      }
      // The agency decided to send it again: a new report under a new id. Record ids hold
      // no control characters (signal.cc), so "\n" separates the two parts unambiguously.
      const std::string& record_id = p.record_ids[i];
      std::string fresh = report_ids_->Derive(absl::StrCat(record_id, "\n", r.report_id()));
      RETURN_IF_ERROR(store_->ReissueReportId(record_id, fresh));
      r.set_report_id(std::move(fresh));
      ++result.retracted_resent;
    }
    keep.push_back(std::move(r));
  }
  p.reports.clear();
  std::vector<BuiltBatch> batches;
  if (!keep.empty()) {
    result.reports_queued = static_cast<int>(keep.size());
    BatchHeader header{config_.node_id(), model::ProfileFingerprint(profile_),
                       tokeniser_->epoch(), static_cast<int64_t>(time(nullptr))};
    ASSIGN_OR_RETURN(batches,
                     BuildBatches(std::move(keep), header, config_.max_batch_reports(), *signer_));
  }
  result.batches_queued = static_cast<int>(batches.size());
  // An export that did not arrive whole is not recorded as imported: the same file
  // dropped again is read again (its whole records are duplicates at the aggregator,
  // counted once) and lands in failed/ again, never in done/ as "imported before".
  if (p.incomplete() || p.degraded()) digest.clear();
  if (!batches.empty() || !digest.empty()) {
    absl::Status s = outbox_->Enqueue(batches, digest);
    if (absl::IsAlreadyExists(s)) {  // another process imported the same file meanwhile
      result.already_imported = true;
      result.reports_queued = result.batches_queued = 0;
      return result;
    }
    RETURN_IF_ERROR(s);
  }
  return result;
}

RefusalKind RefusalKindOf(int code) {
  switch (static_cast<absl::StatusCode>(code)) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kInvalidArgument:
      return RefusalKind::kFinal;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return RefusalKind::kRetry;
    default:
      return RefusalKind::kHold;
  }
}

absl::Status Delivery::SendQueuedRetractions() {
  ASSIGN_OR_RETURN(std::vector<std::string> ids, store_->QueuedRetractions());
  if (ids.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> queued, outbox_->QueuedReportIds());
  std::set<std::string> still(queued.begin(), queued.end());
  std::vector<std::string> ready;
  for (auto& id : ids) {
    if (!still.count(id)) ready.push_back(std::move(id));
  }
  if (ready.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto client, IntakeClient::Connect(config_));
  client->set_timeout(std::chrono::seconds(30));
  ASSIGN_OR_RETURN(v1::RetractResponse resp, client->Retract(ready));
  std::set<std::string> not_found(resp.not_found().begin(), resp.not_found().end());
  const int64_t now = time(nullptr);
  for (const auto& id : ready) {
    RETURN_IF_ERROR(store_->RecordRetraction(id, not_found.count(id) ? "not_found" : "retracted", now));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> Delivery::SplitOversized(const std::string& batch_id, uint32_t max_reports,
                                             const std::vector<BuiltBatch>& pending) {
  auto it = std::find_if(pending.begin(), pending.end(),
                         [&](const BuiltBatch& b) { return b.batch_id == batch_id; });
  if (it == pending.end()) return 0;
  v1::BatchPayload payload;
  if (!payload.ParseFromString(it->signed_batch.payload())) {
    return absl::DataLossError(absl::StrCat("node outbox: batch ", batch_id, " does not parse"));
  }
  if (max_reports == 0 || static_cast<uint32_t>(payload.reports_size()) <= max_reports) return 0;
  BatchHeader header;
  header.node_id = payload.node_id();
  header.profile_fingerprint = payload.profile_fingerprint();
  header.key_epoch = payload.key_epoch();
  header.created_unix = payload.created_unix();
  std::vector<v1::Report> reports(std::make_move_iterator(payload.mutable_reports()->begin()),
                                  std::make_move_iterator(payload.mutable_reports()->end()));
  ASSIGN_OR_RETURN(std::vector<BuiltBatch> smaller,
                   BuildBatches(std::move(reports), header, max_reports, *signer_));
  RETURN_IF_ERROR(outbox_->Replace(batch_id, smaller));
  return static_cast<int>(smaller.size());
}

absl::StatusOr<SubmitSummary> Delivery::DrainOnce() {
  SubmitSummary total;
  ASSIGN_OR_RETURN(auto pending, outbox_->Pending(kBatchesPerStream));
  if (pending.empty()) {
    RETURN_IF_ERROR(SendQueuedRetractions());
    return total;
  }
  ASSIGN_OR_RETURN(auto client, IntakeClient::Connect(config_));
  client->set_timeout(std::chrono::seconds(30));
  client->set_on_problem([this](const std::string& line) {
    if (on_problem_) on_problem_(line);
  });
  int held = 0;
  int split_batches = 0, split_reports = 0;  // refused as too large, queued again smaller
  client->set_on_ack([this, &held, &pending, &split_batches, &split_reports](
                         const v1::BatchAck& ack) -> absl::Status {
    const std::string why = absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(ack.code())),
                                         ack.message().empty() ? "" : ": ", ack.message());
    switch (RefusalKindOf(ack.code())) {
      case RefusalKind::kFinal:
        return outbox_->Remove(ack.batch_id());
      case RefusalKind::kRetry:
        // Too large for this aggregator: retried unchanged it would be refused forever and
        // block the outbox behind it.
        if (ack.code() == static_cast<int>(absl::StatusCode::kResourceExhausted) &&
            ack.max_batch_reports() > 0) {
          ASSIGN_OR_RETURN(int made, SplitOversized(ack.batch_id(), ack.max_batch_reports(), pending));
          if (made > 0) {
            ++split_batches;
            for (const BuiltBatch& b : pending) {
              if (b.batch_id == ack.batch_id()) split_reports += static_cast<int>(b.log.size());
            }
            if (on_problem_) {
              on_problem_(absl::StrCat("batch ", ack.batch_id(), " was refused (", why,
                                       "); its reports are queued again in ", made,
                                       " batches of at most ", ack.max_batch_reports(),
                                       " report(s)"));
            }
            return absl::OkStatus();
          }
        }
        return absl::UnavailableError(absl::StrCat("the aggregator refused batch ", ack.batch_id(),
                                                   " for now (", why,
                                                   "); it stays queued and is sent again"));
      case RefusalKind::kHold:
        RETURN_IF_ERROR(outbox_->Hold(ack.batch_id(), why));
        ++held;
        if (on_problem_) {
          on_problem_(absl::StrCat("batch ", ack.batch_id(), " is held in the outbox (", why,
                                   "); run `agency-node resend` once the cause is fixed"));
        }
        return absl::OkStatus();
    }
    return absl::OkStatus();
  });
  std::set<std::string> tried;  // a batch that fails to leave is not retried in this attempt
  while (!pending.empty()) {
    absl::StatusOr<SubmitSummary> sum = client->Submit(pending, *store_);
    if (!sum.ok()) {
      (void)outbox_->RecordFailedAttempt(std::string(sum.status().message()));
      return sum.status();
    }
    total.batches_sent += sum->batches_sent;
    total.batches_delivered += sum->batches_delivered;
    total.batches_partial += sum->batches_partial;
    total.batches_refused += sum->batches_refused;
    total.reports_sent += sum->reports_sent;
    total.accepted += sum->accepted;
    total.duplicates += sum->duplicates;
    total.corrected += sum->corrected;
    total.rekeyed += sum->rekeyed;
    total.reports_refused += sum->reports_refused;
    // A batch split because it was too large was not refused: its reports are sent again
    // (and counted as sent then).
    total.batches_refused -= split_batches;
    total.reports_refused -= split_reports;
    total.batches_sent -= split_batches;
    total.reports_sent -= split_reports;
    split_batches = split_reports = 0;
    total.batches_held = held;
    for (auto& p : sum->problems) total.problems.push_back(std::move(p));
    for (const auto& b : pending) tried.insert(b.batch_id);
    ASSIGN_OR_RETURN(pending, outbox_->Pending(kBatchesPerStream));
    if (!pending.empty() && tried.count(pending.front().batch_id)) {
      return absl::InternalError("node outbox: an acknowledged batch did not leave the outbox");
    }
  }
  RETURN_IF_ERROR(SendQueuedRetractions());
  return total;
}

absl::Status RunDaemon(const v1::NodeConfig& config, StopSignal& stop, spdlog::logger& log) {
  if (config.import_dir().empty()) {
    return absl::InvalidArgumentError("import_dir is not set in the node config");
  }
  std::error_code ec;
  fs::create_directories(config.import_dir(), ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("import_dir ", config.import_dir(), ": ", ec.message()));
  }
  ASSIGN_OR_RETURN(auto node, Delivery::New(config));
  if (std::string w = model::MissingRevocationListWarning(config.tls()); !w.empty()) {
    log.warn("{}", w);
  }
  // Every refusal is named in the log as its acknowledgement arrives, also when a later
  // batch of the same attempt fails.
  node->set_on_problem([&log](const std::string& line) { log.warn("{}", line); });
  if (auto held = node->outbox().Held(); held.ok() && !held->empty()) {
    log.warn("the outbox holds {} batch(es) the aggregator refused for a reason outside their "
             "content; `agency-node sent` lists them, `agency-node resend` queues them again",
             held->size());
  }
  const milliseconds poll = Or(config.poll_interval_ms(), 1000);
  Backoff backoff(Or(config.retry_initial_ms(), 500), Or(config.retry_max_ms(), 30000),
                  std::random_device{}());
  auto next_drain = std::chrono::steady_clock::now();
  // While the key service does not answer, imports wait (the files stay where they are).
  Backoff key_service_backoff(Or(config.retry_initial_ms(), 500), Or(config.retry_max_ms(), 30000),
                              std::random_device{}());
  auto next_import = std::chrono::steady_clock::now();
  std::map<fs::path, FileState> last_seen;
  if (auto size = node->outbox().Size(); size.ok() && size->first > 0) {
    log.info("outbox holds {} batch(es), {} report(s) from before; delivering", size->first,
             size->second);
  }
  log.info("serving: watching {} every {} ms; delivering to {}", config.import_dir(),
           poll.count(), config.aggregator_address());
  if (!config.keyholder_config_file().empty()) {
    log.info("tokens from the key service (client configuration {}); this node holds no "
             "hashing key", config.keyholder_config_file());
  }

  while (!stop.stopped()) {
    // 1. Import files that are complete (unchanged since the previous scan).
    std::map<fs::path, FileState> now_seen;
    std::vector<fs::path> ready;
    for (const auto& e : fs::directory_iterator(config.import_dir(), ec)) {
      const fs::path& p = e.path();
      std::string name = p.filename().string();
      if (!e.is_regular_file(ec) || name.empty() || name[0] == '.' || p.extension() != ".csv") {
        continue;
      }
      FileState st{e.file_size(ec), e.last_write_time(ec)};
      if (ec) continue;
      now_seen[p] = st;
      auto it = last_seen.find(p);
      if (it != last_seen.end() && it->second == st) ready.push_back(p);
    }
    last_seen = std::move(now_seen);
    std::sort(ready.begin(), ready.end());
    if (std::chrono::steady_clock::now() < next_import) ready.clear();  // the key service
    for (const fs::path& p : ready) {
      if (stop.stopped()) break;
      const std::string name = p.filename().string();
      absl::StatusOr<ImportResult> r = node->Import(p.string(), /*once=*/true);
      if (!r.ok() && IsKeyServiceError(r.status())) {
        // Not the file's fault: nothing of it was queued; it stays in import_dir and is
        // imported again once the key service answers (the next files wait as well).
        const milliseconds wait = key_service_backoff.Next();
        next_import = std::chrono::steady_clock::now() + wait;
        log.warn("{}: not imported yet: the key service made no tokens ({}: {}); the file "
                 "stays in {}, imported again in {} ms (attempt {})",
                 name, absl::StatusCodeToString(r.status().code()), std::string(r.status().message()),
                 config.import_dir(), wait.count(), key_service_backoff.failures());
        break;
      }
      if (r.ok()) key_service_backoff.Reset();
      fs::path where = p.parent_path() / "done";
      const PreparedReports* report_rows = nullptr;  // with `where` failed/: its report
      if (!r.ok()) {
        if (absl::IsInvalidArgument(r.status()) || absl::IsNotFound(r.status()) ||
            absl::IsFailedPrecondition(r.status())) {
          log.error("{}: not imported: {}; moved to failed/", name, std::string(r.status().message()));
          where = p.parent_path() / "failed";
        } else {
          log.error("{}: import failed, will retry: {}", name, std::string(r.status().message()));
          continue;
        }
      } else if (r->already_imported) {
        log.info("{}: imported before (same content, key epoch {}, profile version {}); not "
                 "imported again",
                 name, node->key_epoch(), node->profile_version());
      } else {
        LogIssues(r->prepared, log, name);
        log.info("{}: {} record(s), {} skipped, {} report(s) queued in {} batch(es){}", name,
                 r->prepared.records_read, r->prepared.skipped.size(), r->reports_queued,
                 r->batches_queued,
                 r->retracted_dropped ? absl::StrCat(", ", r->retracted_dropped,
                                                     " retracted earlier not queued")
                                      : "");
        next_drain = std::min(next_drain, std::chrono::steady_clock::now());
        if (r->prepared.incomplete()) {
          // Never done/: the export did not arrive whole. Its whole records are queued (a
          // corrected export imported later counts them once: same report ids).
          log.error("{}: did not arrive whole: {} record(s) not sent, {} field(s) not used; "
                    "moved to failed/ with {}.report.csv listing the rows (line, record id, "
                    "field, reason)",
                    name, r->prepared.skipped.size(), r->prepared.warnings.size(), name);
          where = p.parent_path() / "failed";
          report_rows = &r->prepared;
        } else if (r->prepared.degraded()) {
          // Every record was queued, some without an identifier that did not parse: not
          // done/ either, so that the identifiers get corrected (a corrected export imported
          // later corrects those reports: same report ids).
          log.error("{}: every record queued, but {} record(s) without {} identifier field(s) "
                    "that did not parse; moved to failed/ with {}.report.csv listing the rows "
                    "(line, record id, field, reason)",
                    name, r->prepared.degraded_records(), r->prepared.warnings.size(), name);
          where = p.parent_path() / "failed";
          report_rows = &r->prepared;
        }
      }
      if (where.filename() == "done" && config.processed_retention_days() == 0) {
        // The export holds identifiers and its reports are durable in the outbox.
        if (absl::Status m = OverwriteAndDelete(p); !m.ok()) {
          log.error("{}", std::string(m.message()));
        } else {
          log.info("{}: overwritten and deleted (processed_retention_days is 0)", name);
        }
      } else if (absl::StatusOr<fs::path> moved = MoveInto(p, where); !moved.ok()) {
        log.error("{}", std::string(moved.status().message()));
      } else if (where.filename() == "failed") {
        if (absl::Status w = WriteFailedReport(*moved, report_rows,
                                               r.ok() ? "" : std::string(r.status().message()));
            !w.ok()) {
          log.error("{}", std::string(w.message()));
        }
      }
      last_seen.erase(p);
    }
    // Processed and failed exports are kept no longer than their retention.
    {
      const fs::path dir(config.import_dir());
      const uint32_t failed_days =
          config.failed_retention_days() == 0 ? 7 : config.failed_retention_days();
      if (int n = PurgeOlderThan(dir / "done", config.processed_retention_days(), log); n > 0) {
        log.info("done/: {} file(s) older than {} day(s) overwritten and deleted", n,
                 config.processed_retention_days());
      }
      if (int n = PurgeOlderThan(dir / "failed", failed_days, log); n > 0) {
        log.info("failed/: {} file(s) older than {} day(s) overwritten and deleted", n, failed_days);
      }
    }

    // 2. Deliver what is queued, unless backing off.
    auto size = node->outbox().Size();
    if (!size.ok()) {
      log.error("{}", std::string(size.status().message()));
    } else if ((size->first > 0 || RetractionsWaiting(node->store())) &&
               std::chrono::steady_clock::now() >= next_drain && !stop.stopped()) {
      absl::StatusOr<SubmitSummary> sum = node->DrainOnce();
      if (sum.ok()) {
        backoff.Reset();
        if (sum->batches_sent > 0) {
          log.info("delivered {} batch(es), {} report(s): {} accepted, {} duplicate(s){}{}, {} "
                   "refused{}",
                   sum->batches_delivered + sum->batches_refused, sum->reports_sent,
                   sum->accepted, sum->duplicates,
                   sum->rekeyed ? absl::StrCat(", ", sum->rekeyed, " now under the new key epoch")
                                : "",
                   sum->corrected ? absl::StrCat(" (", sum->corrected, " corrected)") : "",
                   sum->reports_refused,
                   sum->batches_held ? absl::StrCat(", ", sum->batches_held,
                                                    " batch(es) held in the outbox")
                                     : "");
        }
      } else {
        milliseconds wait = backoff.Next();
        next_drain = std::chrono::steady_clock::now() + wait;
        auto left = node->outbox().Size();
        log.warn("delivery attempt {} failed: {}; {} batch(es) stay queued; retry in {} ms",
                 backoff.failures(), std::string(sum.status().message()), left.ok() ? left->first : -1,
                 wait.count());
      }
    }

    // 3. Sleep until the next scan or retry.
    milliseconds wait = poll;
    auto queued = node->outbox().Size();
    if (queued.ok() && queued->first > 0) {
      auto until = std::chrono::duration_cast<milliseconds>(next_drain -
                                                            std::chrono::steady_clock::now());
      wait = std::clamp(until, milliseconds(1), poll);
    }
    stop.WaitFor(wait);
  }
  auto left = node->outbox().Size();
  log.info("stopping; {} batch(es) queued for the next start", left.ok() ? left->first : -1);
  return absl::OkStatus();
}

absl::Status ServeCommand(const std::string& config_path, spdlog::logger& log) {
  process::DisableCoreDumps();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started after
  ASSIGN_OR_RETURN(v1::NodeConfig config, model::LoadNodeConfig(config_path));
  StopSignal stop;
  std::thread waiter([&stop, &log, set] {
    int sig = 0;
    sigwait(&set, &sig);
    log.info("received {}; finishing the delivery in flight", sig == SIGINT ? "SIGINT" : "SIGTERM");
    stop.Stop();
  });
  absl::Status s = RunDaemon(config, stop, log);
  if (!stop.stopped()) {
    // RunDaemon failed on its own: wake the waiting thread so it can be joined.
    pthread_kill(waiter.native_handle(), SIGTERM);
  }
  waiter.join();
  return s;
}

}  // namespace samenzicht::agency_node
