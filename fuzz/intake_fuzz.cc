// libFuzzer target: the aggregator's batch validation. The fuzz bytes are a BatchPayload
// (so the target gets past the signature check: it signs them with the agency's key, as a
// node with a buggy or hostile encoder would; a payload that parses gets the right node id,
// profile fingerprint and epoch so the per-report checks are reached), or, with a first
// byte 0xFE, payload bytes signed as they are, or, with 0xFF, a raw SignedBatch. Intake::Submit must answer every input with an ack (never crash), and an
// OK ack must mean every report was stored or was a duplicate.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "aggregator/intake/intake.h"
#include "aggregator/store/store.h"
#include "crypto/encoding.h"
#include "crypto/secret_bytes.h"
#include "crypto/signature.h"
#include "model/config.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/intake.pb.h"

using namespace samenzicht;

namespace {

struct World {
  std::unique_ptr<crypto::Signer> signer;
  std::unique_ptr<aggregator::Store> store;
  std::unique_ptr<aggregator::Intake> intake;
  rpc::Peer peer{"police", rpc::Role::kAgency};
  std::string fingerprint;
};

World* MakeWorld() {
  auto* w = new World();
  w->signer = *crypto::Signer::Generate();
  v1::LinkageProfile profile;
  profile.set_name("fuzz");
  profile.set_version(1);
  auto* r = profile.add_rules();
  r->set_name("nid");
  r->add_fields(v1::FIELD_NATIONAL_ID);
  r = profile.add_rules();
  r->set_name("name_dob");
  r->add_fields(v1::FIELD_SURNAME);
  r->add_fields(v1::FIELD_DATE_OF_BIRTH);
  w->fingerprint = model::ProfileFingerprint(profile);
  v1::AggregatorConfig config;
  config.set_key_epoch(1);
  config.set_max_batch_reports(200);
  config.add_areas("oost");
  config.add_areas("west");
  auto* a = config.add_agencies();
  a->set_node_id("police");
  a->set_domain(v1::DOMAIN_POLICE);
  a->set_signing_public_key(crypto::Base64Encode(w->signer->public_key()));
  std::string dir = "/tmp/samenzicht-intake-fuzz." + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  auto key = *crypto::SecretBytes::Random(32);
  w->store = *aggregator::Store::Open(dir, key, {"nid", "name_dob"});
  w->intake = *aggregator::Intake::New(config, profile, w->store.get());
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* w = MakeWorld();
  std::string bytes(reinterpret_cast<const char*>(data), size);
  v1::SignedBatch batch;
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0xFF) {
    if (!batch.ParseFromString(bytes.substr(1))) return 0;
  } else if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == 0xFE) {
    batch.set_payload(bytes.substr(1));  // signed as is: header checks get fuzzed too
    batch.set_signature(w->signer->Sign(aggregator::kBatchContext, batch.payload()));
  } else {
    // A payload that parses gets a valid header, so the reports' validation is reached.
    v1::BatchPayload p;
    if (p.ParseFromString(bytes)) {
      p.set_node_id("police");
      p.set_profile_fingerprint(w->fingerprint);
      p.set_key_epoch(1);
      bytes = p.SerializeAsString();
    }
    batch.set_payload(bytes);
    batch.set_signature(w->signer->Sign(aggregator::kBatchContext, bytes));
  }
  auto ack = w->intake->Submit(w->peer, batch);
  if (!ack.ok()) std::abort();  // only store failures may end a stream; none expected here
  if (ack->code() == 0) {
    // OK: every report is accounted for, stored, already stored, or refused by name (a
    // partly accepted batch lists its refused reports).
    v1::BatchPayload p;
    if (!p.ParseFromString(batch.payload())) std::abort();
    if (static_cast<int>(ack->accepted() + ack->duplicates()) + ack->errors_size() !=
        p.reports_size()) {
      std::abort();
    }
    if (ack->partially_accepted() != (ack->errors_size() > 0)) std::abort();
  }
  return 0;
}
