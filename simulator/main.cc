// simulator: a synthetic municipality's victims and the agencies' CSV exports about them.
// Flags and wiring only; see simulator/simulator.h.
#include <cstdint>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/cli.h"
#include "common/version.h"
#include "common/status_macros.h"
#include "simulator/simulator.h"

namespace {

using samenzicht::simulator::SimulatorOptions;

absl::Status Main(int argc, char** argv) {
  samenzicht::cli::Command cmd(
      "simulator",
      "Generate a synthetic population of victims, the agencies' CSV exports of signals "
      "about them, and the ground truth (truth.csv, population.csv, histories.csv, "
      "summary.json).");
  cmd.Flag("out", "DIR", "folder to write the files into (created if needed)", true)
      .Flag("persons", "N", "true population size, including persons no agency sees (default 800)")
      .Flag("agencies", "K", "number of agencies (default 6: police, youth_care, mental_health, "
                             "social_work, education, municipality)")
      .Flag("noise", "LEVEL", "none, light, moderate (default), heavy, or a published "
                              "model: geco, pseudopeople, splink, ons (below)")
      .Flag("seed", "S", "random seed (default 1); the output is a function of the flags")
      .Flag("start", "YYYY-MM", "first month of the observation period (default 2024-01)")
      .Flag("months", "M", "length of the observation period in months (default 24)")
      .Flag("geco-corrupted", "F", "noise geco: share of duplicate records that are corrupted "
                                   "(0 to 1; default 1, GeCo's example configuration)")
      .Flag("geco-modifications", "M", "noise geco: modifications per corrupted record, at most "
                                       "one per attribute (1 to 7; default 5)")
      .Flag("name-frequencies", "F", "how given names and surnames are drawn: uniform "
                                     "(default: every name in the lists equally often) or "
                                     "zipf (heavy-tailed, a few common names and a long tail "
                                     "of rare surnames)")
      .Switch("rates", "also print the measured corruption per identifier field (changed / "
                       "blank vs. the clean identifiers)");
  ASSIGN_OR_RETURN(auto args, cmd.Parse(argc, argv));
  if (args.help) {
    std::cout << cmd.Usage()
              << "\nnoise levels (--noise):\n"
                 "  none          canonical identifiers, identical across agencies\n"
                 "  light         the simulator's own model at 0.3 x the moderate rates\n"
                 "  moderate      formats, nicknames, variants, 3% typos, missing fields\n"
                 "  heavy         the simulator's own model at 2.5 x the moderate rates\n"
                 "  geco          GeCo (Tran, Vatsalan & Christen 2013): first record clean, "
                 "others 5 modifications, max 1 per attribute\n"
                 "  pseudopeople  IHME pseudopeople defaults: 1% per cell per noise type, "
                 "10% per token (typos, OCR, phonetic)\n"
                 "  splink        Splink synthetic data: 1 clean + Zipf copies (<= 20 "
                 "records), dob/name corruptions per copy\n"
                 "  ons           ONS census/survey targets: forename 35%, surname 32%, "
                 "dob parts 13-15%; movers, duplicates, twins\n"
                 "  (the four published models also give 5% of persons a Belgian or German "
                 "address and phone)\n";
    return absl::OkStatus();
  }
  SimulatorOptions opt;
  auto integer = [&](const char* flag, int64_t lo, int64_t hi, int64_t fallback) -> absl::StatusOr<int64_t> {
    if (!args.Has(flag)) return fallback;
    int64_t v = 0;
    if (!absl::SimpleAtoi(args.Get(flag), &v) || v < lo || v > hi) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be an integer from ", lo, " to ", hi));
    }
    return v;
  };
  ASSIGN_OR_RETURN(int64_t persons, integer("persons", 1, 10'000'000, opt.persons));
  ASSIGN_OR_RETURN(int64_t agencies, integer("agencies", 1, 100, opt.agencies));
  ASSIGN_OR_RETURN(int64_t months, integer("months", 1, 600, opt.months));
  opt.persons = static_cast<int>(persons);
  opt.agencies = static_cast<int>(agencies);
  opt.months = static_cast<int>(months);
  ASSIGN_OR_RETURN(int64_t mods, integer("geco-modifications", 1, 7, opt.geco.modifications));
  opt.geco.modifications = static_cast<int>(mods);
  if (args.Has("geco-corrupted")) {
    double f = -1;
    if (!absl::SimpleAtod(args.Get("geco-corrupted"), &f) || !(f >= 0 && f <= 1)) {
      return absl::InvalidArgumentError("--geco-corrupted must be a number from 0 to 1");
    }
    opt.geco.corrupted_fraction = f;
  }
  if (args.Has("seed")) {
    if (!absl::SimpleAtoi(args.Get("seed"), &opt.seed)) {
      return absl::InvalidArgumentError("--seed must be a non-negative integer");
    }
  }
  if (args.Has("noise")) {
    ASSIGN_OR_RETURN(opt.noise, samenzicht::simulator::ParseNoise(args.Get("noise")));
  }
  if (args.Has("name-frequencies")) {
    ASSIGN_OR_RETURN(opt.name_frequencies,
                     samenzicht::simulator::ParseNameFrequencies(args.Get("name-frequencies")));
  }
  if (args.Has("start")) {
    ASSIGN_OR_RETURN(opt.start, samenzicht::simulator::ParseMonth(args.Get("start")));
  }
  ASSIGN_OR_RETURN(auto sim, samenzicht::simulator::Simulate(opt));
  RETURN_IF_ERROR(samenzicht::simulator::WriteSimulation(sim, args.Get("out")));
  std::cout << "persons " << sim.people.size() << ", signalled " << sim.SignalledPersons()
            << ", records " << sim.records.size() << ", agencies " << sim.agencies.size()
            << ", noise " << samenzicht::simulator::NoiseName(opt.noise) << " -> "
            << args.Get("out") << "\n";
  if (args.Has("rates")) std::cout << samenzicht::simulator::FormatCorruptionRates(sim);
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "simulator")) return 0;
  return samenzicht::cli::ExitWith(Main(argc, argv));
}
