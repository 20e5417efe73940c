#include "agency_node/tokeniser.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "agency_node/normalise.h"
#include "common/status_macros.h"
#include "crypto/encoding.h"
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
  ASSIGN_OR_RETURN(std::vector<Rule> rules, Rules(profile));
  const uint32_t epoch = hasher->epoch();
  return std::unique_ptr<Tokeniser>(
      new Tokeniser(std::move(rules), RuleNames(profile), epoch, std::move(hasher), nullptr));
}

absl::StatusOr<std::unique_ptr<Tokeniser>> Tokeniser::NewWithOracle(
    const v1::LinkageProfile& profile, std::unique_ptr<TokenOracle> oracle) {
  RETURN_IF_ERROR(model::ValidateProfile(profile));
  if (oracle == nullptr) return absl::InvalidArgumentError("no key service");
  if (oracle->epoch() == 0) return absl::InvalidArgumentError("the token epoch must be at least 1");
  ASSIGN_OR_RETURN(std::vector<Rule> rules, Rules(profile));
  const uint32_t epoch = oracle->epoch();
  return std::unique_ptr<Tokeniser>(
      new Tokeniser(std::move(rules), RuleNames(profile), epoch, nullptr, std::move(oracle)));
}

absl::StatusOr<std::vector<Tokeniser::Rule>> Tokeniser::Rules(const v1::LinkageProfile& profile) {
  std::vector<Rule> rules;
  for (const auto& r : profile.rules()) {
    Rule rule{r.name(), {}, static_cast<v1::Field>(r.probe_when_missing())};
    for (int f : r.fields()) {
      rule.fields.push_back(static_cast<v1::Field>(f));
      if (model::IsMultiValuedField(static_cast<v1::Field>(f))) rule.multi = static_cast<v1::Field>(f);
    }
    rules.push_back(std::move(rule));
  }
  return rules;
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
  const std::vector<std::string> values =
      rule.multi == v1::FIELD_NAME_DELETIONS ? NameDeletionPairs(base) : DeletionNeighbourhood(base);
  for (const std::string& variant : values) {
    std::string m;
    if (Encode(rule, person, &m, variant)) out->push_back(std::move(m));
  }
}

