// Query logic: deduplicated totals for the municipality analyst. The gRPC service
// (server/query_service.h) is a thin adapter over this class.
//
//   ASSIGN_OR_RETURN(auto query, Query::New(config, profile, store.get()));
//   ASSIGN_OR_RETURN(v1::TotalsResponse r, query->Totals(peer, request));
//
// Every count is protected by the Cell Key Method on the release grid by default
// (QueryOptions, docs/disclosure.md). Only the analyst role may ask (PermissionDenied for
// agency, privacy officer and admin: an agency that could query could learn whether another agency reported a person by
// submitting a guess and watching a total change).
//
// This class is the one place that checks the caller's role, applies disclosure control and
// writes the audit entry, for every front end (gRPC, dashboard, in-process report): every
// answered and every refused query leaves an entry "query" in the store's audit trail (when
// the store has one attached, as every serving and reporting path does).
//
// The stored reports are loaded and linked into a Snapshot (immutable, held by shared_ptr)
// once per store generation; a query against an unchanged store only counts. What a query
// sees after the store changed depends on QueryOptions::freshness:
//  - Freshness::kCurrent (the default; tests, offline tools, `background_linkage: false`):
//    a query waits until a snapshot of the store's current generation (and month) exists,
//    so it sees every change committed before it began. At 10 million reports that wait
//    is a full load and re-link (about 20 s).
//  - Freshness::kLastComplete (the server with `background_linkage: true`): a query never
//    waits for linkage. It is answered from the last complete snapshot, and a background
//    preparer (one thread, one preparation at a time) makes the next one: it notices a new
//    store generation or month within kPollInterval, or at once when a query finds the
//    snapshot stale, and one preparation covers every change committed before it began
//    (changes that arrive while it runs are coalesced into the next one). So a query sees
//    every change acknowledged before the start of the last completed preparation; a
//    change becomes visible at most about two preparation times (plus kPollInterval) after
//    its acknowledgement. Only the very first query of a Query waits, for the first
//    snapshot, unless StartBackground() made it already.
// Both modes give identical figures for the same snapshot: the snapshot is always a full
// load and link of the store at one generation. Returns PermissionDenied, InvalidArgument
// (see ComputeTotals), or the store's errors.
//
// Thread-safety: thread-safe; queries run concurrently with each other and with the
// preparation of a snapshot (snapshots are shared read-only).
#ifndef SAMENZICHT_AGGREGATOR_QUERY_QUERY_H_
#define SAMENZICHT_AGGREGATOR_QUERY_QUERY_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "aggregator/query/disclosure.h"
#include "aggregator/query/estimate_cache.h"
#include "aggregator/query/insight.h"
#include "aggregator/linkage/linkage.h"
#include "aggregator/linkage/person_ids.h"
#include "aggregator/query/query_history.h"
#include "aggregator/store/store.h"
#include "aggregator/query/totals_index.h"
#include "rpc/peer.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/profile.pb.h"
#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

// The stored reports and their linkage at one store generation.
struct Snapshot {
  uint64_t generation = 0;
  Dataset dataset;
  LinkResult link;
  // Columnar index answering every totals query (whole history or a period),
  // built with `link`.
  std::shared_ptr<const TotalsIndex> totals_index;
  // Per report: its agency's number (ReportFacts::agency: 1 + index into
  // `dataset.agencies`, every agency numbered). Used to count persons known to 1, 2, 3+
  // agencies.
  std::vector<AgencyIndex> agency_of_report;
  // Record keys of the Cell Key Method (disclosure.h); empty under suppression.
  RecordKeys keys;
  // The release freeze (disclosure.h): the month the snapshot was made in, and the first and
  // last released months (0: none). Reports that are not publishable have their month set
  // to 0 in `dataset`, so they fall outside every bounded period.
  uint32_t now_month = 0;
  uint32_t first_released = 0, last_released = 0;
  // The December of the last revised year (RevisedThrough, disclosure.h); `link` is the
  // published linkage (ProvisionalLink): one provisional person per month after it.
  uint32_t revised_through = 0;
  uint32_t latest_published = 0;  // the latest month of a publishable report (0: none)
  // Per report: in the place it was frozen in (ReleaseState::in_place), so that the next
  // snapshot can tell the reports that left it (Departures, disclosure.h).
  std::vector<bool> in_frozen_place;
  // The key world (BuildKeyWorld, disclosure.h) and its index when reports have left their
  // frozen places; null otherwise. Every published cell takes its key from it.
  std::shared_ptr<const KeyWorld> key_world;
  std::shared_ptr<const TotalsIndex> key_world_index;
  // The stable id of each report's person (aggregator/linkage/person_ids.h), by report
  // like `dataset.rows`, for the linkage made before the release freeze's provisional
  // persons (under the freeze: of the published reports' tokens, so a report held back is
  // a person of its own until it is published). Kept across snapshots and restarts; never
  // published (no response carries it).
  std::vector<uint64_t> person_id;
  // The linkage's own error estimate (probabilistic_linkage.h); `linkage_estimated` is false
  // for a profile without probabilistic linkage.
  bool linkage_estimated = false;
  double estimated_missed_links = 0, estimated_false_links = 0;
};

