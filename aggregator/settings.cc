#include "aggregator/settings.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include "absl/strings/numbers.h"
#include "crypto/encoding.h"

namespace samenzicht::aggregator {

uint32_t StoredNumber(const std::map<std::string, std::string>& stored, const char* name,
                      uint32_t fallback) {
  auto it = stored.find(name);
  uint32_t v = 0;
  if (it == stored.end() || !absl::SimpleAtoi(it->second, &v)) return fallback;
  return v;
}

v1::Settings EffectiveSettings(const v1::AggregatorConfig& config,
                               const std::map<std::string, std::string>& stored) {
  v1::Settings s;
  s.set_key_epoch(StoredNumber(stored, kSettingKeyEpoch, config.key_epoch()));
  s.set_retention_months(StoredNumber(stored, kSettingRetention, config.retention_months()));
  return s;
}

std::string ConfigDigest(const v1::AggregatorConfig& config) {
  v1::AggregatorConfig c = config;
  c.clear_listen_address();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    c.SerializeToCodedStream(&coded);
  }
  return crypto::ToHex(crypto::Digest("samenzicht.config.v1", bytes));
}

}  // namespace samenzicht::aggregator
