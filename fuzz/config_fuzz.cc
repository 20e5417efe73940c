// libFuzzer target: the configuration parser (Protobuf text format through
// model::LoadTextProto) for every configuration message, and profile validation and
// fingerprinting on whatever parses.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "model/config.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/profile.pb.h"

using namespace samenzicht;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = "/tmp/samenzicht-config-fuzz." + std::to_string(getpid());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  (void)model::LoadNodeConfig(path);
  (void)model::LoadAggregatorConfig(path);
  (void)model::LoadClientConfig(path);
  v1::LinkageProfile profile;
  if (model::LoadTextProto(path, &profile).ok()) {
    (void)model::ValidateProfile(profile);
    (void)model::ProfileFingerprint(profile);
    (void)model::MaxReportsPerToken(profile);
  }
  (void)model::LoadProfile(path);
  return 0;
}
