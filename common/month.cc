#include "common/month.h"

#include <chrono>
#include <ctime>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace samenzicht {

std::optional<Month> Month::Parse(std::string_view text) {
  if (text.empty()) return Month();
  std::string digits;
  for (char c : text) {
    if (c != '-') digits += c;
  }
  uint32_t m = 0;
  if (digits.size() != 6 || !absl::SimpleAtoi(digits, &m) || m == 0 || !Month(m).IsValid()) {
    return std::nullopt;
  }
  return Month(m);
}

Month Month::OfUnixSeconds(int64_t time_s) {
  std::time_t t = static_cast<std::time_t>(time_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return Month(static_cast<uint32_t>((tm.tm_year + 1900) * 100 + tm.tm_mon + 1));
}

Month Month::OfUnixMs(int64_t time_ms) { return OfUnixSeconds(time_ms / 1000); }

Month Month::Now() {
  return OfUnixSeconds(
      static_cast<int64_t>(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

std::string Month::Text() const {
  if (none()) return "";
  return absl::StrFormat("%04d-%02d", year(), month());
}

Month Month::Plus(int64_t months) const {
  if (none()) return Month();
  int64_t index = static_cast<int64_t>(year()) * 12 + (static_cast<int64_t>(month()) - 1);
  index += months;
  if (index < 0) return Month();
  return Month(static_cast<uint32_t>((index / 12) * 100 + index % 12 + 1));
}

int64_t Month::StartUnix() const {
  if (none()) return 0;
  std::tm tm{};
  tm.tm_year = static_cast<int>(year()) - 1900;
  tm.tm_mon = static_cast<int>(month()) - 1;
  tm.tm_mday = 1;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace samenzicht