// How published counts are protected (docs/disclosure.md).
enum class DisclosureMethod {
  // The old threshold rule plus secondary suppression, and the per-analyst differencing
  // check (query_history.h) that refuses overlapping periods. It does NOT withstand the
  // attacker of docs/disclosure.md (withheld cells follow from margins, insert-and-watch is
  // exact); kept only for the tests that show those attacks and for the suppression unit
  // tests. Exact counts for checking ingestion come from `aggregator exact-totals`
  // (exact_totals.h), never from the query service.
  kSuppression,
  // The default: the Cell Key Method on the release grid with the release freeze. Every
  // count perturbed consistently, nothing withheld, no lock-out; every answer and every
  // refusal written to the audit trail by the query layer.
  kCellKey,
};

// The defaults are what every path that publishes uses (the gRPC query service and so the
// CLI, the dashboard and the council report, and the in-process `aggregator report`); the
// deployment sets k with `min_cell_size`.
// The front end a query came through; written into its audit entry as "via".
enum class FrontEnd {
  kGrpc,           // the gRPC query service (`aggregator totals`, the report with a client
                   // configuration)
  kDashboard,      // the analyst's web dashboard
  kOfflineReport,  // `aggregator report` run in-process on the aggregator host
};
const char* FrontEndName(FrontEnd f);

// Which snapshot a query is answered from (see the top of this file).
enum class Freshness {
  kCurrent,       // one of the store's current generation: wait for its preparation
  kLastComplete,  // the last complete one, without waiting (except for the first)
};

struct QueryOptions {
  DisclosureMethod method = DisclosureMethod::kCellKey;
  uint32_t max_noise = 0;  // D of the ptable; 0 = min_cell_size
  // Cell Key Method only: publish a month only once it is released and frozen
  // (disclosure.h, Release), `grace_months` after it closed.
  bool release_freeze = true;
  uint32_t grace_months = 1;
  // The current month (YYYYMM) for tests; 0 = the clock (UTC).
  uint32_t now_month = 0;
  Freshness freshness = Freshness::kCurrent;
  // Tests only: called by every preparation of a snapshot before it reads the store's
  // generation (a test blocks it to hold a preparation in progress). Empty: nothing.
  std::function<void()> before_prepare;
};

class Query {
 public:
  // `store` is not owned and must outlive the Query.
  static absl::StatusOr<std::unique_ptr<Query>> New(const v1::AggregatorConfig& config,
                                                    const v1::LinkageProfile& profile,
                                                    Store* store);
  // With the Cell Key Method the deployment's cell-key secret is read from the store's
  // settings (`disclosure_cell_key_secret`), made at random and stored on first use, so it
  // is part of every backup and a restored aggregator perturbs exactly as before.
  static absl::StatusOr<std::unique_ptr<Query>> New(const v1::AggregatorConfig& config,
                                                    const v1::LinkageProfile& profile,
                                                    Store* store, const QueryOptions& options);

