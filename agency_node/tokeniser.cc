#include "agency_node/tokeniser.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_map.h"
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

std::string Tokeniser::OracleInput(size_t rule, std::string_view message) const {
  std::string in(kOprfTokenPurpose);
  in.push_back('\0');
  in.push_back(static_cast<char>(epoch_ >> 24));
  in.push_back(static_cast<char>(epoch_ >> 16));
  in.push_back(static_cast<char>(epoch_ >> 8));
  in.push_back(static_cast<char>(epoch_));
  in += labels_[rule];
  in.push_back('\0');
  in.append(message);
  return in;
}

void Tokeniser::Inputs(const Person& person, std::vector<Pending>* out) const {
  std::vector<std::string> messages;
  for (size_t i = 0; i < rules_.size(); ++i) {
    const Rule& rule = rules_[i];
    v1::TokenRole role = v1::TOKEN_ROLE_UNSPECIFIED;
    if (rule.probe_when_missing != v1::FIELD_UNSPECIFIED) {
      role = person.Has(rule.probe_when_missing) ? v1::TOKEN_ROLE_ANCHOR : v1::TOKEN_ROLE_PROBE;
    }
    Messages(rule, person, &messages);
    for (std::string& m : messages) {
      out->push_back({static_cast<uint32_t>(i), role, OracleInput(i, m)});
      std::fill(m.begin(), m.end(), '\0');
    }
  }
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
  const size_t per_call = std::max<size_t>(1, oracle_->max_inputs_per_call());
  // Windows of records: every token input of a window is evaluated once, however many of
  // its records share it (the same person in several records, common values under the
  // coarser rules). The key service then evaluates, and counts, distinct inputs only;
  // it learns how many of a window's inputs are distinct, nothing about which.
  constexpr size_t kOracleCalls = 2;
  for (size_t window = 0; window < persons.size(); window += kDedupWindowRecords) {
    const size_t window_end = std::min(persons.size(), window + kDedupWindowRecords);
    std::vector<Pending> pending;
    std::vector<size_t> ends;  // per record: one past its last input
    for (size_t r = window; r < window_end; ++r) {
      Inputs(*persons[r], &pending);
      ends.push_back(pending.size());
    }
    std::vector<uint32_t> slot(pending.size());  // input -> its distinct input
    std::vector<std::string_view> distinct;
    {
      absl::flat_hash_map<std::string_view, uint32_t> index;
      index.reserve(pending.size());
      for (size_t k = 0; k < pending.size(); ++k) {
        auto [it, fresh] = index.try_emplace(pending[k].input, static_cast<uint32_t>(distinct.size()));
        if (fresh) distinct.push_back(pending[k].input);
        slot[k] = it->second;
      }
    }
    // Runs of up to per_call distinct inputs, taken in order by up to kOracleCalls
    // workers, so that the node blinds and unblinds one run while the key service
    // evaluates another.
    std::string tokens(distinct.size() * crypto::kTokenBytes, '\0');
    std::mutex mu;
    size_t next = 0;
    absl::Status failed;
    auto work = [&] {
      std::vector<std::string_view> views;
      while (true) {
        size_t first = 0, last = 0;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!failed.ok() || next >= distinct.size()) return;
          first = next;
          last = next = std::min(distinct.size(), first + per_call);
        }
        views.assign(distinct.begin() + first, distinct.begin() + last);
        absl::StatusOr<std::string> got = oracle_->Tokens(views);
        if (got.ok() && got->size() != views.size() * crypto::kTokenBytes) {
          got = absl::InternalError("the key service answered with the wrong number of tokens");
        }
        if (!got.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (failed.ok()) failed = got.status();
          return;
        }
        std::memcpy(tokens.data() + first * crypto::kTokenBytes, got->data(), got->size());
        std::fill(got->begin(), got->end(), '\0');
      }
    };
    std::vector<std::thread> helpers;
    for (size_t i = 1; i < kOracleCalls && i * per_call < distinct.size(); ++i) helpers.emplace_back(work);
    work();
    for (std::thread& t : helpers) t.join();
    distinct.clear();
    for (Pending& p : pending) std::fill(p.input.begin(), p.input.end(), '\0');
    if (!failed.ok()) {
      std::fill(tokens.begin(), tokens.end(), '\0');
      return failed;
    }
    size_t k = 0;
    for (size_t r = window; r < window_end; ++r) {
      std::string entries;
      for (; k < ends[r - window]; ++k) {
        model::AppendPackedToken(pending[k].rule, pending[k].role,
                                 reinterpret_cast<const uint8_t*>(tokens.data()) + slot[k] * crypto::kTokenBytes,
                                 &entries);
      }
      packed[r]->append(entries);
    }
    std::fill(tokens.begin(), tokens.end(), '\0');
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
