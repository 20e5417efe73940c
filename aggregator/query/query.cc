#include "aggregator/query/query.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/aggregator_events.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/linkage/probabilistic_linkage.h"
#include "aggregator/query/totals.h"
#include "common/month.h"
#include "common/status_macros.h"
#include "crypto/secret_bytes.h"
#include "model/config.h"
#include "model/vocabulary.h"

namespace samenzicht::aggregator {

namespace {

constexpr char kSettingCellKeySecret[] = "disclosure_cell_key_secret";


// The deployment's cell-key secret: 16 hex digits in the store's settings, made on first use.
absl::StatusOr<uint64_t> CellKeySecret(Store* store) {
  ASSIGN_OR_RETURN(auto settings, store->LoadSettings());
  auto it = settings.find(kSettingCellKeySecret);
  uint64_t secret = 0;
  if (it != settings.end()) {
    if (it->second.size() != 16 || !absl::SimpleHexAtoi(it->second, &secret)) {
      return absl::DataLossError(absl::StrCat("setting ", kSettingCellKeySecret,
                                              " is not 16 hex digits; restore a backup"));
    }
    return secret;
  }
  ASSIGN_OR_RETURN(crypto::SecretBytes random, crypto::SecretBytes::Random(8));
  std::memcpy(&secret, random.unsafe_bytes(), sizeof secret);
  RETURN_IF_ERROR(store->SetSetting(kSettingCellKeySecret, absl::StrFormat("%016x", secret), "",
                                    "", ""));
  return secret;
}

}  // namespace

namespace {

// The linkage's error estimate as published with every overview: whole persons, and one
// sentence in Dutch and English next to the persons figure.
void SetLinkageError(const Snapshot& snap, v1::InsightResponse* resp) {
  if (!snap.linkage_estimated) return;
  v1::LinkageError* e = resp->mutable_linkage_error();
  e->set_available(true);
  const auto twice = static_cast<uint32_t>(std::lround(snap.estimated_missed_links));
  const auto wrong = static_cast<uint32_t>(std::lround(snap.estimated_false_links));
  e->set_persons_maybe_counted_twice(twice);
  e->set_links_maybe_wrong(wrong);
  e->set_sentence(absl::StrCat(
      "Koppelfout (geschat uit het koppelmodel, over alle meldingen): naar schatting ", twice,
      " persoon/personen dubbel geteld en ", wrong,
      " koppeling(en) die twee personen samenvoegen. / Linkage error (estimated from the "
      "linkage model, over all reports): an estimated ", twice,
      " person(s) counted twice and ", wrong, " link(s) joining two persons."));
}

}  // namespace

namespace {

// The settings that add `left` to the departed records of their months (read with `read`, so
// in the transaction that writes them), one write and one audit entry per month and agency;
// a row already recorded is left out. `kept` receives the records added.
absl::StatusOr<std::vector<SettingWrite>> RecordDepartures(const std::vector<Departed>& left,
                                                           const SettingReader& read,
                                                           std::vector<Departed>* kept) {
  std::map<std::pair<uint32_t, std::string>, std::vector<const Departed*>> by;
  for (const Departed& d : left) by[{d.facts.signal_month, d.agency}].push_back(&d);
  std::map<uint32_t, std::vector<Departed>> months;  // month -> its records so far
  std::vector<SettingWrite> out;
  for (const auto& [at, records] : by) {
    const std::string name = absl::StrFormat("%s%06u", kDepartedSettingPrefix, at.first);
    auto month = months.find(at.first);
    if (month == months.end()) {
      ASSIGN_OR_RETURN(std::string value, read(name));
      ASSIGN_OR_RETURN(std::vector<Departed> parsed, ParseDeparted(value));
      month = months.emplace(at.first, std::move(parsed)).first;
    }
    int64_t added = 0;
    for (const Departed* d : records) {
      const bool recorded = std::any_of(month->second.begin(), month->second.end(),
                                        [&](const Departed& o) { return o.row == d->row; });
      if (recorded) continue;
      month->second.push_back(*d);
      if (kept != nullptr) kept->push_back(*d);
      ++added;
    }
    if (added == 0) continue;
    DisclosureDepartureEvent e{.month = MonthText(at.first), .agency = at.second, .reports = added};
    out.push_back(SettingWrite{name, FormatDeparted(month->second), kEventDisclosureDeparture,
                               kActorAggregator, e.ToJson()});
  }
  return out;
}

}  // namespace

class Query::DepartureBook final : public DepartureRecorder {
 public:
  explicit DepartureBook(Query* query) : query_(query) {}