  // Cell Key Method (default): a period on the grid whose months are all released
  // (InvalidArgument naming the grid periods or the release date otherwise), every count
  // perturbed (disclosure.h); answer or refusal written to the audit trail.
  // Suppression (kSuppression only): also refuses (FailedPrecondition) a query that would
  // difference against an earlier query of the same analyst (query_history.h); answered
  // queries are recorded in data_dir/query_history.tsv.
  absl::StatusOr<v1::TotalsResponse> Totals(const rpc::Peer& peer,
                                            const v1::TotalsRequest& request,
                                            FrontEnd via = FrontEnd::kGrpc);

  // The overview (insight.h), same role rule and period rules (under suppression the same
  // differencing check, registered as the totals, by domain and by signal month). The estimate is cached per
  // store generation and period.
  absl::StatusOr<v1::InsightResponse> Insight(const rpc::Peer& peer,
                                              const v1::InsightRequest& request,
                                              FrontEnd via = FrontEnd::kGrpc);

  // The role check every front end uses (Totals and Insight call it too): OK for the
  // analyst; PermissionDenied for every other role, written to the audit trail (event
  // "query", `asked` as the view, the refusal's code) before it is returned. The dashboard
  // calls it for each request, pages included, so a refused page is audited as well.
  absl::Status Admit(const rpc::Peer& peer, const std::string& asked, FrontEnd via);

  uint32_t min_cell_size() const { return k_; }
  DisclosureMethod method() const { return options_.method; }
  const QueryOptions& options() const { return options_; }
  // The ptable's parameters (secret included) under the Cell Key Method.
  const CellKeyParams& cell_key_params() const { return cell_key_; }

  // A snapshot of the store's current generation and month: prepared in this thread if
  // none is, or waits for the preparation under way (then prepares again if the store
  // moved on meanwhile). Whatever `freshness` is; the fresh read of tests and tools.
  absl::StatusOr<std::shared_ptr<const Snapshot>> Current();
  // The last complete snapshot, without waiting, and a background preparation of the next
  // one when it is stale. Waits (as Current) only while no snapshot was ever made.
  absl::StatusOr<std::shared_ptr<const Snapshot>> LastComplete();
  // Starts the background preparer (Freshness::kLastComplete only; idempotent): it makes
  // the first snapshot at once, then follows the store. The server calls it before it
  // listens, so no query waits for the first snapshot either.
  void StartBackground();
  // How often the background preparer looks at the store's generation.
  static constexpr std::chrono::milliseconds kPollInterval{20};
  // Snapshots prepared so far (by any thread), for tests and benchmarks.
  uint64_t preparations() const;

  ~Query();
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

