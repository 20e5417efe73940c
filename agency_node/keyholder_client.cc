#include "agency_node/keyholder_client.h"

#include <chrono>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "crypto/oprf.h"
#include "model/config.h"
#include "rpc/tls.h"

namespace samenzicht::agency_node {
namespace {

// The digest of one 64-byte OPRF output: the 32 bytes the tokeniser combines.
constexpr char kOprfOutputDomain[] = "samenzicht.value-output.oprf.v2";
constexpr char kKeyServicePayload[] = "type.samenzicht.nl/key-service";

// `code`, "key service at ADDRESS: " `message`, marked for IsKeyServiceError.
absl::Status KeyServiceError(absl::StatusCode code, const std::string& address,
                             absl::string_view message) {
  absl::Status s(code, absl::StrCat("key service at ", address, ": ", message));
  s.SetPayload(kKeyServicePayload, absl::Cord("1"));
  return s;
}

void Resolve(std::string* p, const std::string& config_path) {
  if (!p->empty()) *p = files::ResolvePath(*p, config_path);
}

}  // namespace

absl::StatusOr<v1::KeyholderClientConfig> LoadKeyholderClientConfig(const std::string& path) {
  v1::KeyholderClientConfig c;
  RETURN_IF_ERROR(model::LoadTextProto(path, &c));
  Resolve(c.mutable_tls()->mutable_ca_cert_file(), path);
  Resolve(c.mutable_tls()->mutable_cert_file(), path);
  Resolve(c.mutable_tls()->mutable_key_file(), path);
  Resolve(c.mutable_tls()->mutable_crl_directory(), path);
  if (c.address().empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": address is empty"));
  if (c.epoch() == 0) return absl::InvalidArgumentError(absl::StrCat(path, ": epoch must be at least 1"));
  return c;
}

absl::StatusOr<std::unique_ptr<KeyholderOracle>> KeyholderOracle::New(const v1::KeyholderClientConfig& config) {
  std::unique_ptr<KeyholderOracle> o(new KeyholderOracle(config));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   rpc::Connect(config.address(), config.tls(), config.server_name()));
  o->stub_ = v1::KeyHolder::NewStub(channel);
  return o;
}

size_t KeyholderOracle::max_inputs_per_call() const {
  return config_.elements_per_call() == 0 ? kDefaultElementsPerCall : config_.elements_per_call();
}

absl::StatusOr<std::string> KeyholderOracle::Evaluate(const std::vector<std::string_view>& inputs) const {
  if (inputs.empty()) return std::string();
  ASSIGN_OR_RETURN(crypto::oprf::BlindBatch batch, crypto::oprf::BlindBatch::New(inputs));
  v1::EvaluateRequest request;
  request.set_epoch(config_.epoch());
  request.set_blinded_elements(batch.blinded_elements());
  v1::EvaluateResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  const grpc::Status st = stub_->Evaluate(&context, request, &response);
  if (!st.ok()) {
    const absl::Status s = rpc::FromGrpcStatus(st);
    return KeyServiceError(s.code(), config_.address(), s.message());
  }
  if (response.epoch() != config_.epoch()) {
    return KeyServiceError(absl::StatusCode::kInternal, config_.address(),
                           absl::StrCat("answered for epoch ", response.epoch(), ", not ",
                                        config_.epoch()));
  }
  absl::StatusOr<std::string> outputs = batch.Finalize(inputs, response.evaluated_elements());
  if (!outputs.ok()) {
    return KeyServiceError(outputs.status().code(), config_.address(), outputs.status().message());
  }
  std::string values;
  values.reserve(inputs.size() * crypto::kDigestBytes);
  for (size_t i = 0; i < inputs.size(); ++i) {
    values += crypto::Digest(kOprfOutputDomain, std::string_view(*outputs).substr(
                                                   i * crypto::oprf::kOutputBytes, crypto::oprf::kOutputBytes));
  }
  std::fill(outputs->begin(), outputs->end(), '\0');
  return values;
}

bool IsKeyServiceError(const absl::Status& status) {
  return !status.ok() && status.GetPayload(kKeyServicePayload).has_value();
}

absl::StatusOr<std::unique_ptr<Tokeniser>> TokeniserFromKeyholder(const v1::LinkageProfile& profile,
                                                                  const std::string& config_path) {
  ASSIGN_OR_RETURN(v1::KeyholderClientConfig config, LoadKeyholderClientConfig(config_path));
  ASSIGN_OR_RETURN(auto oracle, KeyholderOracle::New(config));
  return Tokeniser::NewWithOracle(profile, std::move(oracle));
}

}  // namespace samenzicht::agency_node