  void BeforeRetraction() override {
    {
      std::lock_guard<std::mutex> lock(query_->mu_);
      if (query_->cached_ != nullptr) return;
    }
    // No snapshot yet (just started): make one, so that the departure can be told.
    absl::Status s = query_->ForQuery().status();
    if (!s.ok()) {
      spdlog::warn("no snapshot before a retraction; its departures are recorded by the next "
                   "snapshot: {}", s.ToString());
    }
  }

  absl::StatusOr<std::vector<SettingWrite>> Leaving(const std::vector<int64_t>& rows,
                                                    const SettingReader& read) override {
    std::shared_ptr<const Snapshot> basis;
    {
      std::lock_guard<std::mutex> lock(query_->mu_);
      basis = query_->cached_;
    }
    if (basis == nullptr || basis->in_frozen_place.empty()) return std::vector<SettingWrite>{};
    const absl::flat_hash_set<int64_t> leaving(rows.begin(), rows.end());
    const std::vector<Departed> left =
        DeparturesOf(basis->dataset, basis->link, basis->keys, basis->in_frozen_place, leaving,
                     {});
    return RecordDepartures(left, read, nullptr);
  }

 private:
  Query* const query_;
};

absl::StatusOr<std::unique_ptr<Query>> Query::New(const v1::AggregatorConfig& config,
                                                  const v1::LinkageProfile& profile,
                                                  Store* store) {
  return New(config, profile, store, QueryOptions());
}

absl::StatusOr<std::unique_ptr<Query>> Query::New(const v1::AggregatorConfig& config,
                                                  const v1::LinkageProfile& profile,
                                                  Store* store, const QueryOptions& options) {
  if (store == nullptr) return absl::InvalidArgumentError("query needs a store");
  std::map<std::string, int> domains;
  for (const auto& a : config.agencies()) domains[a.node_id()] = a.domain();
  std::unique_ptr<Query> q(
      new Query(store, std::move(domains), profile, model::MaxReportsPerToken(profile),
                config.min_cell_size() == 0 ? kDefaultMinCellSize : config.min_cell_size()));
  // The differencing history belongs to the old suppression only.
  ASSIGN_OR_RETURN(q->history_,
                   QueryHistory::Open(config.data_dir().empty() ||
                                              options.method != DisclosureMethod::kSuppression
                                          ? std::string()
                                          : config.data_dir() + "/query_history.tsv"));
  q->estimator_ = DefaultEstimator();
  q->options_ = options;
  q->cell_key_.k = q->k_;
  q->cell_key_.max_noise = options.max_noise;
  if (options.method == DisclosureMethod::kCellKey) {
    ASSIGN_OR_RETURN(q->cell_key_.secret, CellKeySecret(store));
    if (options.release_freeze) {
      q->departure_book_ = std::make_shared<DepartureBook>(q.get());
      store->SetDepartureRecorder(q->departure_book_.get());
    }
  }
  return q;
}

Query::~Query() {
  if (departure_book_ != nullptr) store_->ClearDepartureRecorder(departure_book_.get());
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (background_.joinable()) background_.join();
}

bool Query::CachedIsCurrent() const {
  return cached_ != nullptr && cached_->generation == store_->generation() &&
         cached_->now_month == NowMonth();
}

void Query::Publish(std::shared_ptr<const Snapshot> snap) {
  ++preparations_;
  if (cached_ == nullptr || snap->generation > cached_->generation ||
      (snap->generation == cached_->generation && snap->now_month != cached_->now_month)) {
    cached_ = std::move(snap);
  }
}

uint64_t Query::preparations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return preparations_;
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Query::Current() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (CachedIsCurrent()) return cached_;
    if (!preparing_) {
      preparing_ = true;
      lock.unlock();
      absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Prepare();
      lock.lock();
      preparing_ = false;
      if (snap.ok()) Publish(*snap);
      cv_.notify_all();
      // A fresh read returns what it prepared: the store may have moved on meanwhile, but
      // the snapshot holds every change committed before this call began.
      return snap;
    }
    cv_.wait(lock);
  }
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Query::LastComplete() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ != nullptr) {
      if (!CachedIsCurrent() && !preparing_) {
        kicked_ = true;
        cv_.notify_all();
      }
      if (!background_.joinable() && !stopping_) {
        background_ = std::thread([this] { BackgroundLoop(); });
      }
      return cached_;
    }
  }
  return Current();  // the first snapshot: nothing older to answer from
}

