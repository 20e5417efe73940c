// Standalone `mse-estimate`: the `aggregator estimate` sub-command on its own.
#include "estimate/estimate_command.h"
#include "common/version.h"

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "mse-estimate")) return 0;
  // RunEstimateCommand skips argv[0] (the sub-command's name under `aggregator`).
  return samenzicht::estimate::RunEstimateCommand(argc, argv, "mse-estimate");
}
