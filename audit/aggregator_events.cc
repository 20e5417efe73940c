#include "audit/aggregator_events.h"

#include <ctime>

#include "absl/strings/str_format.h"

namespace samenzicht::aggregator {

std::string MonthText(uint32_t yyyymm) {
  if (yyyymm == 0) return "";
  return absl::StrFormat("%04d-%02d", yyyymm / 100, yyyymm % 100);
}

uint32_t MonthOfMs(int64_t time_ms) {
  std::time_t t = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return static_cast<uint32_t>((tm.tm_year + 1900) * 100 + tm.tm_mon + 1);
}

}  // namespace samenzicht::aggregator
