// Standalone `mse-estimate`: the `aggregator estimate` sub-command on its own.
#include "estimate/estimate_command.h"
#include "common/version.h"

int main(int argc, char** argv) {
  if (samenzicht::cli::PrintVersionIfAsked(argc, argv, "mse-estimate")) return 0;
  // RunEstimateCommand expects argv[0] to be the sub-command name.
  return samenzicht::estimate::RunEstimateCommand(argc, argv);
}
