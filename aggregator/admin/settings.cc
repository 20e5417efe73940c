#include "aggregator/admin/settings.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/files.h"
#include "crypto/encoding.h"
#include "crypto/key_file.h"
#include "crypto/secret_bytes.h"

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

std::string ConfigFileFingerprint(std::string_view bytes) {
  return crypto::ToHex(crypto::Digest("samenzicht.config-file.v1", bytes).substr(0, 16));
}

namespace {

namespace fs = std::filesystem;

// The fingerprint of the file or folder at `path`. A private key file (`secret`) is read
// into secure memory (crypto::ReadPrivateFile, with its checks of mode and owner).
std::string FingerprintOf(const std::string& path, bool secret) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return "missing";
  if (secret) {
    absl::StatusOr<crypto::SecretBytes> key = crypto::ReadPrivateFile(path);
    if (!key.ok()) return "unreadable";
    return ConfigFileFingerprint(
        std::string_view(reinterpret_cast<const char*>(key->unsafe_bytes()), key->size()));
  }
  if (fs::is_directory(path, ec)) {
    std::vector<std::string> names;
    for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
    }
    if (ec) return "unreadable";
    std::sort(names.begin(), names.end());
    std::string listing;
    for (const std::string& name : names) {
      absl::StatusOr<std::string> bytes = files::ReadFile((fs::path(path) / name).string());
      absl::StrAppend(&listing, name, "\n",
                      bytes.ok() ? ConfigFileFingerprint(*bytes) : "unreadable", "\n");
    }
    return crypto::ToHex(crypto::Digest("samenzicht.config-folder.v1", listing).substr(0, 16));
  }
  absl::StatusOr<std::string> bytes = files::ReadFile(path);
  return bytes.ok() ? ConfigFileFingerprint(*bytes) : "unreadable";
}

}  // namespace

std::vector<ConfigFile> ConfigFiles(const v1::AggregatorConfig& config) {
  struct Named {
    const char* field;
    const std::string* path;
    bool secret;
  };
  const Named named[] = {
      {"tls.ca_cert_file", &config.tls().ca_cert_file(), false},
      {"tls.cert_file", &config.tls().cert_file(), false},
      {"tls.key_file", &config.tls().key_file(), true},
      {"tls.crl_directory", &config.tls().crl_directory(), false},
      {"store_key_file", &config.store_key_file(), true},
      {"profile_file", &config.profile_file(), false},
      {"audit_key_file", &config.audit_key_file(), true},
  };
  std::vector<ConfigFile> out;
  for (const Named& n : named) {
    if (n.path->empty()) continue;
    out.push_back({n.field, *n.path, FingerprintOf(*n.path, n.secret)});
  }
  return out;
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
  for (const ConfigFile& f : ConfigFiles(config)) {
    absl::StrAppend(&bytes, "\n", f.field, "=", f.fingerprint);
  }
  return crypto::ToHex(crypto::Digest("samenzicht.config.v1", bytes));
}

}  // namespace samenzicht::aggregator
