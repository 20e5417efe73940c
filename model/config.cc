#include "model/config.h"

#include <algorithm>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/files.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "model/tokens.h"

namespace samenzicht::model {
namespace {

class Collector : public google::protobuf::io::ErrorCollector {
 public:
  explicit Collector(std::string path) : path_(std::move(path)) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) first_ = absl::StrCat(path_, ":", line + 1, ":", column + 1, ": ", message);
  }
  const std::string& first() const { return first_; }

 private:
  std::string path_, first_;
};

void Resolve(std::string* p, const std::string& config_path) {
  if (!p->empty()) *p = files::ResolvePath(*p, config_path);
}

void ResolveTls(v1::TlsFiles* tls, const std::string& path) {
  Resolve(tls->mutable_ca_cert_file(), path);
  Resolve(tls->mutable_cert_file(), path);
  Resolve(tls->mutable_key_file(), path);
  Resolve(tls->mutable_crl_directory(), path);
}

}  // namespace

absl::Status LoadTextProto(const std::string& path, google::protobuf::Message* msg) {
  ASSIGN_OR_RETURN(std::string text, files::ReadFile(path));
  google::protobuf::TextFormat::Parser parser;
  Collector errors(path);
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, msg)) {
    return absl::InvalidArgumentError(errors.first().empty() ? absl::StrCat(path, ": cannot parse")
                                                             : errors.first());
  }
  return absl::OkStatus();
}