void Query::StartBackground() {
  if (options_.freshness != Freshness::kLastComplete) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (!background_.joinable() && !stopping_) {
    kicked_ = true;
    background_ = std::thread([this] { BackgroundLoop(); });
  }
}

void Query::BackgroundLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, kPollInterval, [this] { return stopping_ || kicked_; });
    if (stopping_) break;
    kicked_ = false;
    if (preparing_ || CachedIsCurrent()) continue;
    const uint64_t generation = store_->generation();
    if (generation == failed_generation_) continue;  // retried when the store changes
    preparing_ = true;
    lock.unlock();
    absl::StatusOr<std::shared_ptr<const Snapshot>> snap = Prepare();
    lock.lock();
    preparing_ = false;
    if (snap.ok()) {
      Publish(*std::move(snap));
      failed_generation_ = UINT64_MAX;
    } else {
      failed_generation_ = generation;
      spdlog::error("snapshot of store generation {} not prepared; queries are answered from "
                    "the previous one: {}", generation, snap.status().ToString());
    }
    cv_.notify_all();
  }
}

namespace {

constexpr char kSettingPersonIdExceptions[] = "linkage_person_id_exceptions";

// The setting's value: per exception its row and id, 16 hex digits each.
std::string FormatExceptions(const RowPersonIds& e) {
  std::string out;
  out.reserve(e.rows.size() * 32);
  for (size_t i = 0; i < e.rows.size(); ++i) {
    absl::StrAppend(&out, absl::StrFormat("%016x%016x", static_cast<uint64_t>(e.rows[i]), e.ids[i]));
  }
  return out;
}

absl::StatusOr<RowPersonIds> ParseExceptions(const std::string& value) {
  const absl::Status malformed = absl::DataLossError(
      absl::StrCat("setting ", kSettingPersonIdExceptions, " is malformed; restore a backup"));
  if (value.size() % 32 != 0) return malformed;
  RowPersonIds out;
  for (size_t i = 0; i < value.size(); i += 32) {
    uint64_t row = 0, id = 0;
    if (!absl::SimpleHexAtoi(absl::string_view(value.data() + i, 16), &row) ||
        !absl::SimpleHexAtoi(absl::string_view(value.data() + i + 16, 16), &id) || row == 0 ||
        id == 0 || (!out.rows.empty() && static_cast<int64_t>(row) <= out.rows.back())) {
      return malformed;
    }
    out.rows.push_back(static_cast<int64_t>(row));
    out.ids.push_back(id);
  }
  return out;
}

}  // namespace

