// Speed of the multiple systems estimate with the default settings (method auto, 1000 BCa
// replicates with the model choice redone, profile interval, 2 threads) on the reference
// tables in tests/estimate/testdata and on simulated tables of 6 to 8 lists.
// Prints wall-clock and CPU seconds per table; never fails on the figures.
//
//   mse_speed [--threads T] [--replicates B] [--lists 6,7,8] [--persons N]
#include <chrono>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "estimate/capture_table.h"
#include "estimate/estimate.h"
#include "common/version.h"

namespace samenzicht::estimate {
namespace {

// Persons of `population` with list capture probabilities 0.06-0.15, a list pair sharing
// referrals (1:2), a dependent pair (3:4) and two catchability classes (heterogeneity).
absl::StatusOr<CaptureTable> Simulated(int lists, int population, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int64_t> counts(size_t{1} << lists, 0);
  for (int person = 0; person < population; ++person) {
    const double visibility = u(rng) < 0.3 ? 1.8 : 0.8;
    Mask h = 0;
    for (int i = 0; i < lists; ++i) {
      if (u(rng) < visibility * (0.06 + 0.03 * (i % 4))) h |= Mask{1} << i;
    }
    if ((h & 1) && u(rng) < 0.4) h |= 2;  // referred from list 1 to list 2
    if ((h & 4) && u(rng) < 0.2) h |= 8;
    ++counts[h];
  }
  counts[0] = 0;
  return CaptureTable::FromCounts(lists, counts);
}

double CpuSeconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

int Run(const std::string& name, const CaptureTable& table, const EstimateOptions& o) {
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds();
  absl::StatusOr<EstimateResult> r = Estimate(table, o);
  const double cpu = CpuSeconds() - cpu0;
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  if (!r.ok()) {
    std::cerr << name << ": error: " << r.status().message() << "\n";
    return 1;
  }
  std::cout << absl::StrFormat(
      "%-22s %d lists %6d seen  %-8s %-28s N-hat %9.1f  [%s, %s]  %6.1f s wall %6.1f s CPU\n",
      name, r->num_lists, r->observed, SelectionMethodName(r->method), r->model,
      r->estimate.value_or(NAN),
      r->interval ? absl::StrFormat("%.0f", r->interval->lower) : "-",
      r->interval ? absl::StrFormat("%.0f", r->interval->upper) : "-", wall, cpu);
  return 0;
}

int Main(int argc, char** argv) {
  EstimateOptions o;  // the defaults
  std::vector<int> lists = {6, 7, 8};
  int persons = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], v = argv[i + 1];
    bool ok = true;
    if (flag == "--threads") {
      ok = absl::SimpleAtoi(v, &o.threads) && o.threads >= 1;
    } else if (flag == "--replicates") {
      ok = absl::SimpleAtoi(v, &o.replicates) && o.replicates >= 10;
    } else if (flag == "--persons") {
      ok = absl::SimpleAtoi(v, &persons) && persons >= 10;
    } else if (flag == "--lists") {
      lists.clear();
      for (absl::string_view part : absl::StrSplit(v, ',')) {
        int k = 0;
        ok = ok && absl::SimpleAtoi(part, &k) && k >= kMinLists && k <= kMaxLists;
        lists.push_back(k);
      }
    } else {
      ok = false;
    }
    if (!ok) {
      std::cerr << "usage: mse_speed [--threads T] [--replicates B] [--lists 6,7,8] "
                   "[--persons N]\n";
      return 2;
    }
  }
  std::cout << absl::StrFormat("mse_speed: default settings, %d replicates, %d threads\n",
                               o.replicates, o.threads);
  int rc = 0;
  for (const char* file : {"Korea.csv", "UKdat_5.csv"}) {
    absl::StatusOr<CaptureTable> t =
        CaptureTable::ReadCsvFile(std::string(MSE_TESTDATA_DIR) + "/" + file);
    if (!t.ok()) {
      std::cerr << t.status().message() << "\n";
      return 1;
    }
    rc |= Run(file, *t, o);
  }
  for (int k : lists) {
    absl::StatusOr<CaptureTable> t = Simulated(k, persons, 100 + k);
    if (!t.ok()) {
      std::cerr << t.status().message() << "\n";
      return 1;
    }
    rc |= Run(absl::StrFormat("simulated %d lists", k), *t, o);
  }
  return rc;
}

}  // namespace
}  // namespace samenzicht::estimate

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "mse_speed")) return 0;
  return samenzicht::estimate::Main(argc, argv);
}
