#include "common/version.h"

#include <iostream>
#include <string_view>

#include "samenzicht_commit.inc"  // generated at build time: SAMENZICHT_GIT_COMMIT

namespace samenzicht::cli {

std::string VersionLine(const std::string& program) {
  return program + " (Samenzicht) " SAMENZICHT_VERSION ", commit " SAMENZICHT_GIT_COMMIT;
}

bool PrintVersionIfAsked(int argc, char** argv, const std::string& program) {
  if (argc < 2) return false;
  const std::string_view a = argv[1];
  if (a != "--version" && a != "version") return false;
  std::cout << VersionLine(program) << "\n";
  return true;
}

}  // namespace samenzicht::cli