absl::Status ValidateAreas(const google::protobuf::RepeatedPtrField<std::string>& areas) {
  if (areas.empty()) {
    return absl::InvalidArgumentError(
        "areas is required: list the district codes an `area` may hold (the same list on "
        "every node and on the aggregator); without it any text in the area column would "
        "leave the node and be published as a row label");
  }
  if (static_cast<size_t>(areas.size()) > kMaxAreas) {
    return absl::InvalidArgumentError(
        absl::StrCat("areas holds ", areas.size(), " codes; at most ", kMaxAreas));
  }
  std::set<std::string> seen;
  for (int i = 0; i < areas.size(); ++i) {
    const std::string& a = areas.Get(i);
    bool ok = !a.empty() && a.size() <= kMaxAreaCodeBytes;
    for (char c : a) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "areas[", i, "] must be 1-", kMaxAreaCodeBytes, " characters of [a-z0-9_-]"));
    }
    if (!seen.insert(a).second) {
      return absl::InvalidArgumentError(absl::StrCat("areas[", i, "] repeats an earlier code"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::NodeConfig> LoadNodeConfig(const std::string& path) {
  v1::NodeConfig c;
  RETURN_IF_ERROR(LoadTextProto(path, &c));
  if (c.node_id().empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": node_id is required"));
  if (absl::Status s = ValidateAreas(c.areas()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  ResolveTls(c.mutable_tls(), path);
  Resolve(c.mutable_hashing_key_file(), path);
  Resolve(c.mutable_keyholder_config_file(), path);
  Resolve(c.mutable_signing_key_file(), path);
  Resolve(c.mutable_profile_file(), path);
  Resolve(c.mutable_state_dir(), path);
  Resolve(c.mutable_import_dir(), path);
  ResolveTls(c.mutable_intake_tls(), path);
  return c;
}

absl::StatusOr<v1::AggregatorConfig> LoadAggregatorConfig(const std::string& path) {
  v1::AggregatorConfig c;
  RETURN_IF_ERROR(LoadTextProto(path, &c));
  if (c.data_dir().empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": data_dir is required"));
  if (c.min_cell_size() == 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": min_cell_size 1 would publish every count of one person; use 0 (the default) "
        "or at least 2"));
  }
  if (absl::Status s = ValidateAreas(c.areas()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  }
  ResolveTls(c.mutable_tls(), path);
  Resolve(c.mutable_data_dir(), path);
  Resolve(c.mutable_store_key_file(), path);
  Resolve(c.mutable_profile_file(), path);
  Resolve(c.mutable_audit_key_file(), path);
  return c;
}

absl::StatusOr<v1::ClientConfig> LoadClientConfig(const std::string& path) {
  v1::ClientConfig c;
  RETURN_IF_ERROR(LoadTextProto(path, &c));
  ResolveTls(c.mutable_tls(), path);
  return c;
}

namespace {

// 1-32 characters of [a-z0-9_]: rule and national id scheme names.
bool ValidName(const std::string& name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace

absl::Status ValidateProfile(const v1::LinkageProfile& profile) {
  if (profile.rules().empty()) return absl::InvalidArgumentError("linkage profile has no rules");
  if (static_cast<size_t>(profile.rules_size()) > kMaxProfileRules) {
    return absl::InvalidArgumentError(absl::StrCat(
        "linkage profile has ", profile.rules_size(), " rules; at most ", kMaxProfileRules,
        " (a packed token names its rule in one byte)"));
  }
  std::set<std::string> names;
  for (const auto& rule : profile.rules()) {
    if (rule.name().empty() || rule.name().size() > 32) {
      return absl::InvalidArgumentError("linkage profile: rule name must be 1-32 characters");
    }
    if (!ValidName(rule.name())) {
      return absl::InvalidArgumentError(
          absl::StrCat("linkage profile: rule name '", rule.name(), "' may hold only [a-z0-9_]"));
    }
    if (!names.insert(rule.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat("linkage profile: rule '", rule.name(), "' appears twice"));
    }
    if (rule.fields().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("linkage profile: rule '", rule.name(), "' has no fields"));
    }
    std::set<int> fields;
    for (int f : rule.fields()) {
      if (f == v1::FIELD_UNSPECIFIED || !v1::Field_IsValid(f) || !fields.insert(f).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("linkage profile: rule '", rule.name(), "' has an unspecified or repeated field"));
      }
    }
    if (std::count_if(rule.fields().begin(), rule.fields().end(), [](int f) {
          return IsMultiValuedField(static_cast<v1::Field>(f));
        }) > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linkage profile: rule '", rule.name(), "' has more than one multi-valued field"));
    }
    const int probe = rule.probe_when_missing();
    if (probe != v1::FIELD_UNSPECIFIED && (!v1::Field_IsValid(probe) || fields.count(probe) > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linkage profile: rule '", rule.name(),
          "' has a probe_when_missing that is unknown or one of its own fields"));
    }
  }
  if (!v1::LinkageMethod_IsValid(profile.method())) {
    return absl::InvalidArgumentError("linkage profile: unknown method");
  }
  if (!(profile.match_probability() >= 0 && profile.match_probability() < 1)) {
    return absl::InvalidArgumentError(
        "linkage profile: match_probability must be at least 0 and below 1 (0 = 0.5)");
  }
  std::set<std::string> schemes;
  for (const auto& scheme : profile.national_id_schemes()) {
    if (!ValidName(scheme.name()) || scheme.name() == "bsn") {
      return absl::InvalidArgumentError(
          "linkage profile: a national id scheme name must be 1-32 characters of [a-z0-9_], "
          "not 'bsn'");
    }
    if (!schemes.insert(scheme.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linkage profile: national id scheme '", scheme.name(), "' appears twice"));
    }
    if (!v1::NationalIdScheme::Check_IsValid(scheme.check())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linkage profile: national id scheme '", scheme.name(), "' has an unknown check"));
    }
    if (scheme.pattern().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linkage profile: national id scheme '", scheme.name(), "' has no pattern"));
    }
    try {
      std::regex re(scheme.pattern(), std::regex::ECMAScript);
    } catch (const std::regex_error&) {
      return absl::InvalidArgumentError(absl::StrCat(
          "linkage profile: national id scheme '", scheme.name(),
          "' has a pattern that is not a valid regular expression"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::LinkageProfile> LoadProfile(const std::string& path) {
  v1::LinkageProfile p;
  RETURN_IF_ERROR(LoadTextProto(path, &p));
  absl::Status s = ValidateProfile(p);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", s.message()));
  return p;
}

std::string ProfileFingerprint(const v1::LinkageProfile& profile) {
  std::string canon = absl::StrCat("name=", profile.name(), "\nversion=", profile.version(),
                                   "\nmax_reports_per_token=", MaxReportsPerToken(profile), "\n");
  for (const auto& rule : profile.rules()) {
    absl::StrAppend(&canon, "rule=", rule.name(), ":");
    for (int f : rule.fields()) absl::StrAppend(&canon, f, ",");
    // Only when set, so a profile without probe rules keeps its fingerprint.
    if (rule.probe_when_missing() != v1::FIELD_UNSPECIFIED) {
      absl::StrAppend(&canon, ":probe_when_missing=", rule.probe_when_missing());
    }
    absl::StrAppend(&canon, "\n");
  }
  for (const auto& scheme : profile.national_id_schemes()) {
    absl::StrAppend(&canon, "national_id_scheme=", scheme.name(), ":", scheme.check(), ":",
                    scheme.pattern().size(), ":", scheme.pattern(), "\n");
  }
  // Only when set, so older profiles keep their fingerprints.
  if (profile.method() != v1::LINKAGE_METHOD_UNSPECIFIED) {
    absl::StrAppend(&canon, "method=", profile.method(), "\n");
  }
  if (profile.match_probability() != 0) {
    absl::StrAppend(&canon, "match_probability=", absl::StrFormat("%.17g", profile.match_probability()), "\n");
  }
  return crypto::Digest("samenzicht.profile.v1", canon);
}

bool IsMultiValuedField(v1::Field f) {
  return f == v1::FIELD_SURNAME_DELETIONS || f == v1::FIELD_GIVEN_NAME_DELETIONS ||
         f == v1::FIELD_POSTCODE_DELETIONS || f == v1::FIELD_NAME_DELETIONS;
}

double MatchProbability(const v1::LinkageProfile& profile) {
  return profile.match_probability() == 0 ? 0.5 : profile.match_probability();
}

uint32_t MaxReportsPerToken(const v1::LinkageProfile& profile) {
  return profile.max_reports_per_token() == 0 ? 50 : profile.max_reports_per_token();
}

std::string MissingRevocationListWarning(const v1::TlsFiles& tls) {
  if (!tls.crl_directory().empty()) return "";
  return "tls names no crl_directory: a revoked aggregator certificate would not be noticed; "
         "copy the deployment's CRL folder here and name it (docs/operations.md, revocation)";
}

}  // namespace samenzicht::model
