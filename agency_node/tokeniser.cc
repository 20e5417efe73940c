#include "agency_node/tokeniser.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "model/config.h"

namespace samenzicht::agency_node {

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
    for (int f : r.fields()) rule.fields.push_back(static_cast<v1::Field>(f));
    rules.push_back(std::move(rule));
  }
  return std::unique_ptr<Tokeniser>(new Tokeniser(std::move(rules), std::move(hasher)));
}

bool Tokeniser::Encode(const Rule& rule, const Person& person, std::string* out) const {
  out->clear();
  for (v1::Field f : rule.fields) {
    const std::string& v = person.Get(f);
    if (v.empty()) return false;
    const uint32_t len = static_cast<uint32_t>(v.size());
    out->push_back(static_cast<char>(f));
    out->push_back(static_cast<char>(len >> 24));
    out->push_back(static_cast<char>(len >> 16));
    out->push_back(static_cast<char>(len >> 8));
    out->push_back(static_cast<char>(len));
    out->append(v);
  }
  return true;
}

int Tokeniser::Tokenise(const Person& person,
                        google::protobuf::RepeatedPtrField<v1::Token>* out) const {
  // One buffer per thread, reused across records: no allocation once it has grown.
  thread_local std::string message;
  message.reserve(256);
  int added = 0;
  uint8_t digest[crypto::kTokenBytes];
  for (size_t i = 0; i < rules_.size(); ++i) {
    if (!Encode(rules_[i], person, &message)) continue;
    hasher_->HashInto(i, message, digest);
    v1::Token* t = out->Add();
    t->set_rule(rules_[i].name);
    t->set_value(reinterpret_cast<const char*>(digest), sizeof digest);
    if (rules_[i].probe_when_missing != v1::FIELD_UNSPECIFIED) {
      t->set_role(person.Has(rules_[i].probe_when_missing) ? v1::TOKEN_ROLE_ANCHOR
                                                           : v1::TOKEN_ROLE_PROBE);
    }
    ++added;
  }
  return added;
}

std::string Tokeniser::EncodeForTest(size_t rule, const Person& person) const {
  std::string m;
  if (rule >= rules_.size() || !Encode(rules_[rule], person, &m)) return "";
  return m;
}

}  // namespace samenzicht::agency_node
