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

// `code`, "`service`: `message`" (service: "key service at ADDRESS", with two services
// "first ..." or "second key service at ADDRESS"), marked for IsKeyServiceError.
absl::Status KeyServiceError(absl::StatusCode code, const std::string& service,
                             absl::string_view message) {
  absl::Status s(code, absl::StrCat(service, ": ", message));
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
  if (c.has_second()) {
    if (c.second().address().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": second { address } is empty (the second key service's host:port)"));
    }
    // The same service twice would apply one share twice: no token would match those of
    // the other nodes, and the second share would protect nothing.
    if (c.second().address() == c.address()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": the second key service has the first one's address ", c.address(),
          "; a 2-of-2 deployment needs two services, each with its own share"));
    }
    if (!c.server_name().empty() && c.second().server_name() == c.server_name()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": the second key service has the first one's server_name ", c.server_name(),
          "; a 2-of-2 deployment needs two services, each with its own certificate"));
    }
  }
  return c;
}

absl::StatusOr<std::unique_ptr<KeyholderOracle>> KeyholderOracle::New(const v1::KeyholderClientConfig& config) {
  std::unique_ptr<KeyholderOracle> o(new KeyholderOracle(config));
  const bool two = config.has_second();
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                   rpc::Connect(config.address(), config.tls(), config.server_name()));
  o->services_.push_back(Service{absl::StrCat(two ? "first key service at " : "key service at ",
                                              config.address()),
                                 v1::KeyHolder::NewStub(channel)});
  if (two) {
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> second,
                     rpc::Connect(config.second().address(), config.tls(), config.second().server_name()));
    o->services_.push_back(Service{absl::StrCat("second key service at ", config.second().address()),
                                   v1::KeyHolder::NewStub(second)});
  }
  return o;
}

size_t KeyholderOracle::max_inputs_per_call() const {
  return config_.elements_per_call() == 0 ? kDefaultElementsPerCall : config_.elements_per_call();
}

absl::StatusOr<std::string> KeyholderOracle::Evaluate(const std::vector<std::string_view>& inputs) const {
  if (inputs.empty()) return std::string();
  ASSIGN_OR_RETURN(crypto::oprf::BlindBatch batch, crypto::oprf::BlindBatch::New(inputs));
  // Each service multiplies the elements by its key (its share, with two services); the
  // second gets the first one's answer, checked first, so that a bad answer is put down
  // to the service that gave it.
  std::string elements = batch.blinded_elements();
  v1::EvaluationReceipt receipt;  // the previous service's, for the next
  bool has_receipt = false;
  for (const Service& service : services_) {
    v1::EvaluateRequest request;
    request.set_epoch(config_.epoch());
    request.set_blinded_elements(std::move(elements));
    if (has_receipt) *request.mutable_receipt() = std::move(receipt);
    v1::EvaluateResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    const grpc::Status st = service.stub->Evaluate(&context, request, &response);
    if (!st.ok()) {
      const absl::Status s = rpc::FromGrpcStatus(st);
      return KeyServiceError(s.code(), service.name, s.message());
    }
    if (response.epoch() != config_.epoch()) {
      return KeyServiceError(absl::StatusCode::kInternal, service.name,
                             absl::StrCat("answered for epoch ", response.epoch(), ", not ",
                                          config_.epoch()));
    }
    if (response.evaluated_elements().size() != inputs.size() * crypto::oprf::kElementBytes) {
      return KeyServiceError(absl::StatusCode::kInternal, service.name,
                             absl::StrCat("answered ", response.evaluated_elements().size(),
                                          " bytes for ", inputs.size(), " elements"));
    }
    if (absl::Status v = crypto::oprf::ValidateElements(response.evaluated_elements()); !v.ok()) {
      return KeyServiceError(absl::StatusCode::kInternal, service.name,
                             absl::StrCat("answered an invalid ", v.message()));
    }
    elements = std::move(*response.mutable_evaluated_elements());
    has_receipt = response.has_receipt();
    if (has_receipt) receipt = std::move(*response.mutable_receipt());
  }
  absl::StatusOr<std::string> outputs = batch.Finalize(inputs, elements);
  if (!outputs.ok()) {
    return KeyServiceError(outputs.status().code(), services_.back().name, outputs.status().message());
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
