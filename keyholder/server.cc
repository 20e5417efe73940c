#include "keyholder/server.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/evaluation_receipt.h"
#include "model/config.h"
#include "rpc/tls.h"

namespace samenzicht::keyholder {
namespace {

class KeyHolderService final : public v1::KeyHolder::Service {
 public:
  explicit KeyHolderService(KeyService* service) : service_(service) {}

  grpc::Status Evaluate(grpc::ServerContext* context, const v1::EvaluateRequest* request,
                        v1::EvaluateResponse* response) override {
    absl::StatusOr<rpc::Peer> peer = rpc::PeerOf(*context);
    if (!peer.ok()) return rpc::ToGrpcStatus(peer.status());
    std::optional<crypto::EvaluationReceipt> presented;
    if (request->has_receipt()) {
      const v1::EvaluationReceipt& r = request->receipt();
      presented = crypto::EvaluationReceipt{r.node(),      r.epoch(),   r.elements(), r.elements_digest(),
                                            r.trail_seq(), r.time_ms(), r.signature()};
    }
    absl::StatusOr<KeyService::Evaluation> evaluated = service_->EvaluateBatch(
        *peer, request->epoch(), request->blinded_elements(), presented ? &*presented : nullptr);
    if (!evaluated.ok()) {
      // Refusals at a rate limit are logged by the KeyService, one line per node and window.
      if (!absl::IsResourceExhausted(evaluated.status())) {
        spdlog::warn("evaluation for {} refused: {}", peer->common_name,
                     evaluated.status().ToString());
      }
      return rpc::ToGrpcStatus(evaluated.status());
    }
    response->set_epoch(request->epoch());
    response->set_evaluated_elements(std::move(evaluated->elements));
    const crypto::EvaluationReceipt& r = evaluated->receipt;
    if (!r.signature.empty()) {
      v1::EvaluationReceipt* out = response->mutable_receipt();
      out->set_node(r.node);
      out->set_epoch(r.epoch);
      out->set_elements(r.elements);
      out->set_elements_digest(r.elements_digest);
      out->set_trail_seq(r.trail_seq);
      out->set_time_ms(r.time_ms);
      out->set_signature(r.signature);
    }
    return grpc::Status::OK;
  }

 private:
  KeyService* service_;
};

void Resolve(std::string* p, const std::string& config_path) {
  if (!p->empty()) *p = files::ResolvePath(*p, config_path);
}

}  // namespace

absl::StatusOr<v1::KeyholderConfig> LoadKeyholderConfig(const std::string& path) {
  v1::KeyholderConfig c;
  RETURN_IF_ERROR(model::LoadTextProto(path, &c));
  Resolve(c.mutable_tls()->mutable_ca_cert_file(), path);
  Resolve(c.mutable_tls()->mutable_cert_file(), path);
  Resolve(c.mutable_tls()->mutable_key_file(), path);
  Resolve(c.mutable_tls()->mutable_crl_directory(), path);
  Resolve(c.mutable_data_dir(), path);
  Resolve(c.mutable_audit_key_file(), path);
  for (auto& k : *c.mutable_keys()) Resolve(k.mutable_key_file(), path);
  return c;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const v1::KeyholderConfig& config,
                                                      KeyService::Clock clock) {
  if (config.listen_address().empty()) return absl::InvalidArgumentError("listen_address is empty");
  if (config.audit_key_file().empty()) return absl::InvalidArgumentError("audit_key_file is empty");
  std::unique_ptr<Server> s(new Server());
  ASSIGN_OR_RETURN(s->signer_, crypto::Signer::FromKeyFile(config.audit_key_file()));
  ASSIGN_OR_RETURN(s->key_service_, KeyService::FromConfig(config, s->signer_.get(), std::move(clock)));
  s->grpc_service_ = std::make_unique<KeyHolderService>(s->key_service_.get());
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> creds, rpc::ServerCredentials(config.tls()));
  grpc::ServerBuilder builder;
  builder.AddListeningPort(config.listen_address(), creds, &s->port_);
  rpc::ServerLimits limits;
  // A call of max_elements_per_call elements and its protobuf framing.
  limits.max_receive_message_bytes =
      static_cast<int>(std::min<uint64_t>(uint64_t{LimitsOf(config).max_elements_per_call} * 32 + (1 << 16),
                                          INT32_MAX));
  rpc::ApplyServerLimits(builder, limits);
  builder.RegisterService(s->grpc_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", config.listen_address(), " (address in use?)"));
  }
  const Limits l = LimitsOf(config);
  spdlog::info("key service listening on port {}; {} key(s); per node at most {} evaluations an hour, "
               "{} a day; trail in {}", s->port_, config.keys_size(), l.per_hour, l.per_day,
               (std::filesystem::absolute(config.data_dir()) / kDatabaseFileName).string());
  return s;
}

Server::~Server() {
  Shutdown();
  Wait();
}

void Server::Shutdown() {
  if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
}

void Server::Wait() {
  if (server_ != nullptr) {
    server_->Wait();
    server_.reset();
  }
}

}  // namespace samenzicht::keyholder