 private:
  Query(Store* store, std::map<std::string, int> domains, v1::LinkageProfile profile,
        uint32_t threshold, uint32_t k)
      : store_(store), domains_(std::move(domains)), profile_(std::move(profile)),
        threshold_(threshold), k_(k) {}
  Store* const store_;
  const std::map<std::string, int> domains_;  // agency node id -> v1::Domain
  const v1::LinkageProfile profile_;          // how reports are linked
  const uint32_t threshold_;                  // max reports per token
  const uint32_t k_;                          // min cell size
  QueryOptions options_;
  CellKeyParams cell_key_;
  // One audit entry per answered or refused query (event "query"), whatever the method:
  // who, through which front end, view, categories, period, method, answered or the
  // refusal's code, and how many cells were perturbed (Cell Key Method) or withheld
  // (suppression). Returns the store's error when the entry cannot be written; an answer
  // that cannot be recorded is then not given.
  absl::Status AuditQuery(const rpc::Peer& peer, FrontEnd via, const std::string& view,
                          const std::string& by, uint32_t from, uint32_t to,
                          const absl::Status& outcome, size_t cells);
  // The role check of Admit, Totals and Insight: OK for the analyst; otherwise
  // PermissionDenied ("only the municipality analyst may query <what>") after the refusal is
  // written to the audit trail with `view` and the asked period.
  absl::Status AdmitAnalyst(const rpc::Peer& peer, FrontEnd via, const std::string& view,
                            const std::string& what, uint32_t from, uint32_t to);
  // The snapshot a query is answered from, by options_.freshness.
  absl::StatusOr<std::shared_ptr<const Snapshot>> ForQuery();
  // Loads and links the store at its current generation (the former body of Current).
  // Called by one thread at a time (preparing_).
  absl::StatusOr<std::shared_ptr<const Snapshot>> Prepare();
  // True when `cached_` is of the store's current generation and month. Needs mu_.
  bool CachedIsCurrent() const;
  // Installs a prepared snapshot unless an equally new one is there. Needs mu_.
  void Publish(std::shared_ptr<const Snapshot> snap);
  void BackgroundLoop();
  // Gives `snap` its stable person ids, continuing those of `previous` (null: those kept in
  // the store's settings), and keeps the exceptions a restart needs in the settings when
  // they changed. Called by the one preparing thread.
  absl::Status AssignStableIds(Snapshot& snap, const Snapshot* previous);
  // The exceptions last read from or written to the settings (nullopt: not read yet);
  // only the preparing thread touches them.
  std::optional<RowPersonIds> saved_exceptions_;
  mutable std::mutex mu_;
  std::condition_variable cv_;                // preparing_ cleared, a snapshot published, kicks
  std::shared_ptr<const Snapshot> cached_;    // guarded by mu_
  bool preparing_ = false;                    // guarded by mu_: a preparation is under way
  bool kicked_ = false;                       // guarded by mu_: a query found cached_ stale
  bool stopping_ = false;                     // guarded by mu_
  uint64_t preparations_ = 0;                 // guarded by mu_
  uint64_t failed_generation_ = UINT64_MAX;   // guarded by mu_: last background failure's
  std::thread background_;                    // StartBackground; joined by the destructor
  // Differencing protection. Check-and-record runs under history_mu_.
  absl::StatusOr<v1::TotalsResponse> PerturbedTotals(const v1::TotalsRequest& request);
  absl::StatusOr<v1::TotalsResponse> SuppressedTotals(const rpc::Peer& peer,
                                                      const v1::TotalsRequest& request);
  // The overview, protected, without the role check and the audit entry.
  absl::StatusOr<v1::InsightResponse> ComputeOverview(const rpc::Peer& peer,
                                                      const v1::InsightRequest& request);
  // The period a Cell Key Method query is answered for: on the grid, released; no period
  // (0, 0) is the latest year with published signals, to its last released June or December
  // (LatestPeriod; FailedPrecondition while none is released since the first).
  // InvalidArgument for a period off the grid or not released yet.
  absl::StatusOr<std::pair<uint32_t, uint32_t>> PublishedPeriod(const Snapshot& snap,
                                                                uint32_t from, uint32_t to) const;
  uint32_t NowMonth() const;
  // The ptable's parameters for the published period `from`..`to` of `snap`: the edition
  // (provisional or final, ProvisionalEdition) set under the release freeze.
  CellKeyParams EditionParams(const Snapshot& snap, uint32_t from, uint32_t to) const;
  // Reads the frozen months from the store's settings, freezes the newly released ones
  // (setting and audit entry in one transaction) and says which reports are publishable.
  absl::StatusOr<ReleaseState> FreezeReleases(const Snapshot& snap);
  // Holds back what is not publishable (`snap.link` made from PublishedTokens).
  void ApplyReleases(Snapshot& snap, const ReleaseState& state);
  // Records the reports that left their frozen places since `previous` (Departures) in the
  // settings `disclosure_departed_YYYYMM`, each month's with a `disclosure_departure` audit
  // entry per agency, and builds the snapshot's key world from every departed record.
  absl::Status KeepDepartures(Snapshot& snap, const Snapshot* previous,
                              const ReleaseState& state);
  // The store's DepartureRecorder under the release freeze: records the departure of each
  // report a retraction or correction takes out of its frozen place (by the last snapshot)
  // in the transaction that does it, so that a restart before the next snapshot loses
  // nothing; before a retraction it makes the first snapshot if there is none.
  class DepartureBook;
  std::shared_ptr<DepartureRecorder> departure_book_;  // a DepartureBook
  absl::Status CheckAndRecord(const Snapshot& snap, const std::vector<AskedQuery>& asked);
  std::unique_ptr<QueryHistory> history_;
  std::mutex history_mu_;
  Estimator estimator_;
  EstimateCache estimates_;  // bounded, one computation at a time (estimate_cache.h)
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_QUERY_H_
