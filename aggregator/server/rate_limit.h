// Reports per second per agency, as backpressure: a token bucket per agency that may go
// into debt. After a batch of `n` reports is committed and acknowledged, the intake
// service calls Pace(agency, n); when that agency's bucket is in debt, Pace sleeps until
// it is paid back before the service reads the agency's next batch. A fast node is slowed
// down (its gRPC flow control fills up) and never refused; other agencies are not delayed.
//
//   RateLimiter limiter(/*reports_per_second=*/200, /*burst=*/400);
//   while (stream->Read(&req)) { ...commit, ack...; if (!limiter.Pace(agency, n)) break; }
//   limiter.Shutdown();   // wakes every Pace: the server is stopping
//
// A rate of 0 disables the limit (Pace returns at once).
//
// Thread-safety: thread-safe.
#ifndef SAMENZICHT_AGGREGATOR_SERVER_RATE_LIMIT_H_
#define SAMENZICHT_AGGREGATOR_SERVER_RATE_LIMIT_H_

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace samenzicht::aggregator {

class RateLimiter {
 public:
  // `burst` 0 means max(1, reports_per_second).
  RateLimiter(uint32_t reports_per_second, uint32_t burst);

  // Charges `reports` (at least 1) to `agency` and sleeps while its bucket is in debt.
  // Returns false when Shutdown was called (the caller should stop reading).
  bool Pace(const std::string& agency, uint32_t reports);
  // Total time Pace has slept, over all agencies (for logs and tests).
  std::chrono::milliseconds total_delay() const;
  void Shutdown();

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point last;
  };
  const double rate_;
  const double burst_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Bucket> buckets_;
  std::chrono::milliseconds delayed_{0};
  bool shutdown_ = false;
};

}  // namespace samenzicht::aggregator

#endif  // SAMENZICHT_AGGREGATOR_SERVER_RATE_LIMIT_H_
