// The hidden-number estimates the query layer has computed, bounded: one bootstrap (about
// 1000 replicates) is slow, so an answer is kept per store generation and period, but
//  - only estimates of the newest store generation are kept (older ones are dropped when
//    one of a newer generation is added), at most `max_entries` of them (the oldest
//    period key goes first), and
//  - at most one estimate is computed at a time: a request that finds another being
//    computed is answered at once with an unavailable estimate saying so (not cached),
//    instead of queueing a thread behind it.
//
//   EstimateCache cache;
//   v1::HiddenNumberEstimate e = cache.Get({generation, from, to}, [&] { return Slow(); });
//
// Thread-safe.
#ifndef SAMENZICHT_AGGREGATOR_QUERY_ESTIMATE_CACHE_H_
#define SAMENZICHT_AGGREGATOR_QUERY_ESTIMATE_CACHE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <tuple>

#include "samenzicht/v1/query.pb.h"

namespace samenzicht::aggregator {

class EstimateCache {
 public:
  using Key = std::tuple<uint64_t, uint32_t, uint32_t>;  // store generation, from, to
  static constexpr size_t kDefaultMaxEntries = 32;
  static constexpr char kBusyReason[] =
      "the estimate is being computed for another request; ask again in a minute";

  explicit EstimateCache(size_t max_entries = kDefaultMaxEntries)
      : max_entries_(max_entries == 0 ? 1 : max_entries) {}

  v1::HiddenNumberEstimate Get(const Key& key,
                               const std::function<v1::HiddenNumberEstimate()>& compute) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(key);
      if (it != entries_.end()) return it->second;
    }
    std::unique_lock<std::mutex> computing(computing_, std::try_to_lock);
    if (!computing.owns_lock()) {
      v1::HiddenNumberEstimate busy;
      busy.set_available(false);
      busy.set_reason(kBusyReason);
      return busy;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);  // computed meanwhile by the previous holder?
      auto it = entries_.find(key);
      if (it != entries_.end()) return it->second;
    }
    v1::HiddenNumberEstimate e = compute();
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t generation = std::get<0>(key);
    for (auto it = entries_.begin(); it != entries_.end();) {
      it = std::get<0>(it->first) < generation ? entries_.erase(it) : std::next(it);
    }
    while (entries_.size() >= max_entries_) entries_.erase(entries_.begin());
    entries_.emplace(key, e);
    return e;
  }

  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return entries_.size();
  }

 private:
  const size_t max_entries_;
  mutable std::mutex mu_;
  std::mutex computing_;
  std::map<Key, v1::HiddenNumberEstimate> entries_;  // guarded by mu_
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_QUERY_ESTIMATE_CACHE_H_