absl::Status Query::AssignStableIds(Snapshot& snap, const Snapshot* previous) {
  const std::vector<int64_t>& rows = snap.dataset.rows;
  if (rows.size() != snap.link.person.size()) return absl::OkStatus();  // not from a store
  if (!saved_exceptions_.has_value()) {
    ASSIGN_OR_RETURN(auto settings, store_->LoadSettings());
    auto it = settings.find(kSettingPersonIdExceptions);
    if (it == settings.end()) {
      saved_exceptions_.emplace();
    } else {
      ASSIGN_OR_RETURN(saved_exceptions_, ParseExceptions(it->second));
    }
  }
  PersonIdsView from = saved_exceptions_->view();
  if (previous != nullptr && previous->person_id.size() == previous->dataset.rows.size()) {
    from = {previous->dataset.rows, previous->person_id};
  }
  PersonIds ids = AssignPersonIds(rows, snap.link, from);
  spdlog::info("person ids: {} kept, {} retired by merges, {} new", ids.carried, ids.merged,
               ids.fresh);
  RowPersonIds exceptions = Exceptions(rows, snap.link, ids);
  if (exceptions.rows != saved_exceptions_->rows || exceptions.ids != saved_exceptions_->ids) {
    RETURN_IF_ERROR(store_->SetSetting(kSettingPersonIdExceptions, FormatExceptions(exceptions),
                                       "", "", ""));
    saved_exceptions_ = std::move(exceptions);
  }
  snap.person_id = std::move(ids.of_report);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Query::ForQuery() {
  if (options_.freshness == Freshness::kLastComplete) return LastComplete();
  return Current();
}

absl::StatusOr<std::shared_ptr<const Snapshot>> Query::Prepare() {
  if (options_.before_prepare) options_.before_prepare();
  std::shared_ptr<const Snapshot> previous;
  {
    std::lock_guard<std::mutex> lock(mu_);
    previous = cached_;
  }
  const uint64_t generation = store_->generation();
  const uint32_t now_month = NowMonth();
  auto snap = std::make_shared<Snapshot>();
  snap->generation = generation;
  snap->now_month = now_month;
  ASSIGN_OR_RETURN(snap->dataset, store_->LoadDataset([this](const std::string& agency) {
    auto it = domains_.find(agency);
    return it == domains_.end() ? 0 : it->second;
  }));
  // Which agency sent each report (for "known to 1, 2, 3+ agencies"), as the overview takes it.
  snap->agency_of_report.reserve(snap->dataset.reports.size());
  for (const ReportFacts& f : snap->dataset.reports) snap->agency_of_report.push_back(f.agency);
  // Under the release freeze the linkage is made from the published reports' tokens only
  // (PublishedTokens): a report that is not published joins no two published ones.
  const bool freeze = options_.method == DisclosureMethod::kCellKey && options_.release_freeze;
  ReleaseState release;
  TokenTable published_tokens;
  if (freeze) {
    ASSIGN_OR_RETURN(release, FreezeReleases(*snap));
    published_tokens = PublishedTokens(snap->dataset, release);
  }
  {
    ProbabilisticLinkResult linked = LinkWithProfile(
        static_cast<uint32_t>(snap->dataset.reports.size()),
        freeze ? published_tokens : snap->dataset.tokens, profile_, snap->dataset.rules);
    snap->link = std::move(linked.link);
    RETURN_IF_ERROR(AssignStableIds(*snap, previous.get()));
    snap->linkage_estimated = profile_.method() == v1::LINKAGE_METHOD_FELLEGI_SUNTER;
    snap->estimated_missed_links = linked.estimated_missed_links;
    snap->estimated_false_links = linked.estimated_false_links;
    if (snap->linkage_estimated) {
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
  if (options_.method == DisclosureMethod::kCellKey) {
    if (freeze) {
      ApplyReleases(*snap, release);
      RETURN_IF_ERROR(KeepDepartures(*snap, previous.get(), release));
    } else {
      snap->keys = ComputeRecordKeys(snap->dataset, snap->link, cell_key_);
    }
    snap->totals_index = TotalsIndex::Build(snap->dataset, snap->link, &snap->keys);
  } else {
    snap->totals_index = TotalsIndex::Build(snap->dataset, snap->link);
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

const char* FrontEndName(FrontEnd f) {
  switch (f) {
    case FrontEnd::kGrpc: return "grpc";
    case FrontEnd::kDashboard: return "dashboard";
    case FrontEnd::kOfflineReport: return "report (in-process)";
  }
  return "unknown";
}

namespace {

// The withheld cells of a suppressed totals table (primary and secondary).
size_t WithheldCells(const v1::TotalsResponse& r) {
  size_t n = 0;
  auto add = [&n](const v1::Count& c) { n += (c.suppressed() || c.secondary()) ? 1 : 0; };
  for (const auto& row : r.rows()) {
    add(row.persons());
    add(row.signals());
  }
  add(r.total_persons());
  add(r.total_signals());
  add(r.unlinkable_signals());
  return n;
}

}  // namespace

absl::Status Query::Admit(const rpc::Peer& peer, const std::string& asked, FrontEnd via) {
  return AdmitAnalyst(peer, via, asked, asked, 0, 0);
}

absl::Status Query::AdmitAnalyst(const rpc::Peer& peer, FrontEnd via, const std::string& view,
                                 const std::string& what, uint32_t from, uint32_t to) {
  if (peer.role == rpc::Role::kAnalyst) return absl::OkStatus();
  absl::Status denied = absl::PermissionDeniedError(
      absl::StrCat("only the municipality analyst may query ", what, "; caller has role ",
                   rpc::RoleName(peer.role)));
  (void)AuditQuery(peer, via, view, "", from, to, denied, 0);  // refused either way
  return denied;
}

absl::StatusOr<v1::TotalsResponse> Query::Totals(const rpc::Peer& peer,
                                                 const v1::TotalsRequest& request,
                                                 FrontEnd via) {
  RETURN_IF_ERROR(
      AdmitAnalyst(peer, via, "totals", "totals", request.from_month(), request.to_month()));
  std::string by;
  for (int d : request.by()) {
    absl::StrAppend(&by, by.empty() ? "" : ",",
                    model::DimensionName(static_cast<v1::Dimension>(d)));
  }
  absl::StatusOr<v1::TotalsResponse> resp;
  if (options_.method == DisclosureMethod::kCellKey) {
    resp = PerturbedTotals(request);
  } else {
    resp = SuppressedTotals(peer, request);
  }
  const size_t cells = !resp.ok() ? 0
                       : options_.method == DisclosureMethod::kCellKey
                           ? static_cast<size_t>(resp->rows_size()) * 2 + 3
                           : WithheldCells(*resp);
  RETURN_IF_ERROR(AuditQuery(peer, via, "totals", by, request.from_month(), request.to_month(),
                             resp.status(), cells));
  return resp;
}

absl::StatusOr<v1::TotalsResponse> Query::SuppressedTotals(const rpc::Peer& peer,
                                                           const v1::TotalsRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snap, ForQuery());
  // The same result as ComputeTotals, from the snapshot's index when it can.
  ASSIGN_OR_RETURN(RawTotals raw,
                   snap->totals_index->RawTotalsFor(snap->dataset, snap->link, request));
  v1::TotalsResponse resp = ProtectTotals(raw, k_);
  resp.set_from_month(request.from_month());
  resp.set_to_month(request.to_month());
  AskedQuery asked{peer.common_name, {}, request.from_month(), request.to_month(),
                   absl::ToUnixSeconds(absl::Now())};
  for (int d : request.by()) asked.by.push_back(static_cast<v1::Dimension>(d));
  RETURN_IF_ERROR(CheckAndRecord(*snap, {asked}));
  return resp;
}

uint32_t Query::NowMonth() const {
  if (options_.now_month != 0) return options_.now_month;
  return Month::Now().yyyymm();
}

namespace {

// A frozen month's setting: its reports' keys (16 hex digits each), then, for the months
// frozen since rows are kept, "/" and per report its store row and key (16 + 16 hex digits),
// or, for the months frozen since versions are kept, "|" and per report its store row, key
// and version (16 + 16 + 8 hex digits).
absl::Status ParseFrozen(const std::string& name, const std::string& value,
                         std::vector<uint64_t>& keys, std::optional<FrozenRows>& rows) {
  const absl::Status malformed =
      absl::DataLossError(absl::StrCat("setting ", name, " is malformed; restore a backup"));
  const size_t bar = value.find('|');
  const size_t slash = bar != std::string::npos ? bar : value.find('/');
  const size_t width = bar != std::string::npos ? 40 : 32;
  const std::string_view key_text = std::string_view(value).substr(0, slash);
  auto hex = [](std::string_view text, uint64_t& out) {
    return absl::SimpleHexAtoi(absl::string_view(text.data(), text.size()), &out);
  };
  if (key_text.size() % 16 != 0) return malformed;
  for (size_t i = 0; i < key_text.size(); i += 16) {
    uint64_t k = 0;
    if (!hex(key_text.substr(i, 16), k)) return malformed;
    keys.push_back(k);
  }
  if (slash == std::string::npos) return absl::OkStatus();
  const std::string_view row_text = std::string_view(value).substr(slash + 1);
  if (row_text.size() % width != 0) return malformed;
  rows.emplace();
  for (size_t i = 0; i < row_text.size(); i += width) {
    uint64_t row = 0, k = 0, version = 0;
    if (!hex(row_text.substr(i, 16), row) || !hex(row_text.substr(i + 16, 16), k) ||
        (width == 40 && (!hex(row_text.substr(i + 32, 8), version) || version > UINT32_MAX))) {
      return malformed;
    }
    rows->push_back(FrozenRow{static_cast<int64_t>(row), k, static_cast<uint32_t>(version)});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ReleaseState> Query::FreezeReleases(const Snapshot& snap) {
  constexpr char kPrefix[] = "disclosure_release_";
  ASSIGN_OR_RETURN(auto settings, store_->LoadSettings());
  std::map<uint32_t, std::vector<uint64_t>> frozen;
  std::map<uint32_t, FrozenRows> frozen_rows;
  for (const auto& [name, value] : settings) {
    if (name.rfind(kPrefix, 0) != 0) continue;
    uint32_t month = 0;
    if (!absl::SimpleAtoi(name.substr(sizeof kPrefix - 1), &month) || !IsValidMonth(month)) {
      return absl::DataLossError(absl::StrCat("setting ", name, " is malformed; restore a backup"));
    }
    std::optional<FrozenRows> rows;
    RETURN_IF_ERROR(ParseFrozen(name, value, frozen[month], rows));
    if (rows.has_value()) frozen_rows[month] = std::move(*rows);
  }
  // Report keys do not depend on the linkage.
  const RecordKeys all = ComputeRecordKeys(snap.dataset, LinkResult{}, cell_key_);
  ReleaseState state = Release(snap.dataset, all.report, std::move(frozen), snap.now_month,
                               options_.grace_months, std::move(frozen_rows));
  auto write = [&](uint32_t month, bool completed) -> absl::Status {
    std::string value;
    for (uint64_t k : state.frozen[month]) absl::StrAppend(&value, absl::StrFormat("%016x", k));
    const int64_t reports = static_cast<int64_t>(value.size() / 16);
    if (auto rows = state.frozen_rows.find(month); rows != state.frozen_rows.end()) {
      value += "|";
      for (const FrozenRow& f : rows->second) {
        absl::StrAppend(&value, absl::StrFormat("%016x%016x%08x", static_cast<uint64_t>(f.row),
                                                f.key, f.version));
      }
    }
    DisclosureReleaseEvent e{.month = MonthText(month), .reports = reports};
    // A December's release is also the scheduled revision of its year (RevisedThrough).
    if (!completed && Month(month).month() == 12) e.revises = absl::StrCat(Month(month).year());
    if (completed) e.completed = "rows and versions";
    return store_->SetSetting(absl::StrFormat("%s%06u", kPrefix, month), value,
                              kEventDisclosureRelease, kActorAggregator, e.ToJson());
  };
  for (uint32_t month : state.newly_frozen) RETURN_IF_ERROR(write(month, false));
  // Months frozen before rows or versions were kept get them now (CompleteFrozenRows).
  const std::vector<uint32_t> completed = CompleteFrozenRows(snap.dataset, all.report, state);
  if (!completed.empty()) {
    for (uint32_t month : completed) RETURN_IF_ERROR(write(month, true));
    std::vector<uint32_t> newly = std::move(state.newly_frozen);
    state = Release(snap.dataset, all.report, std::move(state.frozen), snap.now_month,
                    options_.grace_months, std::move(state.frozen_rows));
    state.newly_frozen = std::move(newly);
  }
  return state;
}

void Query::ApplyReleases(Snapshot& snap, const ReleaseState& state) {
  // Reports of months after the last revised year are provisional persons of their own.
  snap.revised_through = RevisedThrough(state.last_released);
  snap.link = ProvisionalLink(snap.dataset, snap.link, state.publishable, snap.revised_through);
  snap.keys = ComputeRecordKeys(snap.dataset, snap.link, cell_key_, &state.publishable,
                                &state.pinned_key, &state.corrected);
  for (size_t r = 0; r < snap.dataset.reports.size(); ++r) {
    if (!state.publishable[r]) snap.dataset.reports[r].signal_month = 0;
    snap.latest_published = std::max(snap.latest_published, snap.dataset.reports[r].signal_month);
  }
  snap.first_released = state.first_released;
  snap.last_released = state.last_released;
}

absl::Status Query::KeepDepartures(Snapshot& snap, const Snapshot* previous,
                                   const ReleaseState& state) {
  snap.in_frozen_place = state.in_place;
  ASSIGN_OR_RETURN(auto settings, store_->LoadSettings());
  std::map<uint32_t, std::vector<Departed>> departed;  // month -> its departed reports
  absl::flat_hash_set<int64_t> known;
  const std::string prefix = kDepartedSettingPrefix;
  for (const auto& [name, value] : settings) {
    if (name.rfind(prefix, 0) != 0) continue;
    uint32_t month = 0;
    if (!absl::SimpleAtoi(name.substr(prefix.size()), &month) || !IsValidMonth(month)) {
      return absl::DataLossError(absl::StrCat("setting ", name, " is malformed; restore a backup"));
    }
    ASSIGN_OR_RETURN(departed[month], ParseDeparted(value));
    for (const Departed& d : departed[month]) known.insert(d.row);
  }
  if (previous != nullptr && !previous->in_frozen_place.empty()) {
    // Normally none: a retraction or correction records its departures itself
    // (DepartureBook); this catches the rest (no snapshot when it committed, or one that did
    // not know the report's place yet).
    std::vector<Departed> left =
        Departures(previous->dataset, previous->link, previous->keys, previous->in_frozen_place,
                   snap.dataset, state, known);
    if (!left.empty()) {
      std::vector<Departed> kept;
      RETURN_IF_ERROR(store_->UpdateSettings(
          [&](const SettingReader& read) { return RecordDepartures(left, read, &kept); }));
      for (Departed& d : kept) departed[d.facts.signal_month].push_back(std::move(d));
    }
  }
  std::vector<Departed> all;
  for (const auto& [month, records] : departed) {
    // Only the released months' (a month's records are kept until the retention purge).
    if (state.last_released == 0 || month > state.last_released) continue;
    all.insert(all.end(), records.begin(), records.end());
  }
  if (all.empty()) return absl::OkStatus();
  auto world = std::make_shared<KeyWorld>(BuildKeyWorld(snap.dataset, snap.link, snap.keys,
                                                        state.publishable, all, cell_key_));
  snap.key_world_index = TotalsIndex::Build(world->dataset, world->link, &world->keys);
  snap.key_world = std::move(world);
  return absl::OkStatus();
}

absl::StatusOr<std::pair<uint32_t, uint32_t>> Query::PublishedPeriod(const Snapshot& snap,
                                                                     uint32_t from,
                                                                     uint32_t to) const {
  RETURN_IF_ERROR(CheckGridPeriod(from, to));
  if (!options_.release_freeze) return std::make_pair(from, to);
  if (from == 0 && to == 0) {
    if (snap.first_released == 0) {
      return WithRefusal(
          absl::FailedPreconditionError(
              "no month is released yet: figures for a month are published from the first day "
              "of the second month after it"),
          Refusal{"refusedNothingReleased", {}, {}});
    }
    // The latest year with published signals, to its last released June or December: never
    // a period across years, nor one ending every month (LatestPeriod).
    return LatestPeriod(snap.first_released, snap.last_released, snap.latest_published,
                        options_.grace_months);
  }
  RETURN_IF_ERROR(CheckReleased(from, to, snap.now_month, options_.grace_months));
  return std::make_pair(from, to);
}

CellKeyParams Query::EditionParams(const Snapshot& snap, uint32_t from, uint32_t to) const {
  CellKeyParams p = cell_key_;
  if (options_.release_freeze) {
    p.edition = ProvisionalEdition(from, to, snap.revised_through, snap.latest_published);
  }
  return p;
}

absl::StatusOr<v1::TotalsResponse> Query::PerturbedTotals(const v1::TotalsRequest& request) {
  RETURN_IF_ERROR(CheckTotalsRequest(request).status());
  RETURN_IF_ERROR(CheckGridPeriod(request.from_month(), request.to_month()));
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snap, ForQuery());
  ASSIGN_OR_RETURN(auto period, PublishedPeriod(*snap, request.from_month(), request.to_month()));
  v1::TotalsRequest published = request;
  published.set_from_month(period.first);
  published.set_to_month(period.second);
  ASSIGN_OR_RETURN(RawTotals raw,
                   snap->totals_index->RawTotalsFor(snap->dataset, snap->link, published));
  if (snap->key_world != nullptr) {
    ASSIGN_OR_RETURN(RawTotals keyed,
                     snap->key_world_index->RawTotalsFor(snap->key_world->dataset,
                                                         snap->key_world->link, published));
    TakeCellKeys(raw, keyed);
  }
  v1::TotalsResponse out = PerturbTotals(raw, EditionParams(*snap, period.first, period.second));
  out.set_from_month(period.first);
  out.set_to_month(period.second);
  return out;
}

absl::Status Query::AuditQuery(const rpc::Peer& peer, FrontEnd via, const std::string& view,
                               const std::string& by, uint32_t from, uint32_t to,
                               const absl::Status& outcome, size_t cells) {
  const bool cell_key = options_.method == DisclosureMethod::kCellKey;
  QueryEvent e{.role = rpc::RoleName(peer.role),
               .via = FrontEndName(via),
               .view = view,
               .by = by,
               .from = MonthText(from),
               .to = MonthText(to),
               .method = cell_key ? "cell_key" : "suppression",
               .answered = outcome.ok()};
  if (cell_key) {
    e.perturbed_cells = static_cast<int64_t>(cells);
  } else {
    e.suppressed = static_cast<int64_t>(cells);  // what the audit report sums per month
  }
  if (!outcome.ok()) e.refused = absl::StatusCodeToString(outcome.code());
  absl::Status s = store_->AppendAudit(kEventQuery, peer.common_name, e.ToJson());
  spdlog::info("{} via {} analyst={} by={} from={} to={} answered={}", view, FrontEndName(via),
               peer.common_name, by.empty() ? "-" : by, from, to, outcome.ok());
  if (!s.ok()) {
    spdlog::error("audit: query entry not written: {}", s.ToString());
    return absl::Status(s.code(), absl::StrCat("the query was not answered because its audit "
                                               "entry could not be written: ", s.message()));
  }
  return absl::OkStatus();
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
                                                   const v1::InsightRequest& request,
                                                   FrontEnd via) {
  RETURN_IF_ERROR(AdmitAnalyst(peer, via, "insight", "the overview", request.from_month(),
                               request.to_month()));
  absl::StatusOr<v1::InsightResponse> resp = ComputeOverview(peer, request);
  size_t cells = 0;
  if (resp.ok()) {
    cells = options_.method == DisclosureMethod::kCellKey
                ? 4 + static_cast<size_t>(resp->agency_counts_size() + resp->overlap_size() +
                                          2 * resp->trend_size())
                : SuppressedCells(*resp).size();
  }
  RETURN_IF_ERROR(AuditQuery(peer, via, "insight", "", request.from_month(), request.to_month(),
                             resp.status(), cells));
  return resp;
}

absl::StatusOr<v1::InsightResponse> Query::ComputeOverview(const rpc::Peer& peer,
                                                           const v1::InsightRequest& request) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Snapshot> snap, ForQuery());
  // The estimate is slow (a bootstrap): cache it per store generation and period.
  Estimator cached = nullptr;
  if (estimator_) {
    cached = [this, snap, &request](const CaptureHistories& h) {
      return estimates_.Get({snap->generation, request.from_month(), request.to_month()},
                            [&] {
                              // The linkage's own error estimate, scaled to the persons in
                              // the table, goes into the estimate's interval.
                              CaptureHistories with_error = h;
                              if (snap->linkage_estimated && snap->link.persons > 0) {
                                double seen = 0;
                                for (int64_t c : h.counts) seen += static_cast<double>(c);
                                const double share = seen / snap->link.persons;
                                with_error.missed_links = snap->estimated_missed_links * share;
                                with_error.false_links = snap->estimated_false_links * share;
                              }
                              return estimator_(with_error);
                            });
    };
  }
  if (options_.method == DisclosureMethod::kCellKey) {
    ASSIGN_OR_RETURN(auto period,
                     PublishedPeriod(*snap, request.from_month(), request.to_month()));
    v1::InsightRequest published = request;
    published.set_from_month(period.first);
    published.set_to_month(period.second);
    const CellKeyParams params = EditionParams(*snap, period.first, period.second);
    ASSIGN_OR_RETURN(v1::InsightResponse resp,
                     ComputeInsight(snap->dataset, snap->link, snap->agency_of_report, published,
                                    k_, cached, &snap->keys, &params,
                                    snap->key_world.get()));
    // The capture histories are exact: publish the perturbed total as `observed`.
    resp.mutable_estimate()->set_observed(resp.total_persons().value());
    SetLinkageError(*snap, &resp);
    return resp;
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
  SetLinkageError(*snap, &resp);
  return resp;
}

}  // namespace samenzicht::aggregator
