// A calendar month (UTC) as the project stores and shows it: the number YYYYMM (202403),
// with 0 meaning "no month" (unknown, not set). Written "2024-03".
//
//   Month m = Month::OfUnixMs(now_ms);          // 2024-03
//   m.Text();                                   // "2024-03"
//   m.Plus(-24).yyyymm();                       // 202203
//   absl::StatusOr<Month> f = Month::Parse("2024-03");
//
// Thread-safety: a value type; the functions are pure (Now reads the clock).
#ifndef SAMENZICHT_COMMON_MONTH_H_
#define SAMENZICHT_COMMON_MONTH_H_

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace samenzicht {

class Month {
 public:
  constexpr Month() = default;  // no month (0)
  // `yyyymm` as it is, unchecked (IsValid says whether it is a month).
  constexpr explicit Month(uint32_t yyyymm) : yyyymm_(yyyymm) {}

  // "YYYY-MM" or "YYYYMM" (dashes are ignored) of a valid month; "" is no month. nullopt
  // for anything else.
  static std::optional<Month> Parse(std::string_view text);
  // The month (UTC) of a Unix time in milliseconds or seconds.
  static Month OfUnixMs(int64_t time_ms);
  static Month OfUnixSeconds(int64_t time_s);
  // The current month (UTC).
  static Month Now();

  constexpr uint32_t yyyymm() const { return yyyymm_; }
  constexpr bool none() const { return yyyymm_ == 0; }
  constexpr uint32_t year() const { return yyyymm_ / 100; }
  constexpr uint32_t month() const { return yyyymm_ % 100; }
  // No month, or year 1900-2999 and month 1-12.
  constexpr bool IsValid() const {
    return yyyymm_ == 0 || (year() >= 1900 && year() <= 2999 && month() >= 1 && month() <= 12);
  }

  // "YYYY-MM" (the year with at least four digits); "" for no month.
  std::string Text() const;
  // `months` later (earlier when negative); no month stays no month, and a month before
  // year 0 is no month.
  Month Plus(int64_t months) const;
  // The first second of the month (UTC) as a Unix time; 0 for no month.
  int64_t StartUnix() const;

  friend constexpr auto operator<=>(Month a, Month b) = default;

 private:
  uint32_t yyyymm_ = 0;
};

}  // namespace samenzicht

#endif  // SAMENZICHT_COMMON_MONTH_H_