int Tokeniser::Tokenise(const Person& person, std::string* packed) const {
  if (hasher_ == nullptr) return -1;
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

std::string Tokeniser::OracleInput(std::string_view part) const {
  std::string in(kOprfValuePurpose);
  in.push_back('\0');
  in.push_back(static_cast<char>(epoch_ >> 24));
  in.push_back(static_cast<char>(epoch_ >> 16));
  in.push_back(static_cast<char>(epoch_ >> 8));
  in.push_back(static_cast<char>(epoch_));
  in.append(part);
  return in;
}

namespace {

// A field's entry in a laid-out token: this bit, the field number (8 bits) and the number
// of the part references that follow it (16 bits).
constexpr uint32_t kFieldMark = 0x80000000u;
constexpr size_t kMaxPartsPerValue = 0xffff;

// The parts of one value: split at kNameJoiner, or the whole value when it would have
// more than kMaxPartsPerValue parts.
void SplitParts(std::string_view value, std::vector<std::string_view>* parts) {
  parts->clear();
  size_t from = 0;
  while (true) {
    const size_t at = value.find(kNameJoiner, from);
    parts->push_back(value.substr(from, at == std::string_view::npos ? std::string_view::npos : at - from));
    if (at == std::string_view::npos) break;
    from = at + 1;
  }
  if (parts->size() > kMaxPartsPerValue) {
    parts->assign(1, value);
  }
}

// Overwrites the bytes of `s` with zeros.
void Wipe(std::string& s) { std::fill(s.begin(), s.end(), '\0'); }

}  // namespace

// The distinct value parts of one TokeniseBatch call and their 32-byte oracle outputs.
class Tokeniser::PartTable {
 public:
  ~PartTable() { Clear(); }
  // The part's number; a part not seen before is numbered and queued as fresh.
  uint32_t Intern(std::string_view part) {
    auto it = index_.find(absl::string_view(part.data(), part.size()));
    if (it != index_.end()) return it->second;
    const uint32_t id = static_cast<uint32_t>(index_.size());
    index_.emplace(std::string(part), id);
    fresh_.emplace_back(part);
    return id;
  }
  // Drops everything (outputs and parts wiped) when more than `keep` parts are held.
  void Trim(size_t keep) {
    if (index_.size() > keep) Clear();
  }
  void Clear() {
    for (auto& [part, id] : index_) Wipe(const_cast<std::string&>(part));
    index_.clear();
    for (std::string& f : fresh_) Wipe(f);
    fresh_.clear();
    Wipe(outputs_);
    outputs_.clear();
  }
  size_t size() const { return index_.size(); }
  std::vector<std::string>& fresh() { return fresh_; }
  std::string& outputs() { return outputs_; }  // 32 bytes per part, in part order
  const uint8_t* output(uint32_t id) const {
    return reinterpret_cast<const uint8_t*>(outputs_.data()) + size_t{id} * crypto::kDigestBytes;
  }

 private:
  absl::flat_hash_map<std::string, uint32_t> index_;
  std::vector<std::string> fresh_;  // parts numbered but not yet evaluated, in number order
  std::string outputs_;
};

void Tokeniser::LayOut(const Person& person, PartTable* table, std::vector<Laid>* tokens,
                       std::vector<uint32_t>* refs) const {
  thread_local std::vector<std::string_view> parts;
  std::vector<std::string> variants;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    v1::TokenRole role = v1::TOKEN_ROLE_UNSPECIFIED;
    if (rule.probe_when_missing != v1::FIELD_UNSPECIFIED) {
      role = person.Has(rule.probe_when_missing) ? v1::TOKEN_ROLE_ANCHOR : v1::TOKEN_ROLE_PROBE;
    }
    bool present = true;
    for (v1::Field f : rule.fields) present = present && person.Has(f);
    if (!present) continue;
    variants.clear();
    if (rule.multi != v1::FIELD_UNSPECIFIED) {
      const std::string& base = person.Get(rule.multi);
      variants = rule.multi == v1::FIELD_NAME_DELETIONS ? NameDeletionPairs(base) : DeletionNeighbourhood(base);
    } else {
      variants.emplace_back();  // one token, no value replaced
    }
    for (const std::string& variant : variants) {
      if (rule.multi != v1::FIELD_UNSPECIFIED && variant.empty()) continue;
      const uint32_t first = static_cast<uint32_t>(refs->size());
      for (v1::Field f : rule.fields) {
        const std::string_view value = f == rule.multi ? std::string_view(variant) : std::string_view(person.Get(f));
        SplitParts(value, &parts);
        refs->push_back(kFieldMark | (static_cast<uint32_t>(f) & 0xff) << 16 | static_cast<uint32_t>(parts.size()));
        for (std::string_view part : parts) refs->push_back(table->Intern(part));
      }
      tokens->push_back({static_cast<uint32_t>(i), role, first, static_cast<uint32_t>(refs->size())});
    }
    for (std::string& v : variants) Wipe(v);
  }
}

