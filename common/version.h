// `PROGRAM --version`: the project version and the git commit the binary was built from.
#ifndef SAMENZICHT_COMMON_VERSION_H_
#define SAMENZICHT_COMMON_VERSION_H_

#include <string>

namespace samenzicht::cli {

// "PROGRAM (Samenzicht) 0.9.0, commit 1a2b3c4d5e6f": "-modified" follows the commit when
// the build had uncommitted changes, "unknown" when it was not built from a git checkout.
std::string VersionLine(const std::string& program);

// True when argv[1] is --version (or `version`); then prints VersionLine to stdout.
bool PrintVersionIfAsked(int argc, char** argv, const std::string& program);

}  // namespace samenzicht::cli

#endif  // SAMENZICHT_COMMON_VERSION_H_
