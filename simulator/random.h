// A small deterministic random number generator for the simulator.
//
// The standard library's distributions are implementation-defined, so the same seed could
// give another population with another standard library. Everything here is specified
// bit for bit: SplitMix64 for the stream, plain arithmetic for the draws.
//
//   Rng rng = Rng::For(seed, "population");   // independent stream per purpose
//   int age = rng.Between(13, 17);
//   if (rng.Bernoulli(0.3)) ...
//
// Not thread-safe; cheap to copy (8 bytes of state).
#ifndef SAMENZICHT_SIMULATOR_RANDOM_H_
#define SAMENZICHT_SIMULATOR_RANDOM_H_

#include <cmath>
#include <cstdint>
#include <string_view>
#include <vector>

namespace samenzicht::simulator {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // A stream derived from `seed` and a purpose label and up to three numbers, so that
  // adding draws for one purpose never shifts the draws of another.
  static Rng For(uint64_t seed, std::string_view purpose, uint64_t a = 0, uint64_t b = 0,
                 uint64_t c = 0) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the label
    for (unsigned char ch : purpose) h = (h ^ ch) * 1099511628211ull;
    Rng r(seed ^ h);
    uint64_t s = r.Next() ^ Mix(a + 0x9e37ull);
    s = Mix(s ^ Mix(b + 0x7f4aull));
    s = Mix(s ^ Mix(c + 0x3c6eull));
    return Rng(s);
  }

  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    return Mix(z);
  }

  // Uniform in [0, 1).
  double Real() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n); n > 0.
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Real() * static_cast<double>(n)); }
  // Uniform in [lo, hi].
  int Between(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Bernoulli(double p) { return Real() < p; }
  // Standard normal (Box-Muller).
  double Normal() {
    double u1 = Real(), u2 = Real();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // An index drawn with probability proportional to `weights` (all >= 0, sum > 0).
  size_t Weighted(const std::vector<double>& weights) {
    double total = 0;
    for (double w : weights) total += w;
    double x = Real() * total;
    for (size_t i = 0; i < weights.size(); ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return weights.size() - 1;
  }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }

 private:
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

}  // namespace samenzicht::simulator

#endif  // SAMENZICHT_SIMULATOR_RANDOM_H_
