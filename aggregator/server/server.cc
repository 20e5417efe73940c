#include "aggregator/server/server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "audit/aggregator_events.h"
#include "aggregator/admin/audited_store.h"
#include "aggregator/admin/retention.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "model/config.h"
#include "rpc/tls.h"

namespace samenzicht::aggregator {
namespace {

// True when `path` lies inside `dir` (after resolving both).
bool IsInside(const std::string& path, const std::string& dir) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(path, ec);
  auto d = std::filesystem::weakly_canonical(dir, ec);
  auto rel = p.lexically_relative(d);
  return !rel.empty() && *rel.begin() != "..";
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const v1::AggregatorConfig& config) {
  if (config.listen_address().empty()) return absl::InvalidArgumentError("listen_address is empty");
  if (config.store_key_file().empty()) return absl::InvalidArgumentError("store_key_file is empty");
  if (config.profile_file().empty()) return absl::InvalidArgumentError("profile_file is empty");
  if (config.min_cell_size() == 1) {
    return absl::InvalidArgumentError(
        "min_cell_size 1 would publish every count of one person; use 0 (the default) or at "
        "least 2");
  }
  if (IsInside(config.store_key_file(), config.data_dir())) {
    return absl::FailedPreconditionError(absl::StrCat(
        "store_key_file ", config.store_key_file(), " lies inside data_dir ", config.data_dir(),
        "; keep the store key outside the data folder and its backups"));
  }
  std::unique_ptr<Server> s(new Server());
  ASSIGN_OR_RETURN(AuditedStore opened, OpenAuditedStore(config));
  const v1::LinkageProfile& profile = opened.profile;
  spdlog::info("linkage profile '{}' version {} (fingerprint {}); batches of any other profile "
               "are refused", profile.name(), profile.version(),
               crypto::ToHex(model::ProfileFingerprint(profile)).substr(0, 16));
  s->audit_signer_ = std::move(opened.signer);
  s->store_ = std::move(opened.store);
  ASSIGN_OR_RETURN(s->intake_, Intake::New(config, profile, s->store_.get()));
  QueryOptions query_options;
  if (config.background_linkage()) query_options.freshness = Freshness::kLastComplete;
  ASSIGN_OR_RETURN(s->query_, Query::New(config, profile, s->store_.get(), query_options));
  Intake* intake = s->intake_.get();
  ASSIGN_OR_RETURN(s->admin_, Administration::Start(config, s->store_.get(), [intake](uint32_t epoch) {
                     intake->set_key_epoch(epoch);
                   }));
  RETURN_IF_ERROR(s->PurgeNow().status());
  {
    // Before listening, so the first batch does not wait for it (seconds at ten million).
    const auto started = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(size_t ids, s->store_->LoadReportIds());
    spdlog::info("report ids in memory: {} ({} MiB), read in {} ms", ids,
                 s->store_->ReportIdMemoryBytes() >> 20,
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now() - started).count());
  }
  s->query_->StartBackground();  // background_linkage: the first snapshot is made at once
  s->audit_access_ = std::make_unique<AuditAccess>(s->store_.get());
  s->intake_service_ = std::make_unique<IntakeService>(s->intake_.get());
  s->limiter_ = std::make_unique<RateLimiter>(config.max_reports_per_second(),
                                              config.rate_burst_reports());
  s->intake_service_->set_rate_limiter(s->limiter_.get());
  s->shutdown_grace_seconds_ =
      config.shutdown_grace_seconds() == 0 ? 10 : static_cast<int>(config.shutdown_grace_seconds());
  s->query_service_ = std::make_unique<QueryService>(s->query_.get(), s->store_.get());
  s->audit_service_ = std::make_unique<AuditService>(s->audit_access_.get());
  s->admin_service_ = std::make_unique<AdminService>(s->admin_.get());

  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds,
                   rpc::ServerCredentials(config.tls()));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address(), creds, &s->port_);
  // A larger message is refused by gRPC with RESOURCE_EXHAUSTED ("Received message larger
  // than max (N vs. M)"); nodes split their exports into batches well below it. Threads,
  // memory and streams per connection are bounded too (rpc::ServerLimits).
  rpc::ServerLimits limits;
  limits.max_receive_message_bytes =
      config.max_message_bytes() == 0
          ? 16 << 20
          : static_cast<int>(std::min<uint32_t>(config.max_message_bytes(), INT32_MAX));
  rpc::ApplyServerLimits(builder, limits);
  builder.RegisterService(s->intake_service_.get());
  builder.RegisterService(s->query_service_.get());
  builder.RegisterService(s->audit_service_.get());
  builder.RegisterService(s->admin_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", config.listen_address(), " (address in use?)"));
  }
  s->purge_thread_ = std::thread([srv = s.get()] {
    std::unique_lock<std::mutex> lock(srv->purge_mu_);
    while (!srv->purge_cv_.wait_for(lock, std::chrono::hours(1), [srv] { return srv->stopping_; })) {
      lock.unlock();
      if (auto r = srv->PurgeNow(); !r.ok()) spdlog::error("retention purge: {}", r.status().ToString());
      lock.lock();
    }
  });
  spdlog::info("aggregator listening on port {}; state in {}; {} agencies configured", s->port_,
               std::filesystem::absolute(s->store_->path()).string(), config.agencies_size());
  return s;
}

absl::StatusOr<PurgeResult> Server::PurgeNow() {
  if (admin_ == nullptr) return PurgeResult{};
  return RunPurge(store_.get(), admin_->retention_months(), CurrentMonth(), kActorAggregator);
}

void Server::Shutdown() {
  std::call_once(shutdown_once_, [this] {
    {
      std::lock_guard<std::mutex> lock(purge_mu_);
      stopping_ = true;
    }
    purge_cv_.notify_all();
    if (purge_thread_.joinable()) purge_thread_.join();
    if (server_ == nullptr) return;
    spdlog::info("aggregator shutting down: finishing calls in flight");
    if (limiter_ != nullptr) limiter_->Shutdown();  // paced streams stop reading now
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(shutdown_grace_seconds_));
    if (admin_ != nullptr) {
      if (absl::Status st = admin_->RecordStop(); !st.ok()) {
        spdlog::error("audit: could not record the stop: {}", st.ToString());
      }
    }
  });
}

void Server::Wait() {
  if (server_ != nullptr) server_->Wait();
}

Server::~Server() {
  Shutdown();
  Wait();
}

}  // namespace samenzicht::aggregator
