// The delivery building blocks in isolation: backoff with jitter on the node, the
// per-agency token bucket on the aggregator.
#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "agency_node/daemon.h"
#include "aggregator/server/rate_limit.h"

namespace samenzicht {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, DoublesUpToTheMaximumWithJitterInTheUpperHalf) {
  agency_node::Backoff b(milliseconds(100), milliseconds(1000), 42);
  const int64_t expected_max[] = {100, 200, 400, 800, 1000, 1000, 1000};
  for (int64_t d : expected_max) {
    int64_t got = b.Next().count();
    EXPECT_GE(got, d / 2);
    EXPECT_LE(got, d);
  }
  b.Reset();
  EXPECT_LE(b.Next().count(), 100);
}

TEST(BackoffTest, JitterSpreadsNodesRestartedTogether) {
  agency_node::Backoff a(milliseconds(1000), milliseconds(1000), 1), b(milliseconds(1000), milliseconds(1000), 2);
  int same = 0;
  for (int i = 0; i < 20; ++i) same += a.Next() == b.Next();
  EXPECT_LT(same, 5);
}

TEST(RateLimiterTest, ZeroRateNeverWaits) {
  aggregator::RateLimiter l(0, 0);
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(l.Pace("police", 1000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(100));
}

TEST(RateLimiterTest, DebtIsPaidByWaitingAndOtherAgenciesAreNotDelayed) {
  aggregator::RateLimiter l(1000, 100);  // 1000 reports/s, burst 100
  EXPECT_TRUE(l.Pace("police", 100));    // the burst: no wait
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(l.Pace("police", 200));    // 200 in debt -> about 200 ms
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, milliseconds(150));
  EXPECT_LT(waited, milliseconds(1000));
  t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(l.Pace("zorg", 50));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(50));
  EXPECT_GE(l.total_delay(), milliseconds(150));
}

TEST(RateLimiterTest, ShutdownWakesAWaitingStream) {
  aggregator::RateLimiter l(1, 1);
  EXPECT_TRUE(l.Pace("police", 1));
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(100));
    l.Shutdown();
  });
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(l.Pace("police", 1000));  // would wait ~17 minutes
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(2000));
  stopper.join();
  EXPECT_FALSE(l.Pace("zorg", 1));
}

}  // namespace
}  // namespace samenzicht