absl::Status Tokeniser::EvaluateFresh(PartTable* table) const {
  std::vector<std::string>& fresh = table->fresh();
  if (fresh.empty()) return absl::OkStatus();
  std::vector<std::string> inputs;
  inputs.reserve(fresh.size());
  for (std::string& part : fresh) {
    inputs.push_back(OracleInput(part));
    Wipe(part);
  }
  fresh.clear();
  std::string outputs(inputs.size() * crypto::kDigestBytes, '\0');
  // Runs of inputs taken in order by up to kOracleCalls workers, so that the node blinds
  // and unblinds one run while the key service evaluates another: at most
  // max_inputs_per_call inputs a run, and at least four runs when there are enough inputs
  // (kMinInputsPerCall each), so that both workers have work.
  constexpr size_t kOracleCalls = 2;
  const size_t per_call = std::clamp<size_t>((inputs.size() + 2 * kOracleCalls - 1) / (2 * kOracleCalls),
                                             std::min(kMinInputsPerCall, std::max<size_t>(1, oracle_->max_inputs_per_call())),
                                             std::max<size_t>(1, oracle_->max_inputs_per_call()));
  std::mutex mu;
  size_t next = 0;
  absl::Status failed;
  auto work = [&] {
    std::vector<std::string_view> views;
    while (true) {
      size_t first = 0, last = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.ok() || next >= inputs.size()) return;
        first = next;
        last = next = std::min(inputs.size(), first + per_call);
      }
      views.assign(inputs.begin() + first, inputs.begin() + last);
      absl::StatusOr<std::string> got = oracle_->Evaluate(views);
      if (got.ok() && got->size() != views.size() * crypto::kDigestBytes) {
        got = absl::InternalError("the key service answered with the wrong number of outputs");
      }
      if (!got.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (failed.ok()) failed = got.status();
        return;
      }
      std::memcpy(outputs.data() + first * crypto::kDigestBytes, got->data(), got->size());
      Wipe(*got);
    }
  };
  std::vector<std::thread> helpers;
  for (size_t i = 1; i < kOracleCalls && i * per_call < inputs.size(); ++i) helpers.emplace_back(work);
  work();
  for (std::thread& t : helpers) t.join();
  for (std::string& in : inputs) Wipe(in);
  if (!failed.ok()) {
    Wipe(outputs);
    return failed;
  }
  table->outputs().append(outputs);
  Wipe(outputs);
  return absl::OkStatus();
}

absl::Status Tokeniser::TokeniseBatch(const std::vector<const Person*>& persons,
                                      const std::vector<std::string*>& packed) const {
  if (persons.size() != packed.size()) {
    return absl::InvalidArgumentError("TokeniseBatch: one output per person is needed");
  }
  if (oracle_ == nullptr) {
    for (size_t i = 0; i < persons.size(); ++i) Tokenise(*persons[i], packed[i]);
    return absl::OkStatus();
  }
  // Every distinct value part of the batch is evaluated once, however many records, rules
  // and fields share it (the same person in several records, a name under several rules,
  // common names, dates and postcode areas). The key service evaluates, and counts,
  // distinct parts only; it learns how many there are, nothing about which.
  PartTable table;
  std::vector<Laid> tokens;
  std::vector<uint32_t> refs;
  std::vector<size_t> ends;  // per record of the window: one past its last token
  std::string message, entries;
  for (size_t window = 0; window < persons.size(); window += kDedupWindowRecords) {
    const size_t window_end = std::min(persons.size(), window + kDedupWindowRecords);
    table.Trim(kMaxKeptValueOutputs);
    tokens.clear();
    refs.clear();
    ends.clear();
    for (size_t r = window; r < window_end; ++r) {
      LayOut(*persons[r], &table, &tokens, &refs);
      ends.push_back(tokens.size());
    }
    RETURN_IF_ERROR(EvaluateFresh(&table));
    size_t k = 0;
    for (size_t r = window; r < window_end; ++r) {
      entries.clear();
      for (; k < ends[r - window]; ++k) {
        const Laid& t = tokens[k];
        message.clear();
        message.push_back(static_cast<char>(epoch_ >> 24));
        message.push_back(static_cast<char>(epoch_ >> 16));
        message.push_back(static_cast<char>(epoch_ >> 8));
        message.push_back(static_cast<char>(epoch_));
        message.append(labels_[t.rule]);
        message.push_back('\0');
        for (uint32_t e = t.first; e < t.end; ++e) {
          const uint32_t ref = refs[e];
          if (ref & kFieldMark) {
            message.push_back(static_cast<char>((ref >> 16) & 0xff));
            message.push_back(static_cast<char>((ref >> 8) & 0xff));
            message.push_back(static_cast<char>(ref & 0xff));
          } else {
            message.append(reinterpret_cast<const char*>(table.output(ref)), crypto::kDigestBytes);
          }
        }
        const std::string token = crypto::Digest(kOprfTokenDomain, message);
        model::AppendPackedToken(t.rule, t.role, reinterpret_cast<const uint8_t*>(token.data()), &entries);
      }
      packed[r]->append(entries);
    }
    Wipe(message);
  }
  return absl::OkStatus();
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
