#include "aggregator/server/rate_limit.h"

#include <algorithm>

namespace samenzicht::aggregator {

RateLimiter::RateLimiter(uint32_t reports_per_second, uint32_t burst)
    : rate_(reports_per_second),
      burst_(burst != 0 ? burst : std::max<uint32_t>(1, reports_per_second)) {}

bool RateLimiter::Pace(const std::string& agency, uint32_t reports) {
  std::unique_lock<std::mutex> l(mu_);
  if (shutdown_) return false;
  if (rate_ <= 0) return true;
  const auto now = std::chrono::steady_clock::now();
  auto [it, fresh] = buckets_.try_emplace(agency, Bucket{burst_, now});
  Bucket& b = it->second;
  b.tokens = std::min(burst_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
  b.last = now;
  b.tokens -= std::max<uint32_t>(1, reports);
  if (b.tokens >= 0) return true;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(-b.tokens / rate_));
  delayed_ += wait;
  // The debt is paid by time passing; `last` stays, so the refill above accounts for it.
  return !cv_.wait_for(l, wait, [&] { return shutdown_; });
}

std::chrono::milliseconds RateLimiter::total_delay() const {
  std::lock_guard<std::mutex> l(mu_);
  return delayed_;
}

void RateLimiter::Shutdown() {
  std::lock_guard<std::mutex> l(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

}  // namespace samenzicht::aggregator
