// Loading configuration files (Protobuf text format) and the linkage profile.
#ifndef SAMENZICHT_MODEL_CONFIG_H_
#define SAMENZICHT_MODEL_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "samenzicht/v1/config.pb.h"
#include "samenzicht/v1/profile.pb.h"

namespace samenzicht::model {

// Parses `path` into `msg`. NotFound if missing; InvalidArgument naming the file, line and
// column of a syntax error or unknown field.
absl::Status LoadTextProto(const std::string& path, google::protobuf::Message* msg);

// Loads a config and resolves its relative file paths against the config's folder.
absl::StatusOr<v1::NodeConfig> LoadNodeConfig(const std::string& path);
absl::StatusOr<v1::AggregatorConfig> LoadAggregatorConfig(const std::string& path);
absl::StatusOr<v1::ClientConfig> LoadClientConfig(const std::string& path);
// For a party that connects to the aggregator (node, analyst, administrator, privacy
// officer): one line for its operator when its `tls` block names no `crl_directory` (a
// revoked aggregator certificate would then be accepted without a word); empty when it
// names one. Callers print it once, when the command or daemon starts.
std::string MissingRevocationListWarning(const v1::TlsFiles& tls);
// Node and aggregator configurations are refused (InvalidArgument naming the file) unless
// `areas` passes ValidateAreas: the `area` column is never free text.

// District codes (`areas` of both configurations): what an `area` may hold and what is
// published as a row label. Required (at least one), at most kMaxAreas codes, each 1 to
// kMaxAreaCodeBytes characters of [a-z0-9_-], none twice. InvalidArgument naming the
// position ("areas[3] ...", never the value).
inline constexpr size_t kMaxAreas = 1000;
inline constexpr size_t kMaxAreaCodeBytes = 32;
absl::Status ValidateAreas(const google::protobuf::RepeatedPtrField<std::string>& areas);

// Loads and validates a linkage profile: at least one rule, rule names unique and made of
// [a-z0-9_], every rule with at least one field and no unspecified or repeated field, a
// probe_when_missing that is not one of the rule's fields; national id schemes with unique
// names other than "bsn", a known check and a pattern that compiles.
absl::StatusOr<v1::LinkageProfile> LoadProfile(const std::string& path);
absl::Status ValidateProfile(const v1::LinkageProfile& profile);

// 32-byte BLAKE2b-256 fingerprint over a canonical encoding of the profile (independent
// of Protobuf's serialization): name, version, threshold, each rule's name and fields in
// order and its probe_when_missing (only when set, so profiles without probe rules keep
// their fingerprint), and each national id scheme. Descriptions do not count.
std::string ProfileFingerprint(const v1::LinkageProfile& profile);

// Effective token-size threshold of the profile (default 50).
uint32_t MaxReportsPerToken(const v1::LinkageProfile& profile);

// True for a field that yields several values per record (a deletion neighbourhood): a rule
// with one yields one token per value. At most one per rule (ValidateProfile).
bool IsMultiValuedField(v1::Field f);

// At most this many tokens of one multi-valued rule in one report (the aggregator refuses
// more): a deletion neighbourhood has one member per letter plus one, and names longer than
// kMaxDeletionNeighbourhoodLength letters get no neighbourhood (the name alone); the pairs of
// two names' neighbourhoods (FIELD_NAME_DELETIONS) are limited to this many (NameDeletionPairs).
inline constexpr size_t kMaxTokensPerMultiValuedRule = 128;
inline constexpr size_t kMaxDeletionNeighbourhoodLength = 40;

// The profile's match_probability, 0 read as the default 0.5.
double MatchProbability(const v1::LinkageProfile& profile);

}  // namespace samenzicht::model

#endif  // SAMENZICHT_MODEL_CONFIG_H_
