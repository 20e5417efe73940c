#include "agency_node/tokeniser.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "agency_node/normalise.h"
#include "common/status_macros.h"
#include "model/config.h"
#include "model/tokens.h"

namespace samenzicht::agency_node {

static_assert(crypto::kTokenBytes == model::kTokenValueBytes);

std::vector<std::string> RuleNames(const v1::LinkageProfile& profile) {
  std::vector<std::string> names;
  names.reserve(profile.rules_size());
  for (const auto& r : profile.rules()) names.push_back(r.name());
  return names;
}

absl::StatusOr<std::unique_ptr<Tokeniser>> Tokeniser::New(
    const v1::LinkageProfile& profile, std::unique_ptr<crypto::KeyedHasher> hasher) {
  RETURN_IF_ERROR(model::ValidateProfile(profile));
  if (hasher == nullptr) return absl::InvalidArgumentError("no hasher");
  if (hasher->labels() != RuleNames(profile)) {
    return absl::InvalidArgumentError(
        "the hasher's labels are not the profile's rule names in order");
  }
  std::vector<Rule> rules;
  for (const auto& r : profile.rules()) {
    Rule rule{r.name(), {}, static_cast<v1::Field>(r.probe_when_missing())};
    for (int f : r.fields()) {
      rule.fields.push_back(static_cast<v1::Field>(f));
      if (model::IsMultiValuedField(static_cast<v1::Field>(f))) rule.multi = static_cast<v1::Field>(f);
    }
    rules.push_back(std::move(rule));
  }
  return std::unique_ptr<Tokeniser>(new Tokeniser(std::move(rules), std::move(hasher)));
}

bool Tokeniser::Encode(const Rule& rule, const Person& person, std::string* out,
                       std::string_view multi_value) const {
  // Sized first (no field may be empty), then written in place.
  size_t size = 0;
  for (v1::Field f : rule.fields) {
    const size_t n = f == rule.multi && !multi_value.empty() ? multi_value.size() : person.Get(f).size();
    if (n == 0) return false;
    size += 5 + n;
  }
  out->resize(size);
  char* p = out->data();
  for (v1::Field f : rule.fields) {
    const std::string_view v =
        f == rule.multi && !multi_value.empty() ? multi_value : std::string_view(person.Get(f));
    const uint32_t len = static_cast<uint32_t>(v.size());
    p[0] = static_cast<char>(f);
    p[1] = static_cast<char>(len >> 24);
    p[2] = static_cast<char>(len >> 16);
    p[3] = static_cast<char>(len >> 8);
    p[4] = static_cast<char>(len);
    std::memcpy(p + 5, v.data(), v.size());
    p += 5 + v.size();
  }
  return true;
}

void Tokeniser::Messages(const Rule& rule, const Person& person, std::vector<std::string>* out) const {
  out->clear();
  if (rule.multi == v1::FIELD_UNSPECIFIED) {
    std::string m;
    if (Encode(rule, person, &m)) out->push_back(std::move(m));
    return;
  }
  const std::string& base = person.Get(rule.multi);
  if (base.empty()) return;
  for (const std::string& variant : DeletionNeighbourhood(base)) {
    std::string m;
    if (Encode(rule, person, &m, variant)) out->push_back(std::move(m));
  }
}

int Tokeniser::Tokenise(const Person& person, std::string* packed) const {
  // Per-thread buffers, reused across records: no allocation once they have grown, and
  // `packed` grows once per record.
  thread_local std::string message;
  thread_local std::string entries;
  message.reserve(256);
  entries.clear();
  int added = 0;
  uint8_t digest[crypto::kTokenBytes];
  thread_local std::vector<std::string> variants;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    v1::TokenRole role = v1::TOKEN_ROLE_UNSPECIFIED;
    if (rule.probe_when_missing != v1::FIELD_UNSPECIFIED) {
      role = person.Has(rule.probe_when_missing) ? v1::TOKEN_ROLE_ANCHOR : v1::TOKEN_ROLE_PROBE;
    }
    if (rule.multi != v1::FIELD_UNSPECIFIED) {
      Messages(rule, person, &variants);
      for (const std::string& m : variants) {
        hasher_->HashInto(i, m, digest);
        model::AppendPackedToken(i, role, digest, &entries);
        ++added;
      }
      continue;
    }
    if (!Encode(rule, person, &message)) continue;
    hasher_->HashInto(i, message, digest);
    model::AppendPackedToken(i, role, digest, &entries);
    ++added;
  }
  packed->append(entries);
  return added;
}

std::string Tokeniser::EncodeForTest(size_t rule, const Person& person) const {
  std::string m;
  if (rule >= rules_.size() || !Encode(rules_[rule], person, &m)) return "";
  return m;
}

std::vector<std::string> Tokeniser::MessagesForTest(size_t rule, const Person& person) const {
  std::vector<std::string> out;
  if (rule < rules_.size()) Messages(rules_[rule], person, &out);
  return out;
}

}  // namespace samenzicht::agency_node
